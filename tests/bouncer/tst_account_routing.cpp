#include "account_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

// Where the hub sends what: requests from peers, MAM results, pushes, errors, replies from the
// wrong sender, requests nobody answers (issue #7 §1.3, §2.1–2.6, §2.12).

namespace {

void twoSessions(AccountHarness &h)
{
    h.online();
    h.bind(1, "phone", false);
    h.fromSession(1, "<presence><show>away</show></presence>");
    h.bind(2, "laptop", false);
    h.fromSession(2, "<presence/>"); // laptop leads
    h.clear();
}

const QString versionFromBob =
    QStringLiteral("<iq type='get' id='v1' from='bob@example.org/pc' "
                   "to='alice@example.org/xbnc'><query xmlns='jabber:iq:version'/></iq>");

// The session a request from upstream was handed to, and the id it carries there.
std::pair<SessionId, QString> takeRelayedRequest(AccountHarness &h)
{
    const AccountHarness::Sent relayed = h.take();
    if (relayed.target != AccountHarness::Sent::Session)
        return {0, {}};
    return {relayed.session, relayed.stanza.attribute(u"id")};
}

} // namespace

class TestAccountRouting : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void requestsGoToTheSessionInTheConversation_data()
    {
        QTest::addColumn<QString>("talk"); // what phone sends bob first; "" = nothing
        QTest::addColumn<SessionId>("answerer");
        QTest::newRow("no conversation: the leading session") << "" << SessionId(2);
        QTest::newRow("phone wrote to bob's full JID")
            << "<message to='bob@example.org/pc' type='chat'><body>call?</body></message>"
            << SessionId(1);
        QTest::newRow("phone sent bob's full JID an IQ (Jingle)")
            << "<iq type='set' id='j1' to='bob@example.org/pc'><jingle xmlns='urn:xmpp:jingle:1' "
               "action='session-initiate' sid='s1'/></iq>"
            << SessionId(1);
        QTest::newRow("phone wrote to bob's bare JID: not a conversation with this device")
            << "<message to='bob@example.org' type='chat'><body>hi</body></message>"
            << SessionId(2);
    }
    void requestsGoToTheSessionInTheConversation()
    {
        QFETCH(QString, talk);
        QFETCH(SessionId, answerer);
        AccountHarness h;
        twoSessions(h);
        if (!talk.isEmpty()) {
            h.fromSession(1, talk);
            h.clear();
        }
        h.fromUpstream(versionFromBob);
        const auto [session, id] = takeRelayedRequest(h);
        QCOMPARE(session, answerer);
        EXPECT(h.expectNothing());
        h.fromSession(answerer, QStringLiteral("<iq type='result' id='%1' to='bob@example.org/pc'>"
                                               "<query xmlns='jabber:iq:version'/></iq>")
                                    .arg(id));
        EXPECT(h.expectUpstream("<iq type='result' id='v1' to='bob@example.org/pc'><query "
                                "xmlns='jabber:iq:version'/></iq>"));
        EXPECT(h.expectNothing());
    }

    void theOtherSessionCannotAnswerForIt()
    {
        AccountHarness h;
        twoSessions(h);
        h.fromUpstream(versionFromBob);
        const auto [session, id] = takeRelayedRequest(h);
        QCOMPARE(session, SessionId(2));
        h.fromSession(1, QStringLiteral("<iq type='result' id='%1'/>").arg(id));
        EXPECT(h.expectNothing());
        h.fromSession(2, QStringLiteral("<iq type='result' id='%1'/>").arg(id));
        EXPECT(h.expectUpstream("<iq type='result' id='v1' to='bob@example.org/pc'/>"));
    }

    // RFC 6120 §8.2.3: the requester is answered when the session that was asked goes away or
    // never answers, and when no session is there at all.
    void unansweredRequestsGetAnError_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("error");
        QTest::newRow("the session closed") << "close"
                                            << "<iq type='error' id='v1' to='bob@example.org/pc'>"
                                               "<error type='cancel'><service-unavailable "
                                               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                                               "</error></iq>";
        QTest::newRow("the session never answered")
            << "expire"
            << "<iq type='error' id='v1' to='bob@example.org/pc'><error type='wait'>"
               "<remote-server-timeout xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
        QTest::newRow("no session at all")
            << "none"
            << "<iq type='error' id='v1' to='bob@example.org/pc'><error type='cancel'>"
               "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
    }
    void unansweredRequestsGetAnError()
    {
        QFETCH(QString, what);
        QFETCH(QString, error);
        AccountHarness h(std::chrono::milliseconds(what == u"expire" ? 0 : 60000));
        h.online();
        if (what != u"none")
            h.bind(1, "phone");
        h.fromUpstream(versionFromBob);
        if (what != u"none")
            QCOMPARE(takeRelayedRequest(h).first, SessionId(1));
        if (what == u"close")
            h.account.sessionClosed(1);
        if (what == u"expire")
            h.account.expireIqs();
        QStringList iqs; // the aggregate presence changes too as phone leaves
        for (const AccountHarness::Sent &s : h.sent)
            if (s.target == AccountHarness::Sent::Upstream && s.stanza.name() == u"iq")
                iqs << canonical(s.stanza);
        QCOMPARE(iqs, QStringList{canonical(error)});
    }

    // XEP-0313: results go to the session whose query they answer, under its own queryid.
    void mamResultsGoOnlyToTheAsker()
    {
        AccountHarness h;
        twoSessions(h);
        const QString query = QStringLiteral("<iq type='set' id='%1'><query xmlns='urn:xmpp:mam:2' "
                                             "queryid='f27'/></iq>");
        h.fromSession(1, query.arg("a"));
        h.fromSession(2, query.arg("b"));
        const AccountHarness::Sent first = h.take(), second = h.take();
        const QString q1 = first.stanza.firstChild(u"query")->attribute(u"queryid");
        const QString q2 = second.stanza.firstChild(u"query")->attribute(u"queryid");
        QVERIFY(q1 != u"f27" && q2 != u"f27" && q1 != q2);
        const QString result =
            QStringLiteral("<message from='alice@example.org' to='alice@example.org/xbnc' "
                           "id='r%1'><result xmlns='urn:xmpp:mam:2' queryid='%2' id='%1'>"
                           "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' "
                           "from='bob@example.org/pc'><body>old %1</body></message></forwarded>"
                           "</result></message>");
        h.fromUpstream(result.arg("1", q2));
        EXPECT(h.expectToSession(2, result.arg("1", "f27")));
        h.fromUpstream(result.arg("2", q1));
        EXPECT(h.expectToSession(1, result.arg("2", "f27")));
        EXPECT(h.expectNothing());
        // a result claiming to be for phone's query but from someone else's "archive" is not
        // phone's history: it is an ordinary message, which clients ignore as unasked
        const QString forged = QStringLiteral(
            "<message from='mallory@evil.example' to='alice@example.org/xbnc'><result "
            "xmlns='urn:xmpp:mam:2' queryid='%1' id='x'/></message>");
        h.fromUpstream(forged.arg(q1));
        EXPECT(h.expectFanOut({1, 2}, forged.arg(q1)));
        // the query's answer ends it: later results are not routed any more
        h.fromUpstream(QStringLiteral("<iq type='result' id='%1' to='alice@example.org/xbnc'>"
                                      "<fin xmlns='urn:xmpp:mam:2' complete='true'/></iq>")
                           .arg(first.stanza.attribute(u"id")));
        EXPECT(h.expectToSession(1, "<iq type='result' id='a' to='alice@example.org/xbnc'><fin "
                                    "xmlns='urn:xmpp:mam:2' complete='true'/></iq>"));
        h.fromUpstream(result.arg("3", q1));
        EXPECT(h.expectFanOut({1, 2}, result.arg("3", q1)));
        EXPECT(h.expectNothing());
    }

    void mamResultsOfAClosedSessionGoToNobodyElse()
    {
        AccountHarness h;
        twoSessions(h);
        h.fromSession(1, "<iq type='set' id='a'><query xmlns='urn:xmpp:mam:2' queryid='f'/></iq>");
        const QString q = h.take().stanza.firstChild(u"query")->attribute(u"queryid");
        h.account.sessionClosed(1);
        h.clear();
        h.fromUpstream(QStringLiteral("<message from='alice@example.org' to='alice@example.org/"
                                      "xbnc'><result xmlns='urn:xmpp:mam:2' queryid='%1' "
                                      "id='1'/></message>")
                           .arg(q));
        EXPECT(h.expectNothing());
    }

    void mamQueryWithoutQueryidGetsResultsWithout()
    {
        AccountHarness h;
        twoSessions(h);
        h.fromSession(2, "<iq type='set' id='m'><query xmlns='urn:xmpp:mam:2'/></iq>");
        const QString q = h.take().stanza.firstChild(u"query")->attribute(u"queryid");
        QVERIFY(!q.isEmpty());
        h.fromUpstream(QStringLiteral("<message from='alice@example.org' to='alice@example.org/"
                                      "xbnc'><result xmlns='urn:xmpp:mam:2' queryid='%1' "
                                      "id='1'/></message>")
                           .arg(q));
        EXPECT(h.expectToSession(2, "<message from='alice@example.org' to='alice@example.org/"
                                    "xbnc'><result xmlns='urn:xmpp:mam:2' id='1'/></message>"));
    }

    // XEP-0191 §3.3: like roster pushes, to the sessions that fetched the list.
    void blocklistPushesReachSessionsThatFetchedTheList()
    {
        AccountHarness h;
        twoSessions(h);
        h.fromSession(1, "<iq type='get' id='b'><blocklist xmlns='urn:xmpp:blocking'/></iq>");
        h.take();
        const QString push =
            "<iq type='set' id='push2' to='alice@example.org/xbnc'><block "
            "xmlns='urn:xmpp:blocking'><item jid='spam@example.net'/></block></iq>";
        h.fromUpstream(push);
        EXPECT(h.expectUpstream("<iq type='result' id='push2'/>"));
        EXPECT(h.expectToSession(1, push));
        EXPECT(h.expectNothing());
    }

    // §2.12: a reply counts only from where the request went.
    void repliesFromTheWrongSenderAreRefused_data()
    {
        QTest::addColumn<QString>("to");
        QTest::addColumn<QString>("from");
        QTest::addColumn<bool>("accepted");
        QTest::newRow("server, no from") << ""
                                         << "" << true;
        QTest::newRow("server, from the bare JID") << ""
                                                   << "alice@example.org" << true;
        QTest::newRow("server, from the domain") << "example.org"
                                                 << "example.org" << true;
        QTest::newRow("server, from a contact") << ""
                                                << "bob@example.org/pc" << false;
        QTest::newRow("contact, from the contact") << "bob@example.org/pc"
                                                   << "bob@example.org/pc" << true;
        QTest::newRow("contact, from another resource") << "bob@example.org/pc"
                                                        << "bob@example.org/evil" << false;
        QTest::newRow("contact, with no from") << "bob@example.org/pc"
                                               << "" << false;
    }
    void repliesFromTheWrongSenderAreRefused()
    {
        QFETCH(QString, to);
        QFETCH(QString, from);
        QFETCH(bool, accepted);
        AccountHarness h;
        twoSessions(h);
        const QString toAttr = to.isEmpty() ? QString() : QStringLiteral(" to='%1'").arg(to);
        h.fromSession(1, QStringLiteral("<iq type='get' id='q'%1><query "
                                        "xmlns='jabber:iq:version'/></iq>")
                             .arg(toAttr));
        const QString id = h.take().stanza.attribute(u"id");
        QVERIFY(id != u"q"); // unpredictable ids: idsSentUpstreamAreUnpredictable
        const QString fromAttr =
            from.isEmpty() ? QString() : QStringLiteral(" from='%1'").arg(from);
        h.fromUpstream(QStringLiteral("<iq type='result' id='%1'%2/>").arg(id, fromAttr));
        if (!accepted) {
            EXPECT(h.expectNothing());
            return;
        }
        const AccountHarness::Sent reply = h.take();
        QCOMPARE(reply.target, AccountHarness::Sent::Session);
        QCOMPARE(reply.stanza.attribute(u"id"), u"q");
    }

    void idsSentUpstreamAreUnpredictable()
    {
        AccountHarness h;
        twoSessions(h);
        QSet<QString> ids;
        for (int i = 0; i < 50; ++i) {
            h.fromSession(1, "<iq type='get' id='same'><ping xmlns='urn:xmpp:ping'/></iq>");
            const QString id = h.take().stanza.attribute(u"id");
            QVERIFY2(id.size() >= 8, qPrintable(id));
            ids.insert(id);
        }
        QCOMPARE(ids.size(), 50);
    }

    // §2.12: a subscription request another client answered is not shown to new sessions.
    void settledSubscriptionRequestsAreNotReplayed_data()
    {
        QTest::addColumn<QString>("settlement");
        QTest::newRow("roster push: subscription from")
            << "<iq type='set' id='p' to='alice@example.org/xbnc'><query xmlns='jabber:iq:roster'>"
               "<item jid='dave@example.org' subscription='from'/></query></iq>";
        QTest::newRow("roster push: approved")
            << "<iq type='set' id='p' to='alice@example.org/xbnc'><query xmlns='jabber:iq:roster'>"
               "<item jid='dave@example.org' subscription='none' approved='true'/></query></iq>";
        QTest::newRow("the contact withdrew it")
            << "<presence from='dave@example.org' to='alice@example.org' type='unsubscribe'/>";
    }
    void settledSubscriptionRequestsAreNotReplayed()
    {
        QFETCH(QString, settlement);
        AccountHarness h;
        h.online();
        h.fromUpstream("<presence from='dave@example.org' to='alice@example.org' "
                       "type='subscribe'/>");
        h.fromUpstream(settlement);
        h.clear();
        h.bind(1, "phone", false);
        h.fromSession(1, "<presence/>");
        for (const AccountHarness::Sent &s : h.sent)
            QVERIFY2(s.stanza.attribute(u"type") != u"subscribe", qPrintable(canonical(s.stanza)));
    }

    // §2.5: only message and presence errors are kept from rooms; an IQ error answers a
    // request an occupant made and must reach it.
    void iqErrorsToOccupantsPassThrough()
    {
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        EXPECT(joinFirst(h, 1));
        h.fromUpstream("<iq type='get' id='o1' from='room@conference.example.org/bob' "
                       "to='alice@example.org/xbnc'><query xmlns='jabber:iq:version'/></iq>");
        const auto [session, id] = takeRelayedRequest(h);
        QCOMPARE(session, SessionId(1));
        h.fromSession(1, QStringLiteral("<iq type='error' id='%1' "
                                        "to='room@conference.example.org/bob'><error "
                                        "type='cancel'><feature-not-implemented "
                                        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                                        "</iq>")
                             .arg(id));
        EXPECT(h.expectUpstream("<iq type='error' id='o1' to='room@conference.example.org/bob'>"
                                "<error type='cancel'><feature-not-implemented "
                                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"));
        // …while a message error to the room is still held back (the kick rule)
        h.fromSession(1, "<message type='error' to='room@conference.example.org/bob'><error "
                         "type='cancel'><service-unavailable "
                         "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
        EXPECT(h.expectNothing());
    }

    // §2.6, XEP-0045 §7.4: groupchat from a session outside the room stays local.
    void groupchatFromASessionNotInTheRoomIsRefused()
    {
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        EXPECT(joinFirst(h, 1));
        h.fromSession(2, "<message type='groupchat' id='g' to='room@conference.example.org'>"
                         "<body>hi</body></message>");
        EXPECT(h.expectToSession(2, "<message type='error' id='g' "
                                    "from='room@conference.example.org' "
                                    "to='alice@example.org/xbnc'><error type='modify'>"
                                    "<not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                                    "</error></message>"));
        EXPECT(h.expectNothing());
        h.fromSession(1, "<message type='groupchat' id='g' to='room@conference.example.org'>"
                         "<body>hi</body></message>");
        EXPECT(h.expectUpstream("<message type='groupchat' id='g' "
                                "to='room@conference.example.org'><body>hi</body></message>"));
    }

    // §3.1: a room that does not answer the self-ping has dropped the account.
    void unansweredSelfPingRejoins()
    {
        AccountHarness h(std::chrono::milliseconds(0));
        h.online();
        h.bind(1, "phone");
        EXPECT(joinFirst(h, 1));
        h.selfPingRooms();
        QCOMPARE(h.take().stanza.firstChild(u"ping") != nullptr, true);
        h.account.expireIqs();
        const AccountHarness::Sent rejoin = h.take();
        QCOMPARE(rejoin.target, AccountHarness::Sent::Upstream);
        QCOMPARE(rejoin.stanza.name(), u"presence");
        QCOMPARE(rejoin.stanza.attribute(u"to"), u"room@conference.example.org/alice");
    }
};

QTEST_GUILESS_MAIN(TestAccountRouting)
#include "tst_account_routing.moc"
