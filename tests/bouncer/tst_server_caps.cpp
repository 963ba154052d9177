// The server's caps as xbnc shows them in the stream features: the <c/> names the hash of the
// domain's disco#info as xbnc answers it, node#ver gives back that same info, and an unknown or
// ill-formed answer gives no <c/> at all.
#include "server_caps.h"

#include <QCryptographicHash>
#include <QTest>

using namespace xbnc;

namespace {

Element query(const QString &children)
{
    return Element::fromXml(
        (QStringLiteral("<query xmlns='http://jabber.org/protocol/disco#info'>") + children +
         QStringLiteral("</query>"))
            .toUtf8());
}

const QString prosodyLike = QStringLiteral(
    "<identity category='server' type='im' name='Prosody'/>"
    "<identity category='pubsub' type='pep' name='Prosody'/>"
    "<feature var='urn:xmpp:blocking'/><feature var='http://jabber.org/protocol/disco#info'/>"
    "<feature var='msgoffline'/>"
    "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'>"
    "<value>http://jabber.org/network/serverinfo</value></field>"
    "<field var='abuse-addresses'><value>mailto:abuse@example.org</value></field></x>");

// XEP-0115 §5.1 written out by hand for prosodyLike plus urn:xmpp:carbons:2.
const QByteArray prosodyLikeS =
    "pubsub/pep//Prosody<server/im//Prosody<http://jabber.org/protocol/disco#info<msgoffline<"
    "urn:xmpp:blocking<urn:xmpp:carbons:2<http://jabber.org/network/serverinfo<abuse-addresses<"
    "mailto:abuse@example.org<";

QString sha1(const QByteArray &s)
{
    return QString::fromLatin1(QCryptographicHash::hash(s, QCryptographicHash::Sha1).toBase64());
}

} // namespace

class TestServerCaps : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void noCapsUntilTheDomainInfoIsKnown()
    {
        ServerCaps caps;
        QVERIFY(!caps.element());
        QVERIFY(!caps.discoInfo(ServerCaps::node + QStringLiteral("#anything")));
    }

    void hashMatchesTheMergedInfo()
    {
        Element merged = query(prosodyLike);
        ServerCaps::addFeatures(merged, {QStringLiteral("urn:xmpp:carbons:2"),
                                         QStringLiteral("msgoffline")}); // present: not doubled
        ServerCaps caps;
        QVERIFY(caps.learn(merged));
        const std::optional<Element> c = caps.element();
        QVERIFY(c);
        QCOMPARE(c->xmlns(), u"http://jabber.org/protocol/caps");
        QCOMPARE(c->attribute(u"hash"), u"sha-1");
        QCOMPARE(c->attribute(u"node"), ServerCaps::node);
        QCOMPARE(c->attribute(u"ver"), sha1(prosodyLikeS));
    }

    void nodeVerAnswersTheSameInfo()
    {
        Element merged = query(prosodyLike);
        ServerCaps::addFeatures(merged, {QStringLiteral("urn:xmpp:carbons:2")});
        ServerCaps caps;
        caps.learn(merged);
        const QString nodeVer = ServerCaps::node + u'#' + caps.element()->attribute(u"ver");
        const std::optional<Element> info = caps.discoInfo(nodeVer);
        QVERIFY(info);
        QCOMPARE(info->attribute(u"node"), nodeVer);
        // what a client does with it: hash it again and compare with the ver it was shown
        std::optional<caps::Caps> reread = caps::fromDiscoInfo(*info);
        QVERIFY(reread);
        QCOMPARE(caps::ver(*reread), caps.element()->attribute(u"ver"));
        QCOMPARE(reread->features.size(), 4);
    }

    void unknownVerIsNotFound_data()
    {
        QTest::addColumn<QString>("nodeVer");
        QTest::newRow("another ver")
            << ServerCaps::node + QStringLiteral("#AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        QTest::newRow("another node") << QStringLiteral("http://prosody.im#x");
        QTest::newRow("no ver") << ServerCaps::node;
    }
    void unknownVerIsNotFound()
    {
        QFETCH(QString, nodeVer);
        ServerCaps caps;
        caps.learn(query(prosodyLike));
        QVERIFY(!caps.discoInfo(nodeVer));
    }

    void aChangedInfoKeepsThePreviousVerAnswerable()
    {
        ServerCaps caps;
        caps.learn(query(prosodyLike));
        const QString first = caps.element()->attribute(u"ver");
        caps.learn(query(prosodyLike + QStringLiteral("<feature var='urn:xmpp:ping'/>")));
        const QString second = caps.element()->attribute(u"ver");
        QVERIFY(first != second);
        QVERIFY(caps.discoInfo(ServerCaps::node + u'#' + first));
        QVERIFY(caps.discoInfo(ServerCaps::node + u'#' + second));
        caps.learn(query(prosodyLike + QStringLiteral("<feature var='urn:xmpp:time'/>")));
        QVERIFY(!caps.discoInfo(ServerCaps::node + u'#' + first));
    }

    void illFormedInfoWithdrawsTheCaps()
    {
        ServerCaps caps;
        caps.learn(query(prosodyLike));
        QVERIFY(caps.element());
        // §5.4: a repeated feature names no ver
        QVERIFY(!caps.learn(query(prosodyLike + QStringLiteral("<feature var='msgoffline'/>"))));
        QVERIFY(!caps.element());
    }
};

QTEST_GUILESS_MAIN(TestServerCaps)
#include "tst_server_caps.moc"
