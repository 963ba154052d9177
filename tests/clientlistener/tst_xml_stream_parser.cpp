#include "xml_stream_parser.h"

#include <QTest>

using xbnc::XmlStreamParser;
using Kind = XmlStreamParser::Event::Kind;

namespace {

const QByteArray kHeader = "<?xml version='1.0'?><stream:stream to='example.com' version='1.0' "
                           "xml:lang='en' xmlns='jabber:client' "
                           "xmlns:stream='http://etherx.jabber.org/streams'>";
const QString kOpen = QStringLiteral("open to=example.com version=1.0 lang=en");

// Reads events until the parser wants more data (or fails), as a readable list.
void drain(XmlStreamParser &parser, QStringList &events)
{
    for (;;) {
        const XmlStreamParser::Event e = parser.next();
        switch (e.kind) {
        case Kind::NeedMoreData:
            return;
        case Kind::StreamOpen:
            events << QStringLiteral("open to=%1 version=%2 lang=%3")
                          .arg(e.element.attribute(u"to"), e.element.attribute(u"version"),
                               e.element.attribute(u"xml:lang"));
            break;
        case Kind::Stanza:
            events << QStringLiteral("stanza ") + QString::fromUtf8(e.element.toXml());
            break;
        case Kind::StreamClose:
            events << QStringLiteral("close");
            return;
        case Kind::Error:
            events << QStringLiteral("error ") + e.errorCondition;
            return;
        }
    }
}

QStringList parseChunks(const QList<QByteArray> &chunks, XmlStreamParser::Limits limits = {})
{
    XmlStreamParser parser(limits);
    QStringList events;
    for (const QByteArray &chunk : chunks) {
        parser.feed(chunk);
        drain(parser, events);
        if (parser.hasFailed())
            break;
    }
    return events;
}

// n distinct attributes, " a0='' a1='' …".
QByteArray manyAttributes(int n)
{
    QByteArray out;
    for (int i = 0; i < n; ++i)
        out += " a" + QByteArray::number(i) + "=''";
    return out;
}

} // namespace

class TestXmlStreamParser : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void events_data();
    void events();
    void limits_data();
    void limits();
    void headerLimit_data();
    void headerLimit();
    void tagLimits_data();
    void tagLimits();
    void attributeFloodRefusedBeforeQtParsesIt();
    void limitRaisedForBytesAlreadyFed();
    void restartKeepsBytesPastABrokenLimit();
    void peerTextStaysOutOfErrorText_data();
    void peerTextStaysOutOfErrorText();
    void restartAfterTls();
    void restartKeepsPipelinedBytes();
    void errorIsSticky();
    void invalidUtf8();
    void readerReleasedOnlyBetweenStanzas();
    void streamAcrossReleasesIsTheSame();
    void limitsHoldAfterARelease();
};

