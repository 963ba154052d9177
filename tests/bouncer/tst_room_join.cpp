// Joining a room through xbnc (docs/ROOMS.md "Joining"): the account joins once upstream, later
// sessions get the join replayed from the room's state in XEP-0045 §7.1 order.
#include "account_harness.h"
#include "room_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

// The account's self-presence in the standard room with other status codes.
QString selfWith(const QString &nick, const QString &statuses)
{
    return QStringLiteral("<presence from='room@conference.example.org/%1' "
                          "to='alice@example.org/xbnc'><x "
                          "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
                          "jid='alice@example.org/xbnc' role='participant'/>%2</x></presence>")
        .arg(nick, statuses);
}

QString status(int code)
{
    return QStringLiteral("<status code='%1'/>").arg(code);
}

QString errorPresence(const QString &from, const QString &error)
{
    return QStringLiteral("<presence from='%1' to='alice@example.org/xbnc' type='error'><x "
                          "xmlns='http://jabber.org/protocol/muc'/>%2</presence>")
        .arg(from, error);
}

QString stanzaError(const QString &type, const QString &condition, int code)
{
    return QStringLiteral("<error type='%1' code='%3'><%2 "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>")
        .arg(type, condition)
        .arg(code);
}

const QString selfUnavailable =
    QStringLiteral("<presence from='room@conference.example.org/alice' "
                   "to='alice@example.org/xbnc' type='unavailable'><x "
                   "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
                   "role='none'/><status code='110'/></x></presence>");

// An occupant of a big room, written as xbnc writes XML, so that a replay is compared byte for
// byte with what the room sent.
QByteArray bigRoomOccupant(int i, const QString &extra = {})
{
    return QStringLiteral("<presence from='room@conference.example.org/zo\u00eb%1' "
                          "to='alice@example.org/xbnc'>%2<x "
                          "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' "
                          "role='participant'/></x></presence>")
        .arg(i)
        .arg(extra)
        .toUtf8();
}

QByteArray bigRoomLeave(int i)
{
    return QStringLiteral("<presence from='room@conference.example.org/zo\u00eb%1' "
                          "to='alice@example.org/xbnc' type='unavailable'><x "
                          "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' "
                          "role='none'/></x></presence>")
        .arg(i)
        .toUtf8();
}

} // namespace

