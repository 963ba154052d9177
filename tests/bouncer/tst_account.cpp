#include "account_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

void online(AccountHarness &h)
{
    h.account.upstreamOnline(Jid(boundJid));
    h.clear();
}
} // namespace

class TestAccount : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void onlineSendsIdlePresenceThenEnablesCarbons()
    {
        AccountHarness h;
        h.account.upstreamOnline(Jid(boundJid));
        EXPECT(h.expectUpstream(idlePresence()));
        EXPECT(h.expectUpstream(carbonsEnable));
        EXPECT(h.expectUpstream(bookmarksRequest));
        EXPECT(h.expectServerInfoAndRoster());
        EXPECT(h.expectNothing());
    }

    void aggregatePresence_data()
    {
        QTest::addColumn<QStringList>("presences"); // one per session, in order; "" = none
        QTest::addColumn<QString>("upstream");      // the last presence sent upstream
        QTest::newRow("one available") << QStringList{"<presence/>"} << "<presence/>";
        QTest::newRow("chat beats available")
            << QStringList{"<presence/>", "<presence><show>chat</show></presence>"}
            << "<presence><show>chat</show></presence>";
        QTest::newRow("available beats away whatever the order")
            << QStringList{"<presence/>", "<presence><show>away</show></presence>"}
            << "<presence/>";
        QTest::newRow("dnd beats away")
            << QStringList{"<presence><show>away</show></presence>",
                           "<presence><show>dnd</show><status>meeting</status></presence>"}
            << "<presence><show>dnd</show><status>meeting</status></presence>";
        QTest::newRow("priority breaks a tie")
            << QStringList{"<presence><priority>5</priority></presence>",
                           "<presence><priority>1</priority></presence>"}
            << "<presence><priority>5</priority></presence>";
        QTest::newRow("negative priority is lifted so bare-JID messages still arrive")
            << QStringList{"<presence><priority>-1</priority></presence>"}
            << "<presence><priority>0</priority></presence>";
        QTest::newRow("unknown payloads are kept, the session's caps give way to xbnc's")
            << QStringList{"<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                           "node='n' ver='v'/><x xmlns='urn:example'/></presence>"}
            << "<presence><x xmlns='urn:example'/></presence>";
        QTest::newRow("only unavailable: the idle presence, never unavailable")
            << QStringList{"<presence type='unavailable'/>"} << idlePresence();
    }
    void aggregatePresence()
    {
        QFETCH(QStringList, presences);
        QFETCH(QString, upstream);
        AccountHarness h;
        online(h);
        SessionId id = 0;
        for (const QString &presence : presences) {
            ++id;
            h.account.sessionBound(id, QStringLiteral("r%1").arg(id));
            h.fromSession(id, presence);
        }
        QString last;
        for (const auto &sent : h.sent) {
            if (sent.target == AccountHarness::Sent::Upstream) {
                QVERIFY2(sent.stanza.attribute(u"type") != u"unavailable",
                         "a session's unavailable reached upstream");
                last = canonical(sent.stanza);
            }
        }
        if (last.isEmpty())
            last = canonical(idlePresence()); // nothing changed since going online
        QCOMPARE(last, canonical(upstream == idlePresence() ? upstream : withOwnCaps(upstream)));
    }

    void lastSessionGoneRestoresIdlePresence()
    {
        AccountHarness h;
        online(h);
        h.account.sessionBound(1, "phone");
        h.fromSession(1, "<presence><show>chat</show></presence>");
        h.clear();
        h.account.sessionClosed(1);
        EXPECT(h.expectUpstream(idlePresence()));
        EXPECT(h.expectNothing());
    }

    void sessionsAreOneResourceToEachOther()
    {
        // Every session is bound to xbnc's full JID: there are no other resources to show,
        // and the presence a session sees of itself is the server's reflection of the
        // aggregate, as a directly connected client sees its own.
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.account.sessionBound(2, "laptop");
        h.fromSession(2, "<presence><show>dnd</show></presence>");
        EXPECT(h.expectNothing()); // phone (available) still leads the aggregate
        h.fromSession(1, "<presence><show>xa</show></presence>");
        EXPECT(h.expectUpstream(withOwnCaps("<presence><show>dnd</show></presence>")));
        EXPECT(h.expectNothing());
        const QString reflection = "<presence from='alice@example.org/xbnc' "
                                   "to='alice@example.org/xbnc'><show>dnd</show></presence>";
        h.fromUpstream(reflection);
        EXPECT(h.expectFanOut({1, 2}, reflection));
        EXPECT(h.expectNothing());
        h.account.sessionClosed(2);
        EXPECT(h.expectUpstream(withOwnCaps("<presence><show>xa</show></presence>")));
        EXPECT(h.expectNothing());
    }

    void messagesToTheAccountReachEverySession_data()
    {
        QTest::addColumn<QString>("to");
        QTest::addColumn<QString>("delivered"); // %1: the session's resource
        // A bare JID stays bare, as a server delivers it; xbnc's own address is every
        // session's.
        QTest::newRow("bare JID") << "alice@example.org"
                                  << "alice@example.org";
        QTest::newRow("upstream full JID") << "alice@example.org/xbnc"
                                           << "alice@example.org/xbnc";
    }
    void messagesToTheAccountReachEverySession()
    {
        QFETCH(QString, to);
        QFETCH(QString, delivered);
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.bind(2, "laptop", false); // even a session without presence: a message is important
        h.fromUpstream(QStringLiteral("<message from='bob@example.org/pc' to='%1' type='chat' "
                                      "id='m1'><body>hi</body><x xmlns='urn:unknown'><y a='1'/>"
                                      "</x></message>")
                           .arg(to));
        for (auto [id, resource] : {std::pair{1, "phone"}, std::pair{2, "laptop"}})
            EXPECT(h.expectToSession(
                id, QStringLiteral("<message from='bob@example.org/pc' to='%1' type='chat' "
                                   "id='m1'><body>hi</body><x xmlns='urn:unknown'><y a='1'/></x>"
                                   "</message>")
                        .arg(QString(delivered).replace(QStringLiteral("%1"),
                                                        QLatin1String(resource)))));
        EXPECT(h.expectNothing());
    }

    void outgoingMessageIsCopiedToCarbonsSessionsOnly()
    {
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.bind(2, "laptop");
        h.bind(3, "desktop");
        h.fromSession(2, "<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
        EXPECT(h.expectToSession(2, "<iq type='result' id='c1' to='alice@example.org/xbnc'/>"));
        h.fromSession(1, "<message to='bob@example.org' type='chat' id='m2' "
                         "from='mallory@evil.example'><body>yo</body></message>");
        EXPECT(h.expectToSession(
            2, "<message from='alice@example.org' to='alice@example.org/xbnc' type='chat'>"
               "<sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
               "<message xmlns='jabber:client' to='bob@example.org' type='chat' id='m2' "
               "from='alice@example.org/xbnc'><body>yo</body></message></forwarded></sent>"
               "</message>"));
        EXPECT(h.expectUpstream(
            "<message to='bob@example.org' type='chat' id='m2'><body>yo</body></message>"));
        EXPECT(h.expectNothing());
        // <private/> opts out of carbons (XEP-0280 §6)
        h.fromSession(1, "<message to='bob@example.org' type='chat'><body>s</body>"
                         "<private xmlns='urn:xmpp:carbons:2'/></message>");
        QCOMPARE(h.take().target, AccountHarness::Sent::Upstream);
        EXPECT(h.expectNothing());
    }

    void upstreamCarbonsReachCarbonsSessionsOnly()
    {
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.bind(2, "laptop");
        h.fromSession(2, "<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
        h.clear();
        h.fromUpstream("<message from='alice@example.org' to='alice@example.org/xbnc'>"
                       "<received xmlns='urn:xmpp:carbons:2'/></message>");
        EXPECT(h.expectToSession(2, "<message from='alice@example.org' "
                                    "to='alice@example.org/xbnc'><received "
                                    "xmlns='urn:xmpp:carbons:2'/></message>"));
        EXPECT(h.expectNothing());
    }

    void sameIqIdFromTwoSessionsGetsOneReplyEach()
    {
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.bind(2, "laptop");
        h.fromSession(1, "<iq type='get' id='same' to='example.org'><query "
                         "xmlns='jabber:iq:version'/></iq>");
        h.fromSession(2, "<iq type='get' id='same' to='example.org'><query "
                         "xmlns='jabber:iq:version'/></iq>");
        const auto first = h.take(), second = h.take();
        QCOMPARE(first.target, AccountHarness::Sent::Upstream);
        QCOMPARE(second.target, AccountHarness::Sent::Upstream);
        const QString id1 = first.stanza.attribute(u"id"), id2 = second.stanza.attribute(u"id");
        QVERIFY(id1 != id2);
        QVERIFY(id1 != u"same");
        // answered in the opposite order
        h.fromUpstream(QStringLiteral("<iq type='result' id='%1' from='example.org' "
                                      "to='alice@example.org/xbnc'><query "
                                      "xmlns='jabber:iq:version'><name>two</name></query></iq>")
                           .arg(id2));
        h.fromUpstream(QStringLiteral("<iq type='result' id='%1' from='example.org' "
                                      "to='alice@example.org/xbnc'><query "
                                      "xmlns='jabber:iq:version'><name>one</name></query></iq>")
                           .arg(id1));
        EXPECT(h.expectToSession(2, "<iq type='result' id='same' from='example.org' "
                                    "to='alice@example.org/xbnc'><query "
                                    "xmlns='jabber:iq:version'><name>two</name></query></iq>"));
        EXPECT(h.expectToSession(1, "<iq type='result' id='same' from='example.org' "
                                    "to='alice@example.org/xbnc'><query "
                                    "xmlns='jabber:iq:version'><name>one</name></query></iq>"));
        // a duplicate reply finds nobody waiting
        h.fromUpstream(QStringLiteral("<iq type='result' id='%1'/>").arg(id1));
        EXPECT(h.expectNothing());
    }

    void pendingIqsFailWhenUpstreamDropsOrTimesOut()
    {
        AccountHarness h(std::chrono::milliseconds(0));
        online(h);
        h.bind(1, "phone");
        h.fromSession(1, "<iq type='get' id='q1'><query xmlns='jabber:iq:roster'/></iq>");
        QCOMPARE(h.take().target, AccountHarness::Sent::Upstream);
        h.account.expireIqs();
        EXPECT(h.expectToSession(1, "<iq type='error' id='q1' to='alice@example.org/xbnc'>"
                                    "<error type='wait'><remote-server-timeout "
                                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"));
        h.fromSession(1, "<iq type='get' id='q2' to='example.org'><ping "
                         "xmlns='urn:xmpp:ping'/></iq>");
        QCOMPARE(h.take().target, AccountHarness::Sent::Upstream);
        h.account.upstreamOffline();
        EXPECT(h.expectToSession(1, "<iq type='error' id='q2' from='example.org' "
                                    "to='alice@example.org/xbnc'>"
                                    "<error type='wait'><remote-server-timeout "
                                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"));
        // while offline, requests are answered at once instead of vanishing
        h.fromSession(1, "<iq type='get' id='q3' to='example.org'><ping "
                         "xmlns='urn:xmpp:ping'/></iq>");
        EXPECT(h.expectToSession(1, "<iq type='error' id='q3' from='example.org' "
                                    "to='alice@example.org/xbnc'><error type='wait'>"
                                    "<remote-server-timeout "
                                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"));
        EXPECT(h.expectNothing());
    }

    void closedSessionsRepliesAreDropped()
    {
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.fromSession(1, "<iq type='get' id='q1'><query xmlns='jabber:iq:roster'/></iq>");
        const QString id = h.take().stanza.attribute(u"id");
        const qsizetype pending = h.account.iqRouter().outboundCount();
        h.account.sessionClosed(1);
        QCOMPARE(h.account.iqRouter().outboundCount(), pending - 1);
        h.clear();
        h.fromUpstream(QStringLiteral("<iq type='result' id='%1'/>").arg(id));
        EXPECT(h.expectNothing());
    }

    void rosterPushesGoToSessionsThatAskedForTheRoster()
    {
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.bind(2, "laptop");
        h.bind(3, "bot");
        for (SessionId id : {1, 2}) {
            h.fromSession(id, "<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>");
            h.take();
        }
        h.fromUpstream("<iq type='set' id='push1' to='alice@example.org/xbnc'><query "
                       "xmlns='jabber:iq:roster'><item jid='carol@example.org'/></query></iq>");
        EXPECT(h.expectUpstream("<iq type='result' id='push1' />"));
        for (SessionId id : {1, 2}) {
            const auto push = h.take();
            QCOMPARE(push.target, AccountHarness::Sent::Session);
            QCOMPARE(push.session, id);
            QCOMPARE(push.stanza.attribute(u"type"), u"set");
            QVERIFY(push.stanza.firstChild(u"query", u"jabber:iq:roster"));
            // the session's acknowledgement stays local
            h.fromSession(
                id,
                QStringLiteral("<iq type='result' id='%1'/>").arg(push.stanza.attribute(u"id")));
        }
        EXPECT(h.expectNothing());
    }

    void lateSessionGetsContactPresencesAndPendingRequests()
    {
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.fromUpstream("<presence from='bob@example.org/pc' to='alice@example.org/xbnc'>"
                       "<status>here</status></presence>");
        h.fromUpstream("<presence from='carol@example.org/a' to='alice@example.org/xbnc'/>");
        // a broadcast the server addressed to the bare JID is replayed to the session's JID
        h.fromUpstream("<presence from='erin@example.org/b' to='alice@example.org'/>");
        h.fromUpstream("<presence from='carol@example.org/a' type='unavailable'/>");
        h.fromUpstream("<presence from='dave@example.org' to='alice@example.org' "
                       "type='subscribe'/>");
        h.clear();
        h.account.sessionBound(2, "laptop");
        EXPECT(h.expectNothing()); // nothing before its initial presence
        h.fromSession(2, "<presence/>");
        EXPECT(h.expectToSession(2, "<presence from='bob@example.org/pc' "
                                    "to='alice@example.org/xbnc'><status>here</status>"
                                    "</presence>"));
        EXPECT(h.expectToSession(2, "<presence from='erin@example.org/b' "
                                    "to='alice@example.org/xbnc'/>"));
        EXPECT(h.expectToSession(2, "<presence from='dave@example.org' "
                                    "to='alice@example.org' type='subscribe'/>"));
        EXPECT(h.expectNothing());
        // answering the request settles it for later sessions
        h.fromSession(2, "<presence to='dave@example.org' type='subscribed'/>");
        EXPECT(h.expectUpstream("<presence to='dave@example.org' type='subscribed'/>"));
        h.account.sessionBound(3, "tablet");
        h.fromSession(3, "<presence/>");
        int subscribes = 0;
        for (const auto &s : h.sent)
            subscribes += s.stanza.attribute(u"type") == u"subscribe";
        QCOMPARE(subscribes, 0);
    }

    void upstreamLossMarksContactsUnavailable()
    {
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.fromUpstream("<presence from='bob@example.org/pc'/>");
        h.clear();
        h.account.upstreamOffline();
        EXPECT(h.expectToSession(1, "<presence from='bob@example.org/pc' "
                                    "to='alice@example.org/xbnc' type='unavailable'/>"));
        EXPECT(h.expectNothing());
    }

    void domainDiscoIsMergedWithXbncFeatures()
    {
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.fromSession(1, "<iq type='get' id='d1' to='example.org'><query "
                         "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        const QString id = h.take().stanza.attribute(u"id");
        h.fromUpstream(QStringLiteral("<iq type='result' id='%1' from='example.org'><query "
                                      "xmlns='http://jabber.org/protocol/disco#info'><identity "
                                      "category='server' type='im'/><feature var='urn:xmpp:ping'/>"
                                      "<feature var='msgoffline'/></query></iq>")
                           .arg(id));
        EXPECT(h.expectToSession(
            1, "<iq type='result' id='d1' from='example.org' to='alice@example.org/xbnc'>"
               "<query xmlns='http://jabber.org/protocol/disco#info'><identity "
               "category='server' type='im'/><feature var='urn:xmpp:ping'/><feature "
               "var='msgoffline'/><feature var='urn:xmpp:carbons:2'/></query></iq>"));
    }

    void bareJidDiscoGetsXbncPush()
    {
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.fromSession(1, "<iq type='get' id='d2' to='alice@example.org'><query "
                         "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        const QString id = h.take().stanza.attribute(u"id");
        h.fromUpstream(QStringLiteral("<iq type='result' id='%1' from='alice@example.org'>"
                                      "<query xmlns='http://jabber.org/protocol/disco#info'>"
                                      "<feature var='urn:xmpp:mam:2'/></query></iq>")
                           .arg(id));
        EXPECT(h.expectToSession(1, "<iq type='result' id='d2' from='alice@example.org' "
                                    "to='alice@example.org/xbnc'><query "
                                    "xmlns='http://jabber.org/protocol/disco#info'><feature "
                                    "var='urn:xmpp:mam:2'/><feature var='urn:xmpp:push:0'/>"
                                    "</query></iq>"));
    }

    void ownFullJidIsAnsweredLocally_data()
    {
        QTest::addColumn<QString>("to");
        QTest::addColumn<QString>("payload");
        QTest::addColumn<QString>("reply");
        QTest::newRow("ping self") << "alice@example.org/xbnc"
                                   << "<ping xmlns='urn:xmpp:ping'/>"
                                   << "";
        QTest::newRow("version")
            << "alice@example.org/xbnc"
            << "<query xmlns='jabber:iq:version'/>"
            << "<query xmlns='jabber:iq:version'><name>xbnc</name><version>" XBNC_VERSION
               "</version></query>";
    }
    void ownFullJidIsAnsweredLocally()
    {
        QFETCH(QString, to);
        QFETCH(QString, payload);
        QFETCH(QString, reply);
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.fromSession(1, QStringLiteral("<iq type='get' id='p' to='%1'>%2</iq>").arg(to, payload));
        EXPECT(h.expectToSession(1, QStringLiteral("<iq type='result' id='p' from='%1' "
                                                   "to='alice@example.org/xbnc'>%2</iq>")
                                        .arg(to, reply)));
        EXPECT(h.expectNothing());
    }

    void requestsFromContactsGoToTheLeadingSession()
    {
        AccountHarness h;
        online(h);
        h.bind(1, "phone", false);
        h.fromSession(1, "<presence><show>away</show></presence>");
        h.bind(2, "laptop", false);
        h.fromSession(2, "<presence/>");
        h.clear();
        h.fromUpstream("<iq type='get' id='v1' from='bob@example.org/pc' "
                       "to='alice@example.org/xbnc'><query xmlns='jabber:iq:version'/></iq>");
        const auto relayed = h.take();
        QCOMPARE(relayed.target, AccountHarness::Sent::Session);
        QCOMPARE(relayed.session, SessionId(2));
        QCOMPARE(relayed.stanza.attribute(u"to"), u"alice@example.org/xbnc");
        const QString id = relayed.stanza.attribute(u"id");
        QVERIFY(id != u"v1");
        h.fromSession(2, QStringLiteral("<iq type='result' id='%1' to='bob@example.org/pc'>"
                                        "<query xmlns='jabber:iq:version'><name>Dino</name>"
                                        "</query></iq>")
                             .arg(id));
        EXPECT(h.expectUpstream("<iq type='result' id='v1' to='bob@example.org/pc'><query "
                                "xmlns='jabber:iq:version'><name>Dino</name></query></iq>"));
        EXPECT(h.expectNothing());
    }

    void serverPingsAreAnsweredByXbnc()
    {
        AccountHarness h;
        online(h);
        h.fromUpstream("<iq type='get' id='s1' from='example.org' to='alice@example.org/xbnc'>"
                       "<ping xmlns='urn:xmpp:ping'/></iq>");
        EXPECT(h.expectUpstream("<iq type='result' id='s1' to='example.org'/>"));
    }

    void rebindingAResourceClosesTheOlderSession()
    {
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.account.sessionBound(2, "phone");
        EXPECT(h.expectClose(1));
        EXPECT(h.expectUpstream(idlePresence())); // phone 1 is gone, phone 2 has no presence yet
        EXPECT(h.expectNothing());
        QCOMPARE(h.account.sessionCount(), 1);
    }

    void messagesToOtherResourcesOfTheAccountGoUpstream()
    {
        // §2.4: a device connected straight to the server, or any resource the server knows;
        // sessions have no resources of their own (they are all alice@example.org/gajim).
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        h.bind(2, "laptop");
        h.fromSession(1, "<message to='alice@example.org/gajim'><body>note</body></message>");
        EXPECT(h.expectUpstream("<message to='alice@example.org/gajim'><body>note</body>"
                                "</message>"));
        EXPECT(h.expectNothing());
    }

    void unknownPayloadPassesUpstreamUnchanged()
    {
        AccountHarness h;
        online(h);
        h.bind(1, "phone");
        const QString message = QStringLiteral(
            "<message to='bob@example.org' type='chat' id='o1'><encrypted "
            "xmlns='eu.siacs.conversations.axolotl'><header sid='1'><key rid='2' "
            "prekey='true'>AAAA</key><iv>BBBB</iv></header><payload>CCCC</payload></encrypted>"
            "<store xmlns='urn:xmpp:hints'/><reactions xmlns='urn:xmpp:reactions:0' id='x'>"
            "<reaction>&#x1F600;</reaction></reactions></message>");
        h.fromSession(1, message);
        // phone has no carbons, so only upstream
        EXPECT(h.expectUpstream(message));
        EXPECT(h.expectNothing());
    }
};

QTEST_GUILESS_MAIN(TestAccount)
#include "tst_account.moc"