void TestXmlStreamParser::events_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QStringList>("expected");

    QTest::newRow("header only") << kHeader << QStringList{kOpen};
    QTest::newRow("header without xml declaration")
        << QByteArray("<stream:stream xmlns='jabber:client' "
                      "xmlns:stream='http://etherx.jabber.org/streams' to='x.org'>")
        << QStringList{QStringLiteral("open to=x.org version= lang=")};
    QTest::newRow("pipelined header and auth (Monal)")
        << kHeader +
               "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>"
        << QStringList{kOpen, "stanza <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                              "mechanism='PLAIN'>AGEAYg==</auth>"};
    QTest::newRow("stanzas, whitespace keepalive, close")
        << kHeader + "<message to='a@b'><body>h\xC3\xA9 &#x1F600; &amp;</body></message>\n \n"
                     "<presence/><iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>"
                     "</stream:stream>"
        << QStringList{kOpen,
                       "stanza <message to='a@b'><body>h\u00e9 \U0001F600 &amp;</body></message>",
                       "stanza <presence/>",
                       "stanza <iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>", "close"};
    QTest::newRow("explicit jabber:client on stanza")
        << kHeader + "<message xmlns='jabber:client'/>"
        << QStringList{kOpen, QStringLiteral("stanza <message/>")};
    // Prefixes declared on the stream header travel with each stanza that uses them, so the
    // stanza stays well-formed on its own upstream (issue #7 §2.11).
    const QByteArray prefixedHeader =
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
        "xmlns:o='urn:example:omemo' xmlns:unused='urn:example:unused' to='x.org'>";
    const QString prefixedOpen = QStringLiteral("open to=x.org version= lang=");
    QTest::newRow("header prefix on a payload element")
        << prefixedHeader + "<message><o:encrypted><o:payload>AA</o:payload></o:encrypted>"
                            "</message>"
        << QStringList{prefixedOpen,
                       "stanza <message xmlns:o='urn:example:omemo'><o:encrypted><o:payload>AA"
                       "</o:payload></o:encrypted></message>"};
    QTest::newRow("header prefix on an attribute")
        << prefixedHeader + "<message o:hint='1'/>"
        << QStringList{prefixedOpen, "stanza <message xmlns:o='urn:example:omemo' o:hint='1'/>"};
    QTest::newRow("the stream prefix itself inside a stanza")
        << prefixedHeader + "<message><stream:x/></message>"
        << QStringList{prefixedOpen, "stanza <message xmlns:stream='http://etherx.jabber.org/"
                                     "streams'><stream:x/></message>"};
    QTest::newRow("a prefix the stanza declares again is left alone")
        << prefixedHeader + "<message><o:x xmlns:o='urn:other'/></message>"
        << QStringList{prefixedOpen, "stanza <message><o:x xmlns:o='urn:other'/></message>"};
    QTest::newRow("malformed stanza")
        << kHeader + "<message><body></message>"
        << QStringList{kOpen, QStringLiteral("error not-well-formed")};
    QTest::newRow("undeclared entity")
        << kHeader + "<message><body>&nbsp;</body></message>"
        << QStringList{kOpen, QStringLiteral("error not-well-formed")};
    QTest::newRow("comment") << kHeader + "<!-- hi -->"
                             << QStringList{kOpen, QStringLiteral("error restricted-xml")};
    QTest::newRow("processing instruction")
        << kHeader + "<message><?evil x?></message>"
        << QStringList{kOpen, QStringLiteral("error restricted-xml")};
    QTest::newRow("dtd") << QByteArray("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]>") +
                                kHeader.mid(21)
                         << QStringList{QStringLiteral("error restricted-xml")};
    QTest::newRow("wrong stream namespace")
        << QByteArray("<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong'>")
        << QStringList{QStringLiteral("error invalid-namespace")};
    QTest::newRow("server namespace")
        << QByteArray("<stream:stream xmlns='jabber:server' "
                      "xmlns:stream='http://etherx.jabber.org/streams'>")
        << QStringList{QStringLiteral("error invalid-namespace")};
    QTest::newRow("text at stream level")
        << kHeader + "hello<presence/>"
        << QStringList{kOpen, QStringLiteral("error not-well-formed")};
}

void TestXmlStreamParser::events()
{
    QFETCH(QByteArray, input);
    QFETCH(QStringList, expected);

    QCOMPARE(parseChunks({input}), expected);
    // Every split point: the events must not depend on how TCP cut the bytes.
    for (qsizetype cut = 1; cut < input.size(); ++cut) {
        const QStringList got = parseChunks({input.left(cut), input.mid(cut)});
        if (got != expected)
            QFAIL(qPrintable(QStringLiteral("cut at %1: %2").arg(cut).arg(got.join(u" | "))));
    }
    QList<QByteArray> bytes;
    for (const char c : input)
        bytes << QByteArray(1, c);
    QCOMPARE(parseChunks(bytes), expected);
}

