// The bytes a client sends before and after login: XmlStreamParser must turn any of them into
// stanzas, a stream close or a stream error, whatever the chunking, without a crash, an
// out-of-bounds access or undefined behaviour, and every stanza it hands on must serialise to XML
// that parses back (xbnc forwards it upstream and to other sessions) unless it is a stream-level
// element.
//
// Input: the first byte picks the chunk size (1–64 bytes, so the incremental path is exercised)
// and, with its top bit, whether the stream restarts keeping unread bytes after an <auth/>, as a
// pipelining client's stream does after SASL success. The rest is the stream.
#include "quiet_qt_messages.h"
#include "xml_stream_parser.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using xbnc::Element;
using xbnc::XmlStreamParser;
using Kind = XmlStreamParser::Event::Kind;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    quietQtMessages();
    return 0;
}

namespace {

void requireReparses(const Element &stanza)
{
    // Stream-level elements (<stream:error/>…) never leave the stream: Downstream refuses any
    // top-level element that is not a client stanza, so they need not stand alone.
    if (stanza.xmlns() == u"http://etherx.jabber.org/streams")
        return;
    const QByteArray xml = stanza.toXml();
    QString error;
    if (Element::fromXml(xml, u"jabber:client", &error).isNull()) {
        std::fprintf(stderr, "stanza does not parse back (%s):\n%s\n", qPrintable(error),
                     xml.constData());
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const qsizetype chunk = (data[0] & 0x3f) + 1;
    const bool restartAfterAuth = data[0] & 0x80;
    const QByteArrayView stream(reinterpret_cast<const char *>(data) + 1, qsizetype(size) - 1);

    XmlStreamParser parser{XmlStreamParser::Limits{}};
    for (qsizetype at = 0; at < stream.size() && !parser.hasFailed(); at += chunk) {
        parser.feed(stream.sliced(at, std::min(chunk, stream.size() - at)));
        for (bool more = true; more;) {
            const XmlStreamParser::Event event = parser.next();
            switch (event.kind) {
            case Kind::Stanza:
                requireReparses(event.element);
                if (restartAfterAuth && event.element.name() == u"auth")
                    parser.restart(true);
                break;
            case Kind::StreamOpen:
                break;
            case Kind::NeedMoreData:
            case Kind::StreamClose:
            case Kind::Error:
                more = false;
                break;
            }
        }
    }
    return 0;
}
