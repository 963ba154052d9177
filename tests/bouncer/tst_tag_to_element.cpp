// gloox's parsed tree converted straight to an Element must be the Element the old path built,
// Element::fromXml(tag.xml()), for every stanza a server sends; the rest is left to that path.

#include "tag_to_element.h"

#include <QDir>
#include <QFile>
#include <QTest>

#include <gloox/parser.h>
#include <gloox/tag.h>
#include <gloox/taghandler.h>

#include <memory>
#include <optional>
#include <string>

using xbnc::Element;
using xbnc::elementFromTag;

namespace {

const std::string streamHeader = "<stream:stream xmlns='jabber:client' "
                                 "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
constexpr int maxDepth = 64;

// The first top-level element gloox parses after a client stream header, as Upstream sees it.
class FirstStanza : public gloox::TagHandler
{
public:
    std::unique_ptr<gloox::Tag> parse(const std::string &xml)
    {
        gloox::Parser parser(this);
        std::string header = streamHeader; // gloox's feed() takes a mutable string
        if (parser.feed(header) >= 0)
            return nullptr;
        std::string copy = xml;
        if (parser.feed(copy) >= 0)
            return nullptr;
        return std::move(tag_);
    }

    void handleTag(gloox::Tag *tag) override
    {
        // The header comes first as a tag of its own.
        if (!tag_ && tag->name() != "stream")
            tag_.reset(tag->clone());
    }

private:
    std::unique_ptr<gloox::Tag> tag_;
};

Element throughXml(const gloox::Tag &tag)
{
    const std::string xml = tag.xml();
    return Element::fromXml(QByteArrayView(xml.data(), qsizetype(xml.size())), u"jabber:client",
                            nullptr, maxDepth);
}

QString shown(const std::optional<Element> &element)
{
    return element ? QString::fromUtf8(element->toXml()) : QStringLiteral("(no conversion)");
}

enum class Path
{
    Direct,   // the stanza must be converted directly
    Fallback, // the stanza must be left to the parser
    Either,   // a corpus file: whichever, but a conversion must be the same
};

} // namespace

class TestTagToElement : public QObject
{
    Q_OBJECT

private slots:
    void sameAsThroughXml_data();
    void sameAsThroughXml();
    void fuzzCorpusSameAsThroughXml_data();
    void fuzzCorpusSameAsThroughXml();
    void deeperThanTheLimitIsLeftToTheParser();
    void namespacesDeclaredInsideDoNotLeakToSiblings();
    void namesAreSharedBetweenStanzasUpToALength();

private:
    void compareRow(const QByteArray &xml, Path path);
};