void TestXmlStreamParser::limits_data()
{
    QTest::addColumn<QByteArray>("stanza");
    QTest::addColumn<qsizetype>("maxBytes");
    QTest::addColumn<int>("maxDepth");
    QTest::addColumn<QString>("expected");

    const QByteArray exact = "<message><body>" + QByteArray(100, 'x') + "</body></message>";
    QTest::newRow("at the byte limit")
        << exact << exact.size() << 8 << QString::fromUtf8("stanza " + exact);
    QTest::newRow("one byte over")
        << exact << exact.size() - 1 << 8 << QStringLiteral("error policy-violation");
    // 40 two-byte characters: 80 bytes but only 40 characters.
    const QByteArray wide = "<message><body>" +
                            QByteArray(40 * 2, '\0').replace(QByteArray(2, '\0'), "\xC3\xA9") +
                            "</body></message>";
    QTest::newRow("multi-byte text counts bytes")
        << wide << wide.size() - 1 << 8 << QStringLiteral("error policy-violation");
    QTest::newRow("multi-byte text at the limit")
        << wide << wide.size() << 8 << QString::fromUtf8("stanza " + wide);
    const QByteArray huge = "<message><body>" + QByteArray(1 << 20, 'x');
    QTest::newRow("unterminated huge stanza")
        << huge << qsizetype(1000) << 8 << QStringLiteral("error policy-violation");
    QTest::newRow("huge open tag") << "<message a='" + QByteArray(5000, 'y') << qsizetype(1000) << 8
                                   << QStringLiteral("error policy-violation");
    QTest::newRow("depth at limit") << QByteArray("<a><b><c/></b></a>") << qsizetype(1000) << 3
                                    << QStringLiteral("stanza <a><b><c/></b></a>");
    QTest::newRow("too deep") << QByteArray("<a><b><c><d/></c></b></a>") << qsizetype(1000) << 3
                              << QStringLiteral("error policy-violation");
    QTest::newRow("very deep") << QByteArray("<a>").repeated(100000) << qsizetype(1 << 20) << 64
                               << QStringLiteral("error policy-violation");
}

void TestXmlStreamParser::limits()
{
    QFETCH(QByteArray, stanza);
    QFETCH(qsizetype, maxBytes);
    QFETCH(int, maxDepth);
    QFETCH(QString, expected);
    const XmlStreamParser::Limits limits{maxBytes, maxDepth};

    QCOMPARE(parseChunks({kHeader + stanza}, limits), (QStringList{kOpen, expected}));
    QCOMPARE(parseChunks({kHeader, stanza}, limits), (QStringList{kOpen, expected}));
    // Arriving in small reads must give the same verdict.
    QList<QByteArray> chunks{kHeader};
    for (qsizetype i = 0; i < stanza.size(); i += 7)
        chunks << stanza.mid(i, 7);
    QCOMPARE(parseChunks(chunks, limits), (QStringList{kOpen, expected}));
    // A second stanza of the same size after a small one is measured on its own.
    QCOMPARE(parseChunks({kHeader + "<presence/>" + stanza}, limits),
             (QStringList{kOpen, QStringLiteral("stanza <presence/>"), expected}));
}

void TestXmlStreamParser::headerLimit_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QStringList>("expected");
    const auto header = [](qsizetype padding) {
        return "<stream:stream xmlns='jabber:client' "
               "xmlns:stream='http://etherx.jabber.org/streams' to='x.org' pad='" +
               QByteArray(padding, 'p') + "'>";
    };
    // The stanza limit (here 100 KiB) does not apply to the header: it has its own, of 4 KiB.
    QTest::newRow("header under its limit")
        << header(3800) << QStringList{QStringLiteral("open to=x.org version= lang=")};
    QTest::newRow("header over its limit")
        << header(5000) << QStringList{QStringLiteral("error policy-violation")};
    QTest::newRow("unterminated header")
        << QByteArray("<stream:stream xmlns='jabber:client' a='") + QByteArray(50 * 1024, 'x')
        << QStringList{QStringLiteral("error policy-violation")};
    QTest::newRow("huge XML declaration")
        << QByteArray("<?xml version='1.0'") + QByteArray(50 * 1024, ' ')
        << QStringList{QStringLiteral("error policy-violation")};
}