class TestRoomJoin : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void firstJoinGoesUpstreamOnce_data()
    {
        QTest::addColumn<QString>("join");
        QTest::addColumn<QString>("upstream");
        QTest::newRow("plain") << joinPresence() << joinPresence();
        const QString withHistory =
            joinPresence("alice", "<history maxstanzas='5'/><password>pw</password>");
        QTest::newRow("history and password pass unchanged") << withHistory << withHistory;
        const QString rich = QStringLiteral(
            "<presence to='room@conference.example.org/alice'><show>dnd</show><status>busy"
            "</status><x xmlns='http://jabber.org/protocol/muc'/><c "
            "xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/><x "
            "xmlns='urn:example:unknown'><y a='1'/></x></presence>");
        QTest::newRow("show, status, caps and unknown payloads kept") << rich << rich;
        QTest::newRow("the client's from is dropped")
            << "<presence from='alice@example.org/phone' to='room@conference.example.org/alice' "
               "id='j1'><x xmlns='http://jabber.org/protocol/muc'/></presence>"
            << "<presence to='room@conference.example.org/alice' id='j1'><x "
               "xmlns='http://jabber.org/protocol/muc'/></presence>";
    }
    void firstJoinGoesUpstreamOnce()
    {
        QFETCH(QString, join);
        QFETCH(QString, upstream);
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        h.fromSession(1, join);
        EXPECT(h.expectUpstream(upstream));
        EXPECT(h.expectNothing());
    }

    // The first session sees the room's answer as the room sent it, stanza by stanza, 201
    // included; the session that is not joining sees none of it.
    void firstJoinIsAnsweredLive()
    {
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        RoomScript script = standardRoom();
        script.occupants.clear();
        script.history.clear();
        script.self = selfWith("alice", status(110) + status(201));
        script.subject = "<message from='room@conference.example.org' "
                         "to='alice@example.org/xbnc' type='groupchat' id='e'><subject/></message>";
        h.fromSession(1, joinPresence());
        EXPECT(h.expectUpstream(joinPresence()));
        for (const QString &stanza : script.all()) {
            h.fromUpstream(stanza);
            EXPECT(h.expectRelayed(1, stanza));
            EXPECT(h.expectNothing());
        }
        // a later session: no 201, the room was created once
        h.fromSession(2, joinPresence());
        EXPECT(h.expectRelayed(2, selfWith("alice", status(110))));
        EXPECT(h.expectRelayed(2, script.subject));
        EXPECT(h.expectNothing());
    }

    // Replay order (occupants, self, history, subject) and the status codes of the replayed
    // self-presence.
    void replay_data()
    {
        QTest::addColumn<QString>("roomSelf"); // what the room said to the account
        QTest::addColumn<QString>("nick");     // what the second session asks for
        QTest::addColumn<QString>("replayed"); // the second session's self-presence
        const QString standard = standardRoom().self;
        QTest::newRow("non-anonymous, logged: 100 110 170 kept") << standard << "alice" << standard;
        QTest::newRow("new room: 201 removed") << selfWith("alice", status(110) + status(201))
                                               << "alice" << selfWith("alice", status(110));
        QTest::newRow("another nick asked for: 210 added")
            << standard << "alice-laptop"
            << selfWith("alice", status(100) + status(110) + status(170) + status(210));
        QTest::newRow("room without 110 (self known by nick): 110 added")
            << selfWith("alice", status(100)) << "alice"
            << selfWith("alice", status(100) + status(110));
        QTest::newRow("nick assigned by the room, asked for the original: 210 kept once")
            << selfWith("alice_", status(110) + status(210)) << "alice"
            << selfWith("alice_", status(110) + status(210));
        // XEP-0045 §7.2.9: 210 says the room changed the nick asked for; it did not.
        QTest::newRow("nick assigned by the room, asked for that one: no 210")
            << selfWith("alice_", status(110) + status(210)) << "alice_"
            << selfWith("alice_", status(110));
    }
    void replay()
    {
        QFETCH(QString, roomSelf);
        QFETCH(QString, nick);
        QFETCH(QString, replayed);
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        h.bind(3, "desktop");
        RoomScript script = standardRoom();
        script.self = roomSelf;
        EXPECT(joinFirst(h, 1, script));
        h.fromSession(2, joinPresence(nick));
        EXPECT(h.expectRelayed(2, script.occupants));
        EXPECT(h.expectRelayed(2, replayed));
        EXPECT(h.expectRelayed(2, script.history));
        EXPECT(h.expectRelayed(2, script.subject));
        EXPECT(h.expectNothing()); // nothing upstream, nothing to the others
    }

    // A room of a thousand occupants that come, change and go: a later session gets each one
    // still there once, in the order the room introduced them (a changed one keeps its place,
    // one back after leaving comes last), as the exact bytes the room sent, in one replay.
    void bigRoomReplaysTheRoomsBytesInItsOrder()
    {
        RoomHarness h;
        EXPECT(joinedRoom(h, {1}));
        constexpr int count = 1000;
        for (int i = 0; i < count; ++i)
            h.fromUpstream(QString::fromUtf8(bigRoomOccupant(i)));
        for (int i = 0; i < count; i += 3)
            h.fromUpstream(QString::fromUtf8(bigRoomLeave(i)));
        const QString away = QStringLiteral("<show>away</show>");
        h.fromUpstream(QString::fromUtf8(bigRoomOccupant(1, away)));
        h.fromUpstream(QString::fromUtf8(bigRoomOccupant(3)));
        h.clear();

        h.fromSession(2, smallRoom::join());
        QByteArray expected = Element::fromXml(smallRoom::bob().toUtf8()).toXml();
        for (int i = 0; i < count; ++i) {
            if (i % 3 != 0)
                expected += bigRoomOccupant(i, i == 1 ? away : QString());
        }
        expected += bigRoomOccupant(3);
        QCOMPARE(h.serializedReplays.size(), 1);
        QCOMPARE(h.serializedReplays.first().first, SessionId(2));
        QCOMPARE(h.serializedReplays.first().second, expected);
        EXPECT(h.expectToSession(2, smallRoom::bob()));
        for (int i = 0; i < count; ++i) {
            if (i % 3 != 0)
                EXPECT(h.expectToSession(
                    2, QString::fromUtf8(bigRoomOccupant(i, i == 1 ? away : QString()))));
        }
        EXPECT(h.expectToSession(2, QString::fromUtf8(bigRoomOccupant(3))));
        EXPECT(h.expectToSession(2, smallRoom::self()));
    }

    // A new room stays locked until its owner configures it: the room sends the 201
    // self-presence and no subject. A later session still gets a whole join, ending with an
    // empty subject.
    void lockedNewRoomReplaysAnEmptySubject()
    {
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        RoomScript script = standardRoom();
        script.occupants.clear();
        script.history.clear();
        script.subject.clear();
        script.self = selfWith("alice", status(110) + status(201));
        EXPECT(joinFirst(h, 1, script));
        h.fromSession(2, joinPresence());
        EXPECT(h.expectRelayed(2, selfWith("alice", status(110))));
        EXPECT(h.expectRelayed(2, "<message from='room@conference.example.org' "
                                  "to='alice@example.org/xbnc' type='groupchat'><subject/>"
                                  "</message>"));
        EXPECT(h.expectNothing());
    }

    // A join while the account's join is in flight: what the room has sent so far, then the
    // rest live. The subject ends the join, so nothing is made up before it arrives.
    void joinWhileJoining_data()
    {
        QTest::addColumn<int>("before"); // stanzas of the room's answer before the second join
        QTest::newRow("nothing answered yet") << 0;
        QTest::newRow("one occupant") << 1;
        QTest::newRow("both occupants") << 2;
        QTest::newRow("self-presence") << 3;
        QTest::newRow("one history message") << 4;
        QTest::newRow("all history, no subject yet") << 5;
    }
    void joinWhileJoining()
    {
        QFETCH(int, before);
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        h.bind(3, "desktop");
        const RoomScript script = standardRoom();
        const QStringList answer = script.all();
        h.fromSession(1, joinPresence());
        EXPECT(h.expectUpstream(joinPresence()));
        for (int i = 0; i < before; ++i) {
            h.fromUpstream(answer[i]);
            EXPECT(h.expectRelayed(1, answer[i]));
        }
        h.fromSession(2, joinPresence());
        EXPECT(h.expectRelayed(2, answer.mid(0, before)));
        EXPECT(h.expectNothing()); // the account's join is already on its way
        for (int i = before; i < answer.size(); ++i) {
            h.fromUpstream(answer[i]);
            EXPECT(h.expectFanOut({1, 2}, answer[i]));
            EXPECT(h.expectNothing());
        }
        // joined now: a third session gets the whole replay
        h.fromSession(3, joinPresence());
        EXPECT(h.expectRelayed(3, answer));
        EXPECT(h.expectNothing());
    }

    // A join from a session that is already joined is a resync: the whole sequence again.
    void resync_data()
    {
        QTest::addColumn<SessionId>("session");
        QTest::addColumn<QString>("payload"); // inside the join's <x/>
        QTest::addColumn<bool>("history");
        QTest::newRow("the session that joined upstream") << SessionId(1) << "" << true;
        QTest::newRow("a replayed session") << SessionId(2) << "" << true;
        QTest::newRow("without history") << SessionId(2) << "<history maxstanzas='0'/>" << false;
    }
    void resync()
    {
        QFETCH(SessionId, session);
        QFETCH(QString, payload);
        QFETCH(bool, history);
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        const RoomScript script = standardRoom();
        EXPECT(joinFirst(h, 1, script));
        h.fromSession(2, joinPresence());
        h.clear();
        h.fromSession(session, joinPresence("alice", payload));
        EXPECT(h.expectRelayed(session, script.occupants));
        EXPECT(h.expectRelayed(session, script.self));
        if (history)
            EXPECT(h.expectRelayed(session, script.history));
        EXPECT(h.expectRelayed(session, script.subject));
        EXPECT(h.expectNothing());
    }

    // Join errors go to the sessions waiting for the join, exactly as the room sent them, and
    // the room is not joined any more.
    void joinError_data()
    {
        QTest::addColumn<QString>("error");
        QTest::newRow("401 not-authorized (password)") << errorPresence(
            RoomScript::occupant("alice"), stanzaError("auth", "not-authorized", 401));
        QTest::newRow("403 forbidden (banned)")
            << errorPresence(RoomScript::occupant("alice"), stanzaError("auth", "forbidden", 403));
        QTest::newRow("407 registration-required (members only)") << errorPresence(
            RoomScript::occupant("alice"), stanzaError("auth", "registration-required", 407));
        QTest::newRow("409 conflict (nick in use)")
            << errorPresence(RoomScript::occupant("alice"), stanzaError("cancel", "conflict", 409));
        QTest::newRow("503 service-unavailable (full)") << errorPresence(
            RoomScript::occupant("alice"), stanzaError("wait", "service-unavailable", 503));
        QTest::newRow("jid-malformed, from the room's bare JID")
            << errorPresence(RoomScript::jid, stanzaError("modify", "jid-malformed", 400));
    }
    void joinError()
    {
        QFETCH(QString, error);
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        h.bind(3, "desktop");
        h.fromSession(1, joinPresence());
        EXPECT(h.expectUpstream(joinPresence()));
        h.fromSession(2, joinPresence());
        EXPECT(h.expectNothing());
        h.fromUpstream(error);
        EXPECT(h.expectFanOut({1, 2}, error));
        EXPECT(h.expectNothing());
        // not joined: the room's traffic reaches nobody, a self-ping says so, a join goes up
        h.fromUpstream("<message from='room@conference.example.org/bob' "
                       "to='alice@example.org/xbnc' type='groupchat'><body>late</body></message>");
        EXPECT(h.expectNothing());
        h.fromSession(1, "<iq type='get' id='sp' to='room@conference.example.org/alice'><ping "
                         "xmlns='urn:xmpp:ping'/></iq>");
        EXPECT(h.expectToSession(
            1, "<iq type='error' id='sp' from='room@conference.example.org/alice' "
               "to='alice@example.org/xbnc'><error type='cancel'><not-acceptable "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"));
        h.fromSession(3, joinPresence());
        EXPECT(h.expectUpstream(joinPresence()));
        EXPECT(h.expectNothing());
    }

    // A password given once is given again by the account's later joins.
    void passwordIsRemembered_data()
    {
        QTest::addColumn<QString>("ending"); // how the first membership ends
        QTest::newRow("after the last leave") << "leave";
        QTest::newRow("after a join error") << "error";
        QTest::newRow("after a kick") << "kick";
    }
    void passwordIsRemembered()
    {
        QFETCH(QString, ending);
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        const QString withPassword = joinPresence("alice", "<password>secret</password>");
        h.fromSession(1, withPassword);
        EXPECT(h.expectUpstream(withPassword));
        if (ending == u"error") {
            h.fromUpstream(errorPresence(RoomScript::occupant("alice"),
                                         stanzaError("wait", "service-unavailable", 503)));
        } else {
            for (const QString &stanza : standardRoom().all())
                h.fromUpstream(stanza);
            if (ending == u"leave") {
                h.fromSession(1, "<presence to='room@conference.example.org/alice' "
                                 "type='unavailable'/>");
                EXPECT(h.expectRelayed(1, standardRoom().all()));
                EXPECT(h.expectUpstream("<presence to='room@conference.example.org/alice' "
                                        "type='unavailable'/>"));
                h.fromUpstream(selfUnavailable);
            } else {
                h.fromUpstream("<presence from='room@conference.example.org/alice' "
                               "to='alice@example.org/xbnc' type='unavailable'><x "
                               "xmlns='http://jabber.org/protocol/muc#user'><item "
                               "affiliation='member' role='none'/><status code='110'/><status "
                               "code='307'/></x></presence>");
            }
        }
        h.clear();
        h.fromSession(1, joinPresence());
        EXPECT(h.expectUpstream(withPassword));
        EXPECT(h.expectNothing());
    }

    // A session that joins while the account's join is on its way is answered with the room's
    // self-presence as a replay would give it: 210 when the account's nick is not the one it
    // asked for, no 201 (the room was created for the first session's join).
    void selfPresenceToASessionJoiningDuringTheJoin_data()
    {
        QTest::addColumn<QString>("laptopNick"); // phone asked for 'alice'
        QTest::addColumn<QString>("roomAnswer"); // the room's self-presence, as status codes
        QTest::addColumn<QString>("assigned");   // the nick the room gave the account
        QTest::addColumn<QString>("toPhone");
        QTest::addColumn<QString>("toLaptop");
        const QString s110 = status(110);
        QTest::newRow("same nick") << "alice" << s110 << "alice" << s110 << s110;
        QTest::newRow("another nick") << "al" << s110 << "alice" << s110 << s110 + status(210);
        QTest::newRow("another nick, room created")
            << "al" << s110 + status(201) << "alice" << s110 + status(201) << s110 + status(210);
        QTest::newRow("the room renamed the account to laptop's nick")
            << "alice2" << s110 + status(210) << "alice2" << s110 + status(210) << s110;
        QTest::newRow("the room renamed the account, laptop asked phone's nick")
            << "alice" << s110 + status(210) << "alice2" << s110 + status(210)
            << s110 + status(210);
    }
    void selfPresenceToASessionJoiningDuringTheJoin()
    {
        QFETCH(QString, laptopNick);
        QFETCH(QString, roomAnswer);
        QFETCH(QString, assigned);
        QFETCH(QString, toPhone);
        QFETCH(QString, toLaptop);
        RoomHarness h;
        h.fromSession(1, smallRoom::join());
        EXPECT(h.expectUpstream(smallRoom::join()));
        h.fromSession(2, smallRoom::join(laptopNick));
        EXPECT(h.expectNothing()); // nothing of the room yet, and one join upstream
        const auto self = [&](const QString &codes) {
            return QStringLiteral("<presence from='room@conference.example.org/%1' "
                                  "to='alice@example.org/xbnc'><x "
                                  "xmlns='http://jabber.org/protocol/muc#user'><item "
                                  "affiliation='member' role='participant'/>%2</x></presence>")
                .arg(assigned, codes);
        };
        h.fromUpstream(self(roomAnswer));
        if (toPhone == toLaptop) {
            EXPECT(h.expectToSessions({1, 2}, self(toPhone)));
        } else {
            EXPECT(h.expectToSession(2, self(toLaptop)));
            EXPECT(h.expectToSession(1, self(toPhone)));
        }
        EXPECT(h.expectNothing());
    }

    // A join has a deadline: with no answer at all the waiting sessions get an error (the
    // room cannot be reached) and the room is not joined; a room that sent the self-presence
    // but never the subject that ends a join is taken as joined.
    void joinDeadline_data()
    {
        QTest::addColumn<QStringList>("answer"); // what the room sends before the deadline
        QTest::addColumn<QString>("atDeadline"); // to both sessions; empty: nothing
        QTest::addColumn<int>("phase");          // Room::Phase
        QTest::newRow("no answer")
            << QStringList{}
            << "<presence type='error' from='room@conference.example.org/alice'><error "
               "type='wait'><remote-server-timeout "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
            << int(Room::Phase::Out);
        QTest::newRow("occupants only")
            << QStringList{smallRoom::bob()}
            << "<presence type='error' from='room@conference.example.org/alice'><error "
               "type='wait'><remote-server-timeout "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
            << int(Room::Phase::Out);
        QTest::newRow("no subject") << QStringList{smallRoom::bob(), smallRoom::self()} << QString()
                                    << int(Room::Phase::Joined);
    }
    void joinDeadline()
    {
        QFETCH(QStringList, answer);
        QFETCH(QString, atDeadline);
        QFETCH(int, phase);
        RoomHarness h;
        h.fromSession(1, smallRoom::join());
        h.fromSession(2, smallRoom::join());
        for (const QString &stanza : answer)
            h.fromUpstream(stanza);
        h.clear();
        h.advance(std::chrono::seconds(59));
        EXPECT(h.expectNothing());
        QCOMPARE(h.room.phase(), Room::Phase::Joining);
        h.advance(std::chrono::seconds(1));
        if (!atDeadline.isEmpty())
            EXPECT(h.expectToSessions({1, 2}, atDeadline));
        EXPECT(h.expectNothing());
        QCOMPARE(int(h.room.phase()), phase);
    }
};

QTEST_GUILESS_MAIN(TestRoomJoin)
#include "tst_room_join.moc"
