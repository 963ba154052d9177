// What a phone checks at login, answered by the hub: the roster from xbnc's cache with XEP-0237
// versions (fetched when upstream comes online, kept current by pushes), and the server's caps
// (the domain's disco#info fetched at the same time, node#ver answered by xbnc).
#include "account_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

const QString bob = QStringLiteral("<item jid='bob@example.org' subscription='both'/>");
const QString carol = QStringLiteral("<item jid='carol@example.org' subscription='to'/>");
const QString dave = QStringLiteral("<item jid='dave@example.org' subscription='none'/>");
const QString self = QStringLiteral("alice@example.org/xbnc");

QString rosterResult(const QString &items, const QString &id = QStringLiteral("xbnc-roster"))
{
    return QStringLiteral("<iq type='result' id='%1' to='%2'><query xmlns='jabber:iq:roster' "
                          "ver='server-41'>%3</query></iq>")
        .arg(id, self, items);
}

QString rosterGet(const QString &id, const QString &verAttribute)
{
    return QStringLiteral("<iq type='get' id='%1'><query xmlns='jabber:iq:roster'%2/></iq>")
        .arg(id, verAttribute);
}

QString rosterAnswer(const QString &id, const QString &verAttribute, const QString &items)
{
    return QStringLiteral("<iq type='result' id='%1' to='%2'><query xmlns='jabber:iq:roster'%3>"
                          "%4</query></iq>")
        .arg(id, self, verAttribute, items);
}

QString pushTo(const QString &ver, const QString &item)
{
    return QStringLiteral("<iq type='set' id='xbnc-roster-%1' to='%2'><query "
                          "xmlns='jabber:iq:roster' ver='%1'>%3</query></iq>")
        .arg(ver, self, item);
}

QString serverPush(const QString &item)
{
    return QStringLiteral("<iq type='set' id='push1' to='%1'><query xmlns='jabber:iq:roster' "
                          "ver='server-42'>%2</query></iq>")
        .arg(self, item);
}

// Upstream online; xbnc's roster fetch answered with bob and carol.
void onlineWithRoster(AccountHarness &h, const QString &items = bob + carol)
{
    h.account.upstreamOnline(Jid(self));
    h.clear();
    h.fromUpstream(rosterResult(items));
}

const QString prosodyInfo =
    QStringLiteral("<query xmlns='http://jabber.org/protocol/disco#info'>"
                   "<identity category='server' type='im' name='Prosody'/>"
                   "<feature var='urn:xmpp:blocking'/><feature var='msgoffline'/>"
                   "<feature var='http://jabber.org/protocol/disco#info'/></query>");

} // namespace