void TestXmlStreamParser::headerLimit()
{
    QFETCH(QByteArray, input);
    QFETCH(QStringList, expected);
    XmlStreamParser::Limits limits;
    limits.maxStanzaBytes = 100 * 1024;
    QCOMPARE(parseChunks({input}, limits), expected);
    QList<QByteArray> chunks;
    for (qsizetype i = 0; i < input.size(); i += 1000)
        chunks << input.mid(i, 1000);
    QCOMPARE(parseChunks(chunks, limits), expected);
}

void TestXmlStreamParser::tagLimits_data()
{
    QTest::addColumn<QByteArray>("stanza");
    QTest::addColumn<QString>("expected");
    const QString refused = QStringLiteral("error policy-violation");

    const QByteArray at = "<message" + manyAttributes(64) + "/>";
    QTest::newRow("64 attributes") << at << QString::fromUtf8("stanza " + at);
    QTest::newRow("65 attributes") << "<message" + manyAttributes(65) + "/>" << refused;
    QTest::newRow("65 attributes on a child")
        << "<message><x" + manyAttributes(65) + "/></message>" << refused;
    QTest::newRow("namespace declarations count")
        << "<message xmlns:p='urn:p'" + manyAttributes(64) + "/>" << refused;
    // Quotes, '=' and '>' inside values, and tags inside CDATA, are not attributes.
    const QByteArray tricky = "<message a='x=y>z' b=\"'>'\"><body><![CDATA[<x" +
                              manyAttributes(100) + "/>]]]]></body></message>";
    QTest::newRow("values and CDATA are not attributes")
        << tricky
        << QString::fromUtf8("stanza " + xbnc::Element::fromXml(tricky, u"jabber:client").toXml());

    const QByteArray name256(256, 'n');
    const QByteArray name257(257, 'n');
    QTest::newRow("element name of 256 bytes")
        << "<" + name256 + "/>" << QString::fromUtf8("stanza <" + name256 + "/>");
    QTest::newRow("element name of 257 bytes") << "<" + name257 + "/>" << refused;
    QTest::newRow("attribute name of 257 bytes") << "<message " + name257 + "='1'/>" << refused;
    QTest::newRow("long prefix") << "<" + name257 + ":x xmlns:" + name257 + "='urn:x'/>" << refused;
    // Qt itself crashed on such a name once (CVE-2023-37369); Debian's Qt refuses 4,096 or more.
    QTest::newRow("very long prefixed name")
        << "<p:" + QByteArray(5000, 'n') + " xmlns:p='urn:x'/>" << refused;
    QTest::newRow("long end tag name") << "<message></" + name257 + ">" << refused;
}

void TestXmlStreamParser::tagLimits()
{
    QFETCH(QByteArray, stanza);
    QFETCH(QString, expected);
    const XmlStreamParser::Limits limits; // 64 attributes, 256 bytes a name

    QCOMPARE(parseChunks({kHeader + stanza}, limits), (QStringList{kOpen, expected}));
    QList<QByteArray> chunks{kHeader};
    for (qsizetype i = 0; i < stanza.size(); i += 3)
        chunks << stanza.mid(i, 3);
    QCOMPARE(parseChunks(chunks, limits), (QStringList{kOpen, expected}));
    // The stanzas before the offending one still come out.
    QCOMPARE(parseChunks({kHeader + "<presence/>" + stanza}, limits),
             (QStringList{kOpen, QStringLiteral("stanza <presence/>"), expected}));
}

