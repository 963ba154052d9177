// Element is how every stanza travels through xbnc: what Element::fromXml accepts, appendXml must
// write so that it parses back to an equal Element, and writing that again gives the same bytes.
// A difference means a stanza changes (or breaks) on its way through the bouncer.
#include "element.h"
#include "quiet_qt_messages.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using xbnc::Element;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    quietQtMessages();
    return 0;
}

namespace {

[[noreturn]] void mismatch(const char *what, const QByteArray &first, const QByteArray &second)
{
    std::fprintf(stderr, "round trip: %s\nfirst:  %s\nsecond: %s\n", what, first.constData(),
                 second.constData());
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const Element parsed = Element::fromXml(input);
    if (parsed.isNull())
        return 0;
    QByteArray written;
    parsed.appendXml(written);
    QString error;
    const Element reparsed = Element::fromXml(written, u"jabber:client", &error);
    if (reparsed.isNull())
        mismatch(qPrintable(QStringLiteral("written XML does not parse: ") + error),
                 input.toByteArray(), written);
    const QByteArray rewritten = reparsed.toXml();
    if (!(reparsed == parsed))
        mismatch("the element changed", written, rewritten);
    if (rewritten != written)
        mismatch("the bytes changed", written, rewritten);
    return 0;
}