void TestTagToElement::sameAsThroughXml_data()
{
    QTest::addColumn<QByteArray>("xml");
    QTest::addColumn<Path>("path");

    const auto direct = [](const char *name, const char *xml) {
        QTest::newRow(name) << QByteArray(xml) << Path::Direct;
    };
    const auto fallback = [](const char *name, const char *xml) {
        QTest::newRow(name) << QByteArray(xml) << Path::Fallback;
    };

    direct("room message", "<message from='room@muc.localhost/alice' to='acc@localhost/xbnc' "
                           "type='groupchat' id='a1' xml:lang='en'><body>hello</body>"
                           "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='AbC='/>"
                           "<stanza-id xmlns='urn:xmpp:sid:0' id='5f3' by='room@muc.localhost'/>"
                           "</message>");
    direct("room history with delay",
           "<message from='room@muc.localhost/bob' type='groupchat' id='h7'><body>earlier</body>"
           "<delay xmlns='urn:xmpp:delay' from='room@muc.localhost' "
           "stamp='2026-12-01T10:00:00.123Z'>Offline storage</delay>"
           "<x xmlns='jabber:x:delay' stamp='20261201T10:00:00'/></message>");
    direct("room presence with status codes",
           "<presence from='room@muc.localhost/bob' to='acc@localhost/xbnc'>"
           "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://gajim.org' "
           "ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/><x xmlns='http://jabber.org/protocol/muc#user'>"
           "<item affiliation='member' role='participant' jid='bob@localhost/laptop'/>"
           "<status code='110'/><status code='100'/></x></presence>");
    direct("room subject with entities",
           "<message type='groupchat' from='room@muc.localhost/alice' id='s'>"
           "<subject>Room &amp; &lt;topic&gt; \xe2\x80\x94 \xe2\x80\x9equotes\xe2\x80\x9c</subject>"
           "</message>");
    direct("omemo payload",
           "<message from='bob@localhost/phone' to='acc@localhost' type='chat' id='o1'>"
           "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='12345'>"
           "<key rid='678' prekey='true'>MwgBEiEFb3Wn+Y/M=</key><key rid='91'>Mwo=</key>"
           "<iv>AAECAwQFBgcICQoL</iv></header><payload>c2VjcmV0</payload></encrypted>"
           "<store xmlns='urn:xmpp:hints'/><encryption xmlns='urn:xmpp:eme:0' "
           "namespace='eu.siacs.conversations.axolotl' name='OMEMO'/>"
           "<body>I sent you an OMEMO encrypted message.</body></message>");
    direct("omemo 2 under a prefix",
           "<message xmlns:o='urn:xmpp:omemo:2' id='o2'><o:encrypted><o:header sid='1'>"
           "<o:keys jid='acc@localhost'><o:key rid='2' kex='true'>AAA=</o:key></o:keys>"
           "</o:header><o:payload>BBB=</o:payload></o:encrypted></message>");
    direct("prefix declared where it is used",
           "<message><o:x xmlns:o='urn:other'><o:y/><z/></o:x></message>");
    direct("prefixed attribute", "<message xmlns:h='urn:example:hint' h:hint='1' id='p'/>");
    direct("two prefixes",
           "<message xmlns:a='urn:a' xmlns:b='urn:b'><a:x b:y='1'/><b:z/></message>");
    direct("carbon copy",
           "<message from='acc@localhost' to='acc@localhost/xbnc' type='chat'>"
           "<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
           "<message xmlns='jabber:client' from='bob@localhost/phone' to='acc@localhost/other' "
           "type='chat' id='x'><body>hi</body>"
           "<active xmlns='http://jabber.org/protocol/chatstates'/></message></forwarded>"
           "</received></message>");
    direct("archive result",
           "<message to='acc@localhost/xbnc'><result xmlns='urn:xmpp:mam:2' queryid='q1' "
           "id='28482-98726-73623'><forwarded xmlns='urn:xmpp:forward:0'>"
           "<delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>"
           "<message xmlns='jabber:client' from='room@muc.localhost/a' type='groupchat'>"
           "<body>old</body></message></forwarded></result></message>");
    direct("entities in attributes and text",
           "<message id='&apos;&quot;&lt;&gt;&amp;'><body>&lt;b&gt;not bold&lt;/b&gt; &amp;amp; "
           "' \" ]]&gt;</body></message>");
    direct("cdata section", "<message><body><![CDATA[<not a tag> & stuff]]></body></message>");
    direct("cdata between text", "<message><body>a<![CDATA[<b>]]>c</body></message>");
    direct("non-ascii",
           "<message><body>h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 "
           "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x91\x8d</body>"
           "<nick xmlns='http://jabber.org/protocol/nick'>Zo\xc3\xab</nick></message>");
    direct("empty elements", "<message><body></body><x xmlns='jabber:x:conference' "
                             "jid='r@muc.localhost' password=''/>"
                             "<active xmlns='http://jabber.org/protocol/chatstates'></active>"
                             "</message>");
    direct("whitespace-only text", "<message><body>   </body></message>");
    direct("nested unknown namespaces",
           "<message><a xmlns='urn:a'><b xmlns='urn:b'><c/><d xmlns='urn:a'/></b><e xmlns=''/>"
           "</a><f/></message>");
    direct("xml:lang on children", "<message xml:lang='de'><body>Hallo</body>"
                                   "<body xml:lang='en'>Hello</body></message>");
    direct("roster result", "<iq type='result' id='r' to='acc@localhost/xbnc'>"
                            "<query xmlns='jabber:iq:roster' ver='v1'><item jid='bob@localhost' "
                            "subscription='both' name='Bob'><group>Friends</group></item>"
                            "</query></iq>");
    direct("bookmarks push",
           "<message from='acc@localhost' to='acc@localhost/xbnc' type='headline' id='n'>"
           "<event xmlns='http://jabber.org/protocol/pubsub#event'>"
           "<items node='urn:xmpp:bookmarks:1'><item id='room@muc.localhost'>"
           "<conference xmlns='urn:xmpp:bookmarks:1' autojoin='true' name='Room'>"
           "<nick>al</nick></conference></item></items></event></message>");
    direct("disco info with a form",
           "<iq type='result' id='d' from='muc.localhost'><query "
           "xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' "
           "type='text' name='Chatrooms'/><feature var='http://jabber.org/protocol/muc'/>"
           "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'>"
           "<value>http://jabber.org/protocol/muc#roominfo</value></field></x></query></iq>");
    direct("server iq request", "<iq type='get' id='p1' from='localhost'>"
                                "<ping xmlns='urn:xmpp:ping'/></iq>");
    direct("line feed and tab in text", "<message><body>line one\nline two\tend</body></message>");
    // gloox hands over CR, tab and LF decoded and writes them raw: the parser's normalisation
    // is what the old path delivered, and the conversion keeps to it.
    direct("carriage returns in text", "<message><body>a&#13;\nb&#13;c\r\nd</body></message>");
    direct("whitespace references in a value", "<message id='a&#9;b&#10;c&#13;&#10;d'/>");

    fallback("whitespace between children",
             "<message type='chat'>\n  <body>pretty</body>\n  <active "
             "xmlns='http://jabber.org/protocol/chatstates'/>\n</message>");
    fallback("xhtml-im", "<message><html xmlns='http://jabber.org/protocol/xhtml-im'>"
                         "<body xmlns='http://www.w3.org/1999/xhtml'><p>Hi <b>there</b>!</p>"
                         "</body></html></message>");
    fallback("undeclared element prefix", "<message><p:x/></message>");
    fallback("undeclared attribute prefix", "<message p:a='1'/>");
    fallback("prefix of the stream header", "<message><stream:x/></message>");
    fallback("repeated attribute", "<message a='1' a='2'/>");
    fallback("one attribute under two prefixes",
             "<message xmlns:a='urn:same' xmlns:b='urn:same' a:x='1' b:x='2'/>");
    fallback("empty prefix declaration", "<message xmlns:p=''/>");
    fallback("name starting with a digit", "<message><1a/></message>");
    // gloox declares the stream prefix a second time on such an element; the parser refuses it.
    fallback("stream-level element",
             "<stream:error xmlns:stream='http://etherx.jabber.org/streams'>"
             "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
             "</stream:error>");
    // Found by comparing the two paths on mutated stanzas (tests/fuzz/fuzz_tag_to_element).
    fallback("tab in a namespace", "<iq type='get' id='1'><ping xmlns='urn\t:xmpp:ping'/></iq>");
    fallback("bytes that are not utf-8", "<message><body>h\xe9 \xc3 x</body></message>");
    fallback("not an xml character", "<message><body>\xef\xbf\xbe</body></message>");
    fallback("non-ascii element name", "<message><f\xc3\xbc\x62/></message>");
}