class TestAccountRoster : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void onlineFetchesServerInfoAndRoster()
    {
        AccountHarness h;
        h.account.upstreamOnline(Jid(self));
        bool roster = false, info = false;
        for (const auto &sent : h.sent) {
            if (sent.target != AccountHarness::Sent::Upstream)
                continue;
            const QString xml = canonical(sent.stanza);
            roster |= xml == canonical("<iq type='get' id='xbnc-roster'><query "
                                       "xmlns='jabber:iq:roster'/></iq>");
            info |= xml == canonical("<iq type='get' id='xbnc-serverinfo' to='example.org'><query "
                                     "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        }
        QVERIFY(roster);
        QVERIFY(info);
    }

    void rosterRequests_data()
    {
        QTest::addColumn<QString>("verAttribute"); // of the session's request; %1: current ver
        QTest::addColumn<bool>("full");
        QTest::addColumn<bool>("versioned");
        QTest::newRow("current ver: empty result") << " ver='%1'" << false << true;
        QTest::newRow("empty ver: whole roster with the ver") << " ver=''" << true << true;
        QTest::newRow("the server's ver: whole roster") << " ver='server-41'" << true << true;
        QTest::newRow("no ver: whole roster, no ver") << "" << true << false;
    }
    void rosterRequests()
    {
        QFETCH(QString, verAttribute);
        QFETCH(bool, full);
        QFETCH(bool, versioned);
        AccountHarness h;
        onlineWithRoster(h);
        EXPECT(h.expectNothing());
        h.bind(1, "phone");
        const QString ver = h.account.rosterCache().version();
        h.fromSession(1, rosterGet("r1", verAttribute.arg(ver)));
        const QString answerVer = versioned ? QStringLiteral(" ver='%1'").arg(ver) : QString();
        if (full)
            EXPECT(h.expectToSession(1, rosterAnswer("r1", answerVer, bob + carol)));
        else
            EXPECT(h.expectToSession(
                1, QStringLiteral("<iq type='result' id='r1' to='%1'/>").arg(self)));
        EXPECT(h.expectNothing()); // nothing upstream: answered from the cache
    }

    void olderVerGetsOnlyTheChangesAsPushes()
    {
        AccountHarness h;
        onlineWithRoster(h);
        h.bind(1, "phone");
        h.bind(2, "laptop");
        const QString v0 = h.account.rosterCache().version();
        h.fromSession(1, rosterGet("r1", QStringLiteral(" ver='%1'").arg(v0)));
        h.clear();
        // the server adds dave: acknowledged by xbnc, the session that fetched the roster gets
        // the push with xbnc's version, the other one nothing
        h.fromUpstream(serverPush(dave));
        const QString v1 = h.account.rosterCache().version();
        QVERIFY(v1 != v0);
        EXPECT(h.expectUpstream("<iq type='result' id='push1'/>"));
        EXPECT(h.expectToSession(1, QStringLiteral("<iq type='set' id='push1' to='%1'><query "
                                                   "xmlns='jabber:iq:roster' ver='%2'>%3</query>"
                                                   "</iq>")
                                        .arg(self, v1, dave)));
        EXPECT(h.expectNothing());
        // the laptop held v0: an empty result, then only dave (RFC 6121 §2.6.3)
        h.fromSession(2, rosterGet("r2", QStringLiteral(" ver='%1'").arg(v0)));
        EXPECT(
            h.expectToSession(2, QStringLiteral("<iq type='result' id='r2' to='%1'/>").arg(self)));
        EXPECT(h.expectToSession(2, pushTo(v1, dave)));
        EXPECT(h.expectNothing());
        // and a removal reaches later fetches as a push with subscription='remove'
        h.fromUpstream(serverPush("<item jid='carol@example.org' subscription='remove'/>"));
        h.clear();
        const QString v2 = h.account.rosterCache().version();
        h.fromSession(1, rosterGet("r3", QStringLiteral(" ver='%1'").arg(v1)));
        EXPECT(
            h.expectToSession(1, QStringLiteral("<iq type='result' id='r3' to='%1'/>").arg(self)));
        EXPECT(h.expectToSession(
            1, pushTo(v2, "<item jid='carol@example.org' subscription='remove'/>")));
        EXPECT(h.expectNothing());
    }

    void beforeTheCacheIsFilledTheRequestGoesUpstreamWithoutVer()
    {
        AccountHarness h;
        h.online(); // xbnc's own fetch is not answered (yet)
        h.bind(1, "phone");
        h.fromSession(1, rosterGet("r1", " ver='server-40'"));
        EXPECT(h.expectUpstream("<iq type='get' id='xbnc-roster'><query "
                                "xmlns='jabber:iq:roster'/></iq>"));
        h.fromUpstream(rosterResult(bob));
        // the server's whole roster filled the cache; the session has xbnc's version of it
        QVERIFY(h.account.rosterCache().isFilled());
        EXPECT(h.expectToSession(
            1, rosterAnswer(
                   "r1", QStringLiteral(" ver='%1'").arg(h.account.rosterCache().version()), bob)));
        EXPECT(h.expectNothing());
        // pushes reach it as before
        h.fromUpstream(serverPush(dave));
        EXPECT(h.expectUpstream("<iq type='result' id='push1'/>"));
        QCOMPARE(h.take().session, SessionId(1));
    }

    void refetchAfterReconnectPushesWhatChanged()
    {
        AccountHarness h;
        onlineWithRoster(h);
        h.bind(1, "phone");
        h.fromSession(1, rosterGet("r1", " ver=''"));
        h.account.upstreamOffline();
        h.account.upstreamOnline(Jid(self));
        h.clear();
        // meanwhile carol went and dave came
        h.fromUpstream(rosterResult(bob + dave));
        const QString v = h.account.rosterCache().version();
        EXPECT(h.expectToSession(1, pushTo(v.section(u'-', 0, 0) + QStringLiteral("-1"), dave)));
        EXPECT(h.expectToSession(
            1, pushTo(v, "<item jid='carol@example.org' subscription='remove'/>")));
        EXPECT(h.expectNothing());
    }

    void aRestoredCacheAnswersWhileUpstreamIsAway()
    {
        AccountHarness before;
        onlineWithRoster(before);
        const Element saved = before.account.rosterCache().toElement();
        const QString ver = before.account.rosterCache().version();

        AccountHarness h; // xbnc restarted, the server not reached yet
        QVERIFY(h.account.restoreRosterCache(saved));
        h.bind(1, "phone");
        h.fromSession(1, rosterGet("r1", QStringLiteral(" ver='%1'").arg(ver)));
        EXPECT(
            h.expectToSession(1, QStringLiteral("<iq type='result' id='r1' to='%1'/>").arg(self)));
        EXPECT(h.expectNothing());
    }

    void serverCapsNameTheMergedDomainInfo()
    {
        AccountHarness h;
        h.online();
        QVERIFY(!h.account.serverCapsElement()); // not before the server answered
        h.fromUpstream(QStringLiteral("<iq type='result' id='xbnc-serverinfo' from='example.org' "
                                      "to='%1'>%2</iq>")
                           .arg(self, prosodyInfo));
        const std::optional<Element> c = h.account.serverCapsElement();
        QVERIFY(c);
        // what xbnc provides is part of what the hash names
        caps::Caps expected = *caps::fromDiscoInfo(Element::fromXml(prosodyInfo.toUtf8()));
        expected.features << QStringLiteral("urn:xmpp:carbons:2")
                          << QStringLiteral("urn:xmpp:ping");
        QCOMPARE(c->attribute(u"ver"), caps::ver(expected));
        // node#ver is answered by xbnc with that info
        const QString nodeVer = c->attribute(u"node") + u'#' + c->attribute(u"ver");
        h.bind(1, "phone");
        h.fromSession(1, QStringLiteral("<iq type='get' id='d1' to='example.org'><query "
                                        "xmlns='http://jabber.org/protocol/disco#info' "
                                        "node='%1'/></iq>")
                             .arg(nodeVer));
        const AccountHarness::Sent reply = h.take();
        QCOMPARE(reply.session, SessionId(1));
        QCOMPARE(reply.stanza.attribute(u"type"), u"result");
        QCOMPARE(reply.stanza.attribute(u"from"), u"example.org");
        const Element *query =
            reply.stanza.firstChild(u"query", u"http://jabber.org/protocol/disco#info");
        QVERIFY(query);
        QCOMPARE(query->attribute(u"node"), nodeVer);
        QCOMPARE(caps::ver(*caps::fromDiscoInfo(*query)), c->attribute(u"ver"));
        // an unknown ver of xbnc's node names nothing
        h.fromSession(1, QStringLiteral("<iq type='get' id='d2' to='example.org'><query "
                                        "xmlns='http://jabber.org/protocol/disco#info' "
                                        "node='%1#AAAA'/></iq>")
                             .arg(c->attribute(u"node")));
        EXPECT(h.expectToSession(
            1, QStringLiteral("<iq type='error' id='d2' from='example.org' to='%1'>"
                              "<error type='cancel'><item-not-found "
                              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
                   .arg(self)));
        EXPECT(h.expectNothing());
    }

    void domainDiscoOfASessionHasCarbonsAndOfflineStorage()
    {
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        h.fromSession(1, "<iq type='get' id='d1' to='example.org'><query "
                         "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        h.take();
        h.fromUpstream(
            QStringLiteral("<iq type='result' id='xbnc-serverinfo' from='example.org' to='%1'>"
                           "<query xmlns='http://jabber.org/protocol/disco#info'>"
                           "<identity category='server' type='im'/></query></iq>")
                .arg(self));
        const AccountHarness::Sent reply = h.take();
        QCOMPARE(reply.session, SessionId(1));
        QStringList features;
        for (const Element &f :
             reply.stanza.firstChild(u"query", u"http://jabber.org/protocol/disco#info")
                 ->children())
            features << f.attribute(u"var");
        QVERIFY(features.contains(u"urn:xmpp:carbons:2"));
        QVERIFY(features.contains(u"msgoffline"));
        // and the server's caps follow what the session was shown
        QVERIFY(h.account.serverCapsElement());
    }
};

QTEST_GUILESS_MAIN(TestAccountRoster)
#include "tst_account_roster.moc"