void TestXmlStreamParser::attributeFloodRefusedBeforeQtParsesIt()
{
    // 37,000 attributes in one start tag under a generous byte limit (a logged-in session): Qt's
    // duplicate check is quadratic in them, so they must never reach it.
    XmlStreamParser::Limits limits;
    limits.maxStanzaBytes = 4 * 1024 * 1024;
    QCOMPARE(parseChunks({kHeader + "<message" + manyAttributes(37000) + ">"}, limits),
             (QStringList{kOpen, QStringLiteral("error policy-violation")}));
}

void TestXmlStreamParser::limitRaisedForBytesAlreadyFed()
{
    // A client pipelines its bind request and a big stanza; the big one is parsed under the limit
    // of a bound session.
    const QByteArray big = "<message><body>" + QByteArray(20000, 'x') + "</body></message>";
    for (const bool raise : {false, true}) {
        XmlStreamParser parser({10000, 8});
        parser.feed(kHeader + "<iq type='set' id='bind'/>" + big);
        QCOMPARE(parser.next().kind, Kind::StreamOpen);
        QCOMPARE(parser.next().kind, Kind::Stanza);
        if (raise)
            parser.setMaxStanzaBytes(256 * 1024);
        const XmlStreamParser::Event e = parser.next();
        if (raise) {
            QCOMPARE(e.kind, Kind::Stanza);
            QCOMPARE(e.element.toXml(), big);
        } else {
            QCOMPARE(e.errorCondition, QStringLiteral("policy-violation"));
        }
    }
}

void TestXmlStreamParser::restartKeepsBytesPastABrokenLimit()
{
    // A pipelining client's offending element after its <auth/> belongs to the next stream,
    // which must refuse it too.
    XmlStreamParser parser({});
    parser.feed(kHeader + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" + kHeader + "<x" +
                manyAttributes(65) + "/>");
    QCOMPARE(parser.next().kind, Kind::StreamOpen);
    QCOMPARE(parser.next().kind, Kind::Stanza);
    parser.restart(true);
    QCOMPARE(parser.next().kind, Kind::StreamOpen);
    QCOMPARE(parser.next().errorCondition, QStringLiteral("policy-violation"));
}

void TestXmlStreamParser::peerTextStaysOutOfErrorText_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("condition");
    const QByteArray secret = "peer-chosen-" + QByteArray(3000, 'z');
    QTest::newRow("comment") << kHeader + "<!-- " + secret + " -->"
                             << "restricted-xml";
    QTest::newRow("processing instruction")
        << kHeader + "<message><?" + secret + " data?></message>"
        << "restricted-xml";
    QTest::newRow("dtd") << "<!DOCTYPE " + secret + ">" + kHeader << "restricted-xml";
    QTest::newRow("namespace of the header")
        << "<stream:stream xmlns='jabber:client' xmlns:stream='urn:" + secret + "'>"
        << "invalid-namespace";
    QTest::newRow("undeclared prefix") << kHeader + "<message><peer-chosen-zz:x/></message>"
                                       << "not-well-formed";
    // Qt names the encoding it does not know in its error string.
    QTest::newRow("unknown encoding")
        << "<?xml version='1.0' encoding='peer-chosen-x'?>" + kHeader.mid(21) << "not-well-formed";
}

void TestXmlStreamParser::peerTextStaysOutOfErrorText()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, condition);
    XmlStreamParser parser({});
    parser.feed(input);
    XmlStreamParser::Event e = parser.next();
    while (e.kind != Kind::Error && e.kind != Kind::NeedMoreData)
        e = parser.next();
    QCOMPARE(e.errorCondition, condition);
    QVERIFY(!e.errorText.isEmpty());
    QVERIFY2(!e.errorText.contains(u"peer-chosen"), qPrintable(e.errorText));
    QVERIFY2(e.errorDetail.contains(u"peer-chosen"), qPrintable(e.errorDetail)); // for the log
}