void TestTagToElement::sameAsThroughXml()
{
    QFETCH(QByteArray, xml);
    QFETCH(Path, path);
    compareRow(xml, path);
}

void TestTagToElement::compareRow(const QByteArray &xml, Path path)
{
    FirstStanza reader;
    const std::unique_ptr<gloox::Tag> tag = reader.parse(xml.toStdString());
    if (!tag && path == Path::Either)
        QSKIP("gloox does not parse this file");
    QVERIFY2(tag, "gloox did not parse the row");

    const std::optional<Element> converted = elementFromTag(*tag, u"jabber:client", maxDepth);
    const Element expected = throughXml(*tag);
    if (path == Path::Direct)
        QVERIFY2(converted, qPrintable(QString::fromStdString(tag->xml())));
    if (path == Path::Fallback)
        QVERIFY2(!converted, qPrintable(shown(converted)));
    if (converted) {
        QVERIFY2(!expected.isNull(), "converted what the parser refuses");
        QVERIFY2(*converted == expected,
                 qPrintable(shown(converted) + "\n   expected " + shown(expected)));
    }
}

void TestTagToElement::fuzzCorpusSameAsThroughXml_data()
{
    QTest::addColumn<QByteArray>("xml");
    const QDir corpus(QStringLiteral(XBNC_ELEMENT_CORPUS));
    const QStringList files = corpus.entryList(QDir::Files, QDir::Name);
    QVERIFY(files.size() >= 10);
    for (const QString &name : files) {
        QFile file(corpus.filePath(name));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QTest::newRow(qPrintable(name)) << file.readAll();
    }
}

