// A joined room's traffic (docs/ROOMS.md "Traffic"): to the sessions that joined it, each once;
// occupant changes kept in the cache a later join is replayed from; private messages, IQs and
// XEP-0410 self-pings.
#include "account_harness.h"
#include "room_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

// phone (1) joins upstream, laptop (2) by replay; desktop (3) is online but not in the room.
// All three enabled carbons, so nothing below is explained by a session lacking them.
QString phoneAndLaptopInTheRoom(AccountHarness &h)
{
    h.online();
    h.bind(1, "phone");
    h.bind(2, "laptop");
    h.bind(3, "desktop");
    for (SessionId id : {1, 2, 3})
        h.fromSession(id, "<iq type='set' id='c'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
    h.clear();
    if (QString problem = joinFirst(h, 1); !problem.isEmpty())
        return problem;
    h.fromSession(2, joinPresence());
    h.clear();
    return {};
}

const QString bobSays =
    QStringLiteral("<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
                   "type='groupchat' id='g1'><body>hi</body><stanza-id xmlns='urn:xmpp:sid:0' "
                   "by='room@conference.example.org' id='s10'/></message>");

QString selfPingTo(const QString &to = RoomScript::occupant("alice"))
{
    return QStringLiteral("<iq type='get' id='sp' to='%1'><ping xmlns='urn:xmpp:ping'/></iq>")
        .arg(to);
}

} // namespace