void TestXmlStreamParser::restartAfterTls()
{
    XmlStreamParser parser({});
    QStringList events;
    parser.feed(kHeader + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    drain(parser, events);
    // Whatever followed <starttls/> in clear text is not part of the encrypted stream.
    parser.feed("\x16\x03\x01 junk");
    parser.restart(false);
    parser.feed(kHeader + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X'/>");
    drain(parser, events);
    QCOMPARE(events, (QStringList{
                         kOpen, "stanza <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", kOpen,
                         "stanza <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                         "mechanism='X'/>"}));
}

void TestXmlStreamParser::restartKeepsPipelinedBytes()
{
    const QByteArray auth = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
                            "\xC3\xA9\xF0\x9F\x98\x80</auth>";
    const QByteArray input = kHeader + auth + kHeader + "<iq id='b'/>";
    for (qsizetype cut = 1; cut < input.size(); ++cut) {
        XmlStreamParser parser({});
        QStringList events;
        parser.feed(input.left(cut));
        for (;;) {
            const auto e = parser.next();
            if (e.kind == Kind::NeedMoreData && events.size() < 2 && cut < input.size()) {
                parser.feed(input.mid(cut));
                cut = input.size(); // fed everything
                continue;
            }
            if (e.kind == Kind::NeedMoreData)
                break;
            events << (e.kind == Kind::Stanza ? QString::fromUtf8(e.element.toXml())
                                              : QStringLiteral("kind %1").arg(int(e.kind)));
            if (events.size() == 2)
                parser.restart(true); // SASL success: a new stream follows at once
        }
        QCOMPARE(events, (QStringList{QStringLiteral("kind 1"), QString::fromUtf8(auth),
                                      QStringLiteral("kind 1"), QStringLiteral("<iq id='b'/>")}));
    }
}

void TestXmlStreamParser::errorIsSticky()
{
    XmlStreamParser parser({});
    parser.feed(kHeader + "<a></b>");
    QCOMPARE(parser.next().kind, Kind::StreamOpen);
    QCOMPARE(parser.next().errorCondition, QStringLiteral("not-well-formed"));
    parser.feed("<presence/>");
    QCOMPARE(parser.next().kind, Kind::Error);
    QVERIFY(parser.hasFailed());
}

void TestXmlStreamParser::invalidUtf8()
{
    // The reader decodes ahead, so the header may or may not come out first; the verdict may not
    // depend on where TCP cut the bytes.
    const QByteArray input = kHeader + "<message><body>\xC3\x28</body></message>";
    for (qsizetype cut = 1; cut < input.size(); ++cut) {
        const QStringList got = parseChunks({input.left(cut), input.mid(cut)});
        QVERIFY(!got.isEmpty());
        QCOMPARE(got.last(), QStringLiteral("error not-well-formed"));
    }
}

void TestXmlStreamParser::readerReleasedOnlyBetweenStanzas()
{
    XmlStreamParser parser({});
    QStringList events;
    parser.feed(kHeader);
    drain(parser, events);
    QVERIFY(!parser.holdsReader());
    parser.feed("<message to='a@b'><bo");
    drain(parser, events);
    QVERIFY(parser.holdsReader()); // inside a stanza
    parser.feed("dy>hi</body></message>\n <pres");
    drain(parser, events);
    QVERIFY(parser.holdsReader()); // inside a start tag
    parser.feed("ence/>\n");
    drain(parser, events);
    QVERIFY(!parser.holdsReader()); // only whitespace after the last stanza
    parser.feed(" ");               // a whitespace keepalive
    drain(parser, events);
    QVERIFY(!parser.holdsReader());
    parser.feed("\n<iq/>");
    drain(parser, events);
    QVERIFY(!parser.holdsReader());
    QCOMPARE(events, (QStringList{kOpen, "stanza <message to='a@b'><body>hi</body></message>",
                                  "stanza <presence/>", "stanza <iq/>"}));
}

void TestXmlStreamParser::streamAcrossReleasesIsTheSame()
{
    // Header prefixes (one whose namespace needs escaping in an attribute), another stream
    // prefix than "stream", the default namespace, a redeclared default, xml:lang, text beyond
    // the BMP: each stanza read by a fresh reader must come out as from one reader.
    const QByteArray header = "<?xml version='1.0'?><s:stream xmlns='jabber:client' "
                              "xmlns:s='http://etherx.jabber.org/streams' "
                              "xmlns:o=\"urn:x?a=1&amp;b='2'&lt;&#9;\" to='x.org' xml:lang='en'>";
    const QList<QByteArray> stanzas{
        "<message to='a@b' xml:lang='de'><body>h\xC3\xA9 \xF0\x9F\x98\x80</body>"
        "<o:encrypted o:v='1'><o:payload>AA</o:payload></o:encrypted></message>",
        "  \n<iq type='get' id='1'><query xmlns='jabber:iq:roster'><item/></query></iq>",
        "<presence><s:x/><x xmlns='jabber:server'/></presence>\t\r\n",
        "<message xmlns='jabber:client'><o:x xmlns:o='urn:other'/></message>", "</s:stream>"};
    const QStringList expected{
        QStringLiteral("open to=x.org version= lang=en"),
        QString::fromUtf8("stanza <message xmlns:o='urn:x?a=1&amp;b=&apos;2&apos;&lt;&#9;' "
                          "to='a@b' xml:lang='de'><body>h\xC3\xA9 "
                          "\xF0\x9F\x98\x80</body><o:encrypted o:v='1'><o:payload>AA"
                          "</o:payload></o:encrypted></message>"),
        QStringLiteral("stanza <iq type='get' id='1'><query xmlns='jabber:iq:roster'><item/>"
                       "</query></iq>"),
        QStringLiteral("stanza <presence xmlns:s='http://etherx.jabber.org/streams'><s:x/>"
                       "<x xmlns='jabber:server'/></presence>"),
        QStringLiteral("stanza <message><o:x xmlns:o='urn:other'/></message>"),
        QStringLiteral("close")};

    QCOMPARE(parseChunks({header + stanzas.join()}), expected);

    XmlStreamParser parser({});
    QStringList events;
    parser.feed(header);
    drain(parser, events);
    for (const QByteArray &stanza : stanzas) {
        QVERIFY(!parser.holdsReader());
        parser.feed(stanza);
        drain(parser, events);
    }
    QCOMPARE(events, expected);
}

void TestXmlStreamParser::limitsHoldAfterARelease()
{
    XmlStreamParser::Limits limits;
    limits.maxStanzaBytes = 100;
    const QByteArray fits = "<message><body>" + QByteArray(100 - 32, 'x') + "</body></message>";
    QCOMPARE(fits.size(), 100);
    QCOMPARE(parseChunks({kHeader, fits, "<presence/>", "text<presence/>"}, limits),
             (QStringList{kOpen, QString::fromUtf8("stanza " + fits), "stanza <presence/>",
                          "error not-well-formed"}));
    const QByteArray tooBig = "<message><body>" + QByteArray(100 - 31, 'x') + "</body></message>";
    QCOMPARE(parseChunks({kHeader, fits, tooBig}, limits),
             (QStringList{kOpen, QString::fromUtf8("stanza " + fits), "error policy-violation"}));
    XmlStreamParser::Limits tags;
    tags.maxAttributes = 6; // the header has 5
    QCOMPARE(parseChunks({kHeader, "<presence/>", "<presence" + manyAttributes(7) + "/>"}, tags),
             (QStringList{kOpen, "stanza <presence/>", "error policy-violation"}));
}

QTEST_GUILESS_MAIN(TestXmlStreamParser)
#include "tst_xml_stream_parser.moc"