void TestTagToElement::fuzzCorpusSameAsThroughXml()
{
    QFETCH(QByteArray, xml);
    compareRow(xml, Path::Either);
}

void TestTagToElement::deeperThanTheLimitIsLeftToTheParser()
{
    FirstStanza reader;
    const std::unique_ptr<gloox::Tag> tag =
        reader.parse("<message><a><b><c>deep</c></b></a></message>");
    QVERIFY(tag);
    QVERIFY(elementFromTag(*tag, u"jabber:client", 4));
    QVERIFY(!elementFromTag(*tag, u"jabber:client", 3));
}

void TestTagToElement::namespacesDeclaredInsideDoNotLeakToSiblings()
{
    FirstStanza reader;
    const std::unique_ptr<gloox::Tag> tag =
        reader.parse("<message><x xmlns='urn:x' xmlns:p='urn:p'/><y/><p:z/></message>");
    QVERIFY(tag);
    // <p:z/> is outside the declaration's scope: only the parser may judge it (it refuses).
    QVERIFY(!elementFromTag(*tag, u"jabber:client", maxDepth));
    QVERIFY(throughXml(*tag).isNull());

    const std::unique_ptr<gloox::Tag> siblings =
        FirstStanza().parse("<message><x xmlns='urn:x'/><y/></message>");
    QVERIFY(siblings);
    const std::optional<Element> converted = elementFromTag(*siblings, u"jabber:client", maxDepth);
    QVERIFY(converted);
    QCOMPARE(converted->children().at(1).xmlns(), QStringLiteral("jabber:client"));
}

void TestTagToElement::namesAreSharedBetweenStanzasUpToALength()
{
    // A room log keeps thousands of messages: each must not keep its own "stanza-id" and
    // namespace. A URI of a remote JID's choosing longer than the cache keeps is not cached.
    const std::string longNs = "urn:example:" + std::string(200, 'x');
    const auto convert = [&](const char *id) {
        const std::string xml = std::string("<message id='") + id +
                                "'><stanza-id xmlns='urn:xmpp:sid:0' id='1'/><x xmlns='" + longNs +
                                "'/></message>";
        const std::unique_ptr<gloox::Tag> tag = FirstStanza().parse(xml);
        return tag ? elementFromTag(*tag, u"jabber:client", maxDepth) : std::nullopt;
    };
    const std::optional<Element> first = convert("a");
    const std::optional<Element> second = convert("b");
    QVERIFY(first && second);
    const Element &firstId = first->children().at(0);
    const Element &secondId = second->children().at(0);
    QVERIFY(firstId.name().isSharedWith(secondId.name()));
    QVERIFY(firstId.xmlns().isSharedWith(secondId.xmlns()));
    QVERIFY(firstId.attributes().at(0).name.isSharedWith(secondId.attributes().at(0).name));
    QVERIFY(!first->children().at(1).xmlns().isSharedWith(second->children().at(1).xmlns()));
    QCOMPARE(first->children().at(1).xmlns(), QString::fromStdString(longNs));
}

QTEST_GUILESS_MAIN(TestTagToElement)
#include "tst_tag_to_element.moc"