class TestRoomTraffic : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void groupchatGoesToJoinedSessionsOnce_data()
    {
        QTest::addColumn<QString>("message");
        QTest::newRow("body") << bobSays;
        QTest::newRow("encrypted, no body")
            << "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
               "type='groupchat' id='g2'><encrypted xmlns='eu.siacs.conversations.axolotl'>"
               "<header sid='1'><iv>AAAA</iv></header><payload>BBBB</payload></encrypted>"
               "<store xmlns='urn:xmpp:hints'/></message>";
        QTest::newRow("chat state")
            << "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
               "type='groupchat'><active xmlns='http://jabber.org/protocol/chatstates'/>"
               "</message>";
        QTest::newRow("correction")
            << "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
               "type='groupchat' id='g3'><body>hello</body><replace "
               "xmlns='urn:xmpp:message-correct:0' id='g1'/></message>";
        QTest::newRow("room notice from the bare JID")
            << "<message from='room@conference.example.org' to='alice@example.org/xbnc' "
               "type='groupchat' id='n1'><body>This room is now logged</body></message>";
    }
    void groupchatGoesToJoinedSessionsOnce()
    {
        QFETCH(QString, message);
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        h.fromUpstream(message);
        EXPECT(h.expectFanOut({1, 2}, message));
        EXPECT(h.expectNothing());
    }

    // Not groupchat, from the room itself: for the account, so every session gets it.
    void roomNotificationsGoToEverySession_data()
    {
        QTest::addColumn<QString>("message");
        QTest::newRow("configuration change (104)")
            << "<message from='room@conference.example.org' to='alice@example.org/xbnc' "
               "id='n2'><x xmlns='http://jabber.org/protocol/muc#user'><status code='104'/>"
               "</x></message>";
        QTest::newRow("voice request form")
            << "<message from='room@conference.example.org' to='alice@example.org/xbnc' "
               "type='normal' id='n3'><body>Voice requested</body><x xmlns='jabber:x:data' "
               "type='form'/></message>";
    }
    void roomNotificationsGoToEverySession()
    {
        QFETCH(QString, message);
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        h.fromUpstream(message);
        EXPECT(h.expectFanOut({1, 2, 3}, message));
        EXPECT(h.expectNothing());
    }

    // A session's groupchat message goes upstream (never carbon-copied) and reaches every
    // joined session, the sender included, through the room's reflection.
    void ownMessageComesBackThroughTheRoom()
    {
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        h.fromSession(1, "<message to='room@conference.example.org' type='groupchat' id='c1' "
                         "from='alice@example.org/phone'><body>hello</body><origin-id "
                         "xmlns='urn:xmpp:sid:0' id='o1'/></message>");
        EXPECT(h.expectUpstream("<message to='room@conference.example.org' type='groupchat' "
                                "id='c1'><body>hello</body><origin-id xmlns='urn:xmpp:sid:0' "
                                "id='o1'/></message>"));
        EXPECT(h.expectNothing());
        const QString reflection =
            "<message from='room@conference.example.org/alice' to='alice@example.org/xbnc' "
            "type='groupchat' id='c1'><body>hello</body><origin-id xmlns='urn:xmpp:sid:0' "
            "id='o1'/><stanza-id xmlns='urn:xmpp:sid:0' by='room@conference.example.org' "
            "id='s11'/></message>";
        h.fromUpstream(reflection);
        EXPECT(h.expectFanOut({1, 2}, reflection));
        EXPECT(h.expectNothing());
    }

    void subjectChangeReplacesTheSubject()
    {
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        h.fromSession(2, "<message to='room@conference.example.org' type='groupchat'>"
                         "<subject>Coffee time</subject></message>");
        EXPECT(h.expectUpstream("<message to='room@conference.example.org' type='groupchat'>"
                                "<subject>Coffee time</subject></message>"));
        const QString change =
            "<message from='room@conference.example.org/alice' to='alice@example.org/xbnc' "
            "type='groupchat' id='t2'><subject>Coffee time</subject></message>";
        h.fromUpstream(change);
        EXPECT(h.expectFanOut({1, 2}, change));
        EXPECT(h.expectNothing());
        h.fromSession(3, joinPresence());
        const RoomScript script = standardRoom();
        EXPECT(h.expectRelayed(3, script.occupants));
        EXPECT(h.expectRelayed(3, script.self));
        EXPECT(h.expectRelayed(3, script.history));
        EXPECT(h.expectRelayed(3, change));
        EXPECT(h.expectNothing());
    }

    // Occupant presence goes to every joined session and updates the cache; a later join
    // shows exactly the room as it is now.
    void occupantChanges_data()
    {
        QTest::addColumn<QStringList>("room");      // what the room sends
        QTest::addColumn<QStringList>("occupants"); // the replay to a later session
        const QStringList standard = standardRoom().occupants;
        const QString &bob = standard[0];
        const QString &carol = standard[1];
        const QString dave = "<presence from='room@conference.example.org/dave' "
                             "to='alice@example.org/xbnc'><x "
                             "xmlns='http://jabber.org/protocol/muc#user'><item "
                             "affiliation='none' jid='dave@example.net/x' role='participant'/>"
                             "</x></presence>";
        QTest::newRow("join") << QStringList{dave} << QStringList{bob, carol, dave};
        QTest::newRow("leave")
            << QStringList{"<presence from='room@conference.example.org/carol' "
                           "to='alice@example.org/xbnc' type='unavailable'><x "
                           "xmlns='http://jabber.org/protocol/muc#user'><item "
                           "affiliation='member' jid='carol@example.org/phone' role='none'/>"
                           "</x></presence>"}
            << QStringList{bob};
        const QString carolVisitor = "<presence from='room@conference.example.org/carol' "
                                     "to='alice@example.org/xbnc'><show>away</show><x "
                                     "xmlns='http://jabber.org/protocol/muc#user'><item "
                                     "affiliation='member' jid='carol@example.org/phone' "
                                     "role='visitor'/></x></presence>";
        QTest::newRow("role change") << QStringList{carolVisitor} << QStringList{bob, carolVisitor};
        const QString bobBusy = "<presence from='room@conference.example.org/bob' "
                                "to='alice@example.org/xbnc'><show>dnd</show><x "
                                "xmlns='http://jabber.org/protocol/muc#user'><item "
                                "affiliation='owner' jid='bob@example.org/pc' "
                                "role='moderator'/></x></presence>";
        QTest::newRow("status change keeps the occupant's place")
            << QStringList{bobBusy} << QStringList{bobBusy, carol};
        const QString caroline = "<presence from='room@conference.example.org/caroline' "
                                 "to='alice@example.org/xbnc'><show>away</show><x "
                                 "xmlns='http://jabber.org/protocol/muc#user'><item "
                                 "affiliation='member' jid='carol@example.org/phone' "
                                 "role='participant'/></x></presence>";
        QTest::newRow("nick change (303)")
            << QStringList{"<presence from='room@conference.example.org/carol' "
                           "to='alice@example.org/xbnc' type='unavailable'><x "
                           "xmlns='http://jabber.org/protocol/muc#user'><item "
                           "affiliation='member' jid='carol@example.org/phone' nick='caroline' "
                           "role='participant'/><status code='303'/></x></presence>",
                           caroline}
            << QStringList{bob, caroline};
        QTest::newRow("another occupant kicked (307)")
            << QStringList{"<presence from='room@conference.example.org/bob' "
                           "to='alice@example.org/xbnc' type='unavailable'><x "
                           "xmlns='http://jabber.org/protocol/muc#user'><item "
                           "affiliation='owner' role='none'><actor nick='carol'/><reason>spam"
                           "</reason></item><status code='307'/></x></presence>"}
            << QStringList{carol};
        QTest::newRow("leave and come back")
            << QStringList{"<presence from='room@conference.example.org/bob' "
                           "to='alice@example.org/xbnc' type='unavailable'/>",
                           bobBusy}
            << QStringList{carol, bobBusy};
    }
    void occupantChanges()
    {
        QFETCH(QStringList, room);
        QFETCH(QStringList, occupants);
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        for (const QString &presence : room) {
            h.fromUpstream(presence);
            EXPECT(h.expectFanOut({1, 2}, presence));
            EXPECT(h.expectNothing());
        }
        h.fromSession(3, joinPresence());
        const RoomScript script = standardRoom();
        EXPECT(h.expectRelayed(3, occupants));
        EXPECT(h.expectRelayed(3, script.self));
        EXPECT(h.expectRelayed(3, script.history));
        EXPECT(h.expectRelayed(3, script.subject));
        EXPECT(h.expectNothing());
    }

    // The account's own role changes too (granted moderator): every joined session sees it,
    // and later joins are replayed the new self-presence.
    void ownRoleChange()
    {
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        const QString moderator =
            "<presence from='room@conference.example.org/alice' to='alice@example.org/xbnc'><x "
            "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='admin' "
            "jid='alice@example.org/xbnc' role='moderator'/><status code='110'/></x></presence>";
        h.fromUpstream(moderator);
        EXPECT(h.expectFanOut({1, 2}, moderator));
        EXPECT(h.expectNothing());
        h.fromSession(3, joinPresence());
        const RoomScript script = standardRoom();
        EXPECT(h.expectRelayed(3, script.occupants));
        EXPECT(h.expectRelayed(3, moderator));
        EXPECT(h.expectRelayed(3, script.history));
        EXPECT(h.expectRelayed(3, script.subject));
        EXPECT(h.expectNothing());
    }

    void privateMessageFromAnOccupantGoesToJoinedSessions()
    {
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        const QString pm = "<message from='room@conference.example.org/bob' "
                           "to='alice@example.org/xbnc' type='chat' id='pm1'><body>psst</body>"
                           "<x xmlns='http://jabber.org/protocol/muc#user'/></message>";
        h.fromUpstream(pm);
        EXPECT(h.expectFanOut({1, 2}, pm));
        EXPECT(h.expectNothing());
        // once laptop has left, only phone
        h.fromSession(2, "<presence to='room@conference.example.org/alice' type='unavailable'/>");
        h.clear();
        h.fromUpstream(pm);
        EXPECT(h.expectFanOut({1}, pm));
        EXPECT(h.expectNothing());
    }

    // A private message a session sends goes upstream and, as a carbon, to the other joined
    // sessions that enabled carbons (the server cannot: upstream there is one client).
    void privateMessageToAnOccupant()
    {
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        h.bind(4, "tablet"); // joined, without carbons
        h.fromSession(4, joinPresence());
        h.clear();
        h.fromSession(1, "<message to='room@conference.example.org/bob' type='chat' id='pm2'>"
                         "<body>hi bob</body><x xmlns='http://jabber.org/protocol/muc#user'/>"
                         "</message>");
        std::vector<AccountHarness::Sent> out;
        while (!h.sent.empty())
            out.push_back(h.take());
        QCOMPARE(out.size(), size_t(2));
        if (out[0].target != AccountHarness::Sent::Upstream)
            std::swap(out[0], out[1]); // either order
        h.sent.assign(out.begin(), out.end());
        EXPECT(h.expectUpstream("<message to='room@conference.example.org/bob' type='chat' "
                                "id='pm2'><body>hi bob</body><x "
                                "xmlns='http://jabber.org/protocol/muc#user'/></message>"));
        EXPECT(h.expectToSession(
            2, "<message from='alice@example.org' to='alice@example.org/xbnc' type='chat'>"
               "<sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
               "<message xmlns='jabber:client' from='alice@example.org/xbnc' "
               "to='room@conference.example.org/bob' type='chat' id='pm2'><body>hi bob</body>"
               "<x xmlns='http://jabber.org/protocol/muc#user'/></message></forwarded></sent>"
               "</message>"));
        EXPECT(h.expectNothing());
    }

    // IQs to the room or an occupant get a fresh id upstream; the reply reaches only the
    // session that asked, under its own id.
    void iqsToTheRoomReturnToTheAsker_data()
    {
        QTest::addColumn<QString>("request"); // %1: id
        QTest::addColumn<QString>("reply");   // %1: id
        // A room with MAM: its answer passes unchanged (tst_account_room_archive has the
        // features xbnc adds for a room without).
        QTest::newRow("disco#info of the room")
            << "<iq type='get' id='%1' to='room@conference.example.org'><query "
               "xmlns='http://jabber.org/protocol/disco#info'/></iq>"
            << "<iq type='result' id='%1' from='room@conference.example.org' "
               "to='alice@example.org/xbnc'><query "
               "xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' "
               "type='text'/><feature var='muc_persistent'/><feature var='urn:xmpp:mam:2'/>"
               "</query></iq>";
        QTest::newRow("vCard of an occupant")
            << "<iq type='get' id='%1' to='room@conference.example.org/bob'><vCard "
               "xmlns='vcard-temp'/></iq>"
            << "<iq type='result' id='%1' from='room@conference.example.org/bob' "
               "to='alice@example.org/xbnc'><vCard xmlns='vcard-temp'><FN>Bob</FN></vCard></iq>";
        QTest::newRow("configuration form")
            << "<iq type='get' id='%1' to='room@conference.example.org'><query "
               "xmlns='http://jabber.org/protocol/muc#owner'/></iq>"
            << "<iq type='error' id='%1' from='room@conference.example.org' "
               "to='alice@example.org/xbnc'><error type='auth'><forbidden "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
        // MAM queries get a queryid of xbnc's making: tst_mam covers them.
        QTest::newRow("ping to another occupant")
            << "<iq type='get' id='%1' to='room@conference.example.org/bob'><ping "
               "xmlns='urn:xmpp:ping'/></iq>"
            << "<iq type='result' id='%1' from='room@conference.example.org/bob' "
               "to='alice@example.org/xbnc'/>";
    }
    void iqsToTheRoomReturnToTheAsker()
    {
        QFETCH(QString, request);
        QFETCH(QString, reply);
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        h.fromSession(1, request.arg("q1"));
        h.fromSession(2, request.arg("q1"));
        const AccountHarness::Sent first = h.take(), second = h.take();
        EXPECT(h.expectNothing());
        QCOMPARE(first.target, AccountHarness::Sent::Upstream);
        QCOMPARE(second.target, AccountHarness::Sent::Upstream);
        const QString id1 = first.stanza.attribute(u"id"), id2 = second.stanza.attribute(u"id");
        QVERIFY(id1 != id2);
        QVERIFY(id1 != u"q1" && id2 != u"q1");
        QCOMPARE(canonical(first.stanza), canonical(request.arg(id1)));
        QCOMPARE(canonical(second.stanza), canonical(request.arg(id2)));
        h.fromUpstream(reply.arg(id2));
        EXPECT(h.expectRelayed(2, reply.arg("q1")));
        EXPECT(h.expectNothing());
        h.fromUpstream(reply.arg(id1));
        EXPECT(h.expectRelayed(1, reply.arg("q1")));
        EXPECT(h.expectNothing());
    }

    // XEP-0410: a session's ping to its own occupant JID is answered by xbnc: a result while
    // the session is in the room, not-acceptable (rejoin) when it is not.
    void selfPing_data()
    {
        QTest::addColumn<SessionId>("session");
        QTest::addColumn<QString>("before"); // what happens first
        QTest::addColumn<bool>("joined");
        QTest::newRow("the session that joined upstream") << SessionId(1) << "" << true;
        QTest::newRow("a replayed session") << SessionId(2) << "" << true;
        QTest::newRow("a session that never joined") << SessionId(3) << "" << false;
        QTest::newRow("a session that left") << SessionId(2) << "laptop leaves" << false;
        QTest::newRow("after the account left") << SessionId(1) << "both leave" << false;
        QTest::newRow("after a kick") << SessionId(1) << "kick" << false;
    }
    void selfPing()
    {
        QFETCH(SessionId, session);
        QFETCH(QString, before);
        QFETCH(bool, joined);
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        const QString leave =
            "<presence to='room@conference.example.org/alice' type='unavailable'/>";
        if (before == u"laptop leaves" || before == u"both leave")
            h.fromSession(2, leave);
        if (before == u"both leave") {
            h.fromSession(1, leave);
            h.fromUpstream("<presence from='room@conference.example.org/alice' "
                           "to='alice@example.org/xbnc' type='unavailable'><x "
                           "xmlns='http://jabber.org/protocol/muc#user'><item "
                           "affiliation='member' role='none'/><status code='110'/></x>"
                           "</presence>");
        }
        if (before == u"kick")
            h.fromUpstream("<presence from='room@conference.example.org/alice' "
                           "to='alice@example.org/xbnc' type='unavailable'><x "
                           "xmlns='http://jabber.org/protocol/muc#user'><item "
                           "affiliation='member' role='none'/><status code='110'/><status "
                           "code='307'/></x></presence>");
        h.clear();
        h.fromSession(session, selfPingTo());
        const QString answer =
            joined ? "<iq type='result' id='sp' from='room@conference.example.org/alice' "
                     "to='alice@example.org/xbnc'/>"
                   : "<iq type='error' id='sp' from='room@conference.example.org/alice' "
                     "to='alice@example.org/xbnc'><error type='cancel'><not-acceptable "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
        EXPECT(h.expectRelayed(session, answer));
        EXPECT(h.expectNothing()); // nothing upstream
    }

    // A room removes an occupant that sends it an error (Prosody: any presence error, message
    // errors with kickable conditions; XEP-0045 §18.1.2), and the occupant is the account.
    void noErrorReachesTheRoom_data()
    {
        QTest::addColumn<SessionId>("session");
        QTest::addColumn<QString>("stanza");
        QTest::newRow("a bounced groupchat message")
            << SessionId(1)
            << "<message to='room@conference.example.org' type='error' id='g1'><body>hi</body>"
               "<error type='cancel'><service-unavailable "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>";
        QTest::newRow("a bounced private message")
            << SessionId(2)
            << "<message to='room@conference.example.org/bob' type='error' id='pm1'><error "
               "type='cancel'><recipient-unavailable "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>";
        QTest::newRow("a presence error to an occupant")
            << SessionId(1)
            << "<presence to='room@conference.example.org/bob' type='error'><error "
               "type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
               "</error></presence>";
        QTest::newRow("a presence error to the room")
            << SessionId(2)
            << "<presence to='room@conference.example.org' type='error'><error type='cancel'>"
               "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
               "</presence>";
        QTest::newRow("from a session not in the room")
            << SessionId(3)
            << "<message to='room@conference.example.org' type='error' id='g1'><error "
               "type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
               "</message>";
    }
    void noErrorReachesTheRoom()
    {
        QFETCH(SessionId, session);
        QFETCH(QString, stanza);
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        h.fromSession(session, stanza);
        EXPECT(h.expectNothing());
        // the room is as it was
        h.fromUpstream(bobSays);
        EXPECT(h.expectFanOut({1, 2}, bobSays));
        EXPECT(h.expectNothing());
    }

    // XEP-0045 §7.4: groupchat from a non-occupant is refused with not-acceptable. Upstream the
    // account is the occupant, so xbnc refuses it for a session that has not joined, rather
    // than speaking in the room on its behalf.
    void groupchatFromASessionNotInTheRoom_data()
    {
        QTest::addColumn<SessionId>("session");
        QTest::addColumn<QString>("before");
        QTest::addColumn<bool>("sent");
        QTest::newRow("joined upstream") << SessionId(1) << "" << true;
        QTest::newRow("joined by replay") << SessionId(2) << "" << true;
        QTest::newRow("never joined") << SessionId(3) << "" << false;
        QTest::newRow("left") << SessionId(2) << "leave" << false;
        QTest::newRow("joined after leaving") << SessionId(2) << "leave, join" << true;
    }
    void groupchatFromASessionNotInTheRoom()
    {
        QFETCH(SessionId, session);
        QFETCH(QString, before);
        QFETCH(bool, sent);
        RoomHarness h;
        EXPECT(joinedRoom(h, {1, 2}));
        if (before.startsWith(u"leave"))
            h.fromSession(2, "<presence to='room@conference.example.org/alice' "
                             "type='unavailable'/>");
        if (before.endsWith(u"join"))
            h.fromSession(2, smallRoom::join());
        h.clear();
        const QString message = "<message to='room@conference.example.org' type='groupchat' "
                                "id='g1'><body>hi</body></message>";
        h.fromSession(session, message);
        if (sent)
            EXPECT(h.expectUpstream(message));
        else
            EXPECT(h.expectToSession(session, "<message type='error' id='g1' "
                                              "from='room@conference.example.org'><error "
                                              "type='modify'><not-acceptable "
                                              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                                              "</error></message>"));
        EXPECT(h.expectNothing());
    }

    // Through the Account: a room xbnc has never seen gets the message, and refuses it itself
    // if the account is not in it.
    void groupchatRouting_data()
    {
        QTest::addColumn<SessionId>("session");
        QTest::addColumn<QString>("to");
        QTest::addColumn<bool>("sent");
        QTest::newRow("joined") << SessionId(1) << "room@conference.example.org" << true;
        QTest::newRow("not joined") << SessionId(3) << "room@conference.example.org" << false;
        QTest::newRow("unknown room") << SessionId(1) << "other@conference.example.org" << true;
    }
    void groupchatRouting()
    {
        QFETCH(SessionId, session);
        QFETCH(QString, to);
        QFETCH(bool, sent);
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        const QString message =
            QStringLiteral("<message to='%1' type='groupchat' id='g1'><body>hi</body></message>")
                .arg(to);
        h.fromSession(session, message);
        if (sent)
            EXPECT(h.expectUpstream(message));
        else
            EXPECT(h.expectToSession(
                session, QStringLiteral("<message type='error' id='g1' from='%1' "
                                        "to='alice@example.org/xbnc'><error type='modify'>"
                                        "<not-acceptable "
                                        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                                        "</message>")
                             .arg(to)));
        EXPECT(h.expectNothing());
    }
};

QTEST_GUILESS_MAIN(TestRoomTraffic)
#include "tst_room_traffic.moc"
