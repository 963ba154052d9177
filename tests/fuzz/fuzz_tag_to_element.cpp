// The upstream hot path, differentially: every stanza gloox parses must become the same Element
// whether converted straight from gloox's tree (elementFromTag, what xbnc does) or serialised and
// parsed again (Element::fromXml(tag.xml()), what it did before and still does for the trees
// elementFromTag leaves alone). The bytes pass UpstreamNestingFilter first, as in xbnc, because
// gloox frees deep trees recursively.
#include "element.h"
#include "quiet_qt_messages.h"
#include "tag_to_element.h"
#include "upstream_nesting_filter.h"

#include <gloox/parser.h>
#include <gloox/tag.h>
#include <gloox/taghandler.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using xbnc::Element;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    quietQtMessages();
    return 0;
}

namespace {

constexpr int maxDepth = 64; // UpstreamLimits::maxDepth

class Comparison : public gloox::TagHandler
{
public:
    void handleTag(gloox::Tag *tag) override
    {
        if (!tag || tag->name() == "stream")
            return;
        const std::optional<Element> direct =
            xbnc::elementFromTag(*tag, u"jabber:client", maxDepth);
        if (!direct)
            return;
        const std::string xml = tag->xml();
        QString error;
        const Element parsed = Element::fromXml(QByteArrayView(xml.data(), qsizetype(xml.size())),
                                                u"jabber:client", &error, maxDepth);
        if (parsed.isNull())
            differ(("converted what the parser refuses: " + error.toStdString()).c_str(), xml,
                   *direct);
        if (!(parsed == *direct))
            differ("the elements differ", xml, *direct);
    }

private:
    [[noreturn]] static void differ(const char *what, const std::string &xml, const Element &direct)
    {
        std::fprintf(stderr, "%s\ngloox's xml(): %s\nconverted:     %s\n", what, xml.c_str(),
                     direct.toXml().constData());
        std::abort();
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Comparison comparison;
    gloox::Parser parser(&comparison);
    std::string header = "<stream:stream xmlns='jabber:client' "
                         "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
    bool failed = parser.feed(header) >= 0;
    xbnc::UpstreamNestingFilter nesting(maxDepth);
    nesting.feed(std::string_view(reinterpret_cast<const char *>(data), size),
                 [&](std::string_view bytes, bool) {
                     std::string piece(bytes); // gloox's feed() takes a mutable string
                     if (!failed)
                         failed = parser.feed(piece) >= 0;
                 });
    return 0;
}
