// Leaving, being removed and changing nick (docs/ROOMS.md "Leaving and removal", "Nick
// changes"): the account leaves upstream only when the last session leaves explicitly.
#include "account_harness.h"
#include "room_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

// phone (1) joins upstream, laptop (2) by replay; desktop (3) is online but not in the room.
QString phoneAndLaptopInTheRoom(AccountHarness &h)
{
    h.online();
    h.bind(1, "phone");
    h.bind(2, "laptop");
    h.bind(3, "desktop");
    if (QString problem = joinFirst(h, 1); !problem.isEmpty())
        return problem;
    h.fromSession(2, joinPresence());
    h.clear();
    return {};
}

const QString leave =
    QStringLiteral("<presence to='room@conference.example.org/alice' type='unavailable'/>");

// XEP-0045 §7.14: the leaving occupant's own unavailable presence.
const QString selfUnavailable =
    QStringLiteral("<presence from='room@conference.example.org/alice' "
                   "to='alice@example.org/xbnc' type='unavailable'><x "
                   "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
                   "role='none'/><status code='110'/></x></presence>");

const QString bobSays =
    QStringLiteral("<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
                   "type='groupchat' id='g1'><body>hi</body><stanza-id xmlns='urn:xmpp:sid:0' "
                   "by='room@conference.example.org' id='s10'/></message>");

// bobSays in history, received at 20:00
const QString bobSaysLogged = QString(bobSays).replace(
    QStringLiteral("</message>"), QStringLiteral("<delay xmlns='urn:xmpp:delay' "
                                                 "from='room@conference.example.org' "
                                                 "stamp='2026-11-26T20:00:00Z'/></message>"));

const QString notAcceptable =
    QStringLiteral("<iq type='error' id='sp' from='room@conference.example.org/alice' "
                   "to='alice@example.org/xbnc'><error type='cancel'><not-acceptable "
                   "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");

const QString selfPing = QStringLiteral("<iq type='get' id='sp' "
                                        "to='room@conference.example.org/alice'><ping "
                                        "xmlns='urn:xmpp:ping'/></iq>");

QString removalPresence(const QString &item, const QString &more)
{
    return QStringLiteral("<presence from='room@conference.example.org/alice' "
                          "to='alice@example.org/xbnc' type='unavailable'><x "
                          "xmlns='http://jabber.org/protocol/muc#user'>%1%2</x></presence>")
        .arg(item, more);
}

QString status(int code)
{
    return QStringLiteral("<status code='%1'/>").arg(code);
}

// The replay of the standard room to a session, with the given history.
QString expectStandardReplay(AccountHarness &h, SessionId session, const QStringList &history)
{
    const RoomScript script = standardRoom();
    for (const QStringList &part :
         {script.occupants, QStringList{script.self}, history, QStringList{script.subject}})
        if (QString problem = h.expectRelayed(session, part); !problem.isEmpty())
            return problem;
    return {};
}

} // namespace

class TestRoomLeave : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void disconnectIsNotALeave()
    {
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        h.account.sessionClosed(1);
        // the sessions are one resource to the world: nobody sees phone go, nothing goes upstream
        EXPECT(h.expectNothing());
        h.fromUpstream(bobSays);
        EXPECT(h.expectFanOut({2}, bobSays));
        EXPECT(h.expectNothing());
    }

    void lastSessionDisconnectingKeepsTheAccountInTheRoom()
    {
        const QDateTime now(QDate(2026, 11, 26), QTime(20, 0), Qt::UTC);
        AccountHarness h;
        h.account.setNow([now] { return now; });
        h.online();
        h.bind(1, "phone");
        EXPECT(joinFirst(h, 1));
        h.account.sessionClosed(1);
        // the aggregate falls back to the idle presence; no unavailable, nothing to the room
        EXPECT(h.expectUpstream(idlePresence()));
        EXPECT(h.expectNothing());
        h.fromUpstream(bobSays);
        EXPECT(h.expectNothing());
        // back again: the account is still in the room, and the message is history
        h.bind(2, "phone");
        h.fromSession(2, joinPresence());
        EXPECT(expectStandardReplay(h, 2, standardRoom().history << bobSaysLogged));
        EXPECT(h.expectNothing());
    }

    // An explicit leave while another session stays: only the leaver sees itself go.
    void leaveWhileOthersStay_data()
    {
        QTest::addColumn<SessionId>("leaver");
        QTest::addColumn<QString>("presence");
        QTest::newRow("to the occupant JID") << SessionId(1) << leave;
        QTest::newRow("to the room's bare JID")
            << SessionId(1) << "<presence to='room@conference.example.org' type='unavailable'/>";
        QTest::newRow("the replayed session") << SessionId(2) << leave;
        QTest::newRow("to another nick") // the session's idea of its nick may be stale
            << SessionId(2)
            << "<presence to='room@conference.example.org/alice2' type='unavailable'/>";
    }
    void leaveWhileOthersStay()
    {
        QFETCH(SessionId, leaver);
        QFETCH(QString, presence);
        const SessionId stayer = leaver == 1 ? 2 : 1;
        AccountHarness h;
        h.account.setNow([] { return QDateTime(QDate(2026, 11, 26), QTime(20, 0), Qt::UTC); });
        EXPECT(phoneAndLaptopInTheRoom(h));
        h.fromSession(leaver, presence);
        EXPECT(h.expectRelayed(leaver, selfUnavailable));
        EXPECT(h.expectNothing());
        h.fromUpstream(bobSays);
        EXPECT(h.expectFanOut({stayer}, bobSays));
        EXPECT(h.expectNothing());
        // coming back is a replay
        h.fromSession(leaver, joinPresence());
        EXPECT(expectStandardReplay(h, leaver, standardRoom().history << bobSaysLogged));
        EXPECT(h.expectNothing());
    }

    // The last explicit leave goes upstream; the room's answer goes to the leaver; the room
    // is forgotten, so the next join is a new join upstream.
    void lastLeave_data()
    {
        QTest::addColumn<QString>("presence"); // from the last session
        QTest::addColumn<QString>("upstream");
        QTest::addColumn<bool>("alone"); // no other session ever joined
        QTest::newRow("alone") << leave << leave << true;
        QTest::newRow("after the other session left") << leave << leave << false;
        QTest::newRow("to the room's bare JID")
            << "<presence to='room@conference.example.org' type='unavailable'/>" << leave << true;
        QTest::newRow("with a status")
            << "<presence to='room@conference.example.org/alice' type='unavailable'>"
               "<status>bye</status></presence>"
            << "<presence to='room@conference.example.org/alice' type='unavailable'>"
               "<status>bye</status></presence>"
            << false;
    }
    void lastLeave()
    {
        QFETCH(QString, presence);
        QFETCH(QString, upstream);
        QFETCH(bool, alone);
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        EXPECT(joinFirst(h, 1));
        if (!alone) {
            h.fromSession(2, joinPresence());
            h.fromSession(2, leave);
            h.clear();
        }
        h.fromSession(1, presence);
        EXPECT(h.expectUpstream(upstream));
        EXPECT(h.expectNothing());
        h.fromUpstream(selfUnavailable);
        EXPECT(h.expectRelayed(1, selfUnavailable));
        EXPECT(h.expectNothing());
        // stragglers from the room reach nobody; the session is told it is not in the room
        h.fromUpstream("<message from='room@conference.example.org/bob' "
                       "to='alice@example.org/xbnc' type='groupchat'><active "
                       "xmlns='http://jabber.org/protocol/chatstates'/></message>");
        EXPECT(h.expectNothing());
        h.fromSession(1, selfPing);
        EXPECT(h.expectRelayed(1, notAcceptable));
        // a new join goes upstream and nothing of the old state remains
        h.fromSession(2, joinPresence());
        EXPECT(h.expectUpstream(joinPresence()));
        EXPECT(h.expectNothing());
        // the room sends its history again (same stanza-ids): the new session gets it, and the
        // replay shows each message once
        RoomScript now = standardRoom();
        now.occupants = QStringList{now.occupants[1]};
        for (const QString &stanza : now.all())
            h.fromUpstream(stanza);
        EXPECT(h.expectRelayed(2, now.all()));
        h.fromSession(1, joinPresence());
        EXPECT(h.expectRelayed(1, now.all()));
        EXPECT(h.expectNothing());
    }

    // A kept room is not left upstream when its last session leaves.
    void keptRoom_data()
    {
        QTest::addColumn<QString>("how");
        QTest::addColumn<bool>("leavesUpstream");
        QTest::newRow("persistent room") << "room" << false;
        QTest::newRow("made persistent while joined") << "room later" << false;
        QTest::newRow("all rooms persistent") << "all" << false;
        QTest::newRow("persistence switched off again") << "off" << true;
    }
    void keptRoom()
    {
        QFETCH(QString, how);
        QFETCH(bool, leavesUpstream);
        const QDateTime now(QDate(2026, 11, 26), QTime(20, 0), Qt::UTC);
        AccountHarness h;
        h.account.setNow([now] { return now; });
        h.online();
        h.bind(1, "phone");
        if (how == u"room" || how == u"off")
            h.account.setRoomPersistent(RoomScript::jid, true);
        if (how == u"all")
            h.account.setAllRoomsPersistent(true);
        EXPECT(joinFirst(h, 1));
        if (how == u"room later")
            h.account.setRoomPersistent(RoomScript::jid, true);
        if (how == u"off")
            h.account.setRoomPersistent(RoomScript::jid, false);
        h.fromSession(1, leave);
        if (leavesUpstream) {
            EXPECT(h.expectUpstream(leave));
            EXPECT(h.expectNothing());
            return;
        }
        EXPECT(h.expectRelayed(1, selfUnavailable));
        EXPECT(h.expectNothing());
        h.fromUpstream(bobSays);
        EXPECT(h.expectNothing());
        h.fromSession(1, joinPresence());
        EXPECT(expectStandardReplay(h, 1, standardRoom().history << bobSaysLogged));
        EXPECT(h.expectNothing());
    }

    // Removal from the room goes to every joined session; the state is cleared; xbnc does not
    // rejoin by itself after a kick, a ban, an affiliation change or a destruction.
    void removal_data()
    {
        QTest::addColumn<QString>("presence");
        QTest::addColumn<bool>("final"); // no rejoin after an upstream reconnect
        const QString member = "<item affiliation='member' role='none'/>";
        QTest::newRow("kick 307")
            << removalPresence(
                   "<item affiliation='member' role='none'><actor nick='bob'/><reason>Be "
                   "nice</reason></item>",
                   status(110) + status(307))
            << true;
        QTest::newRow("kick 307 without 110 (self known by nick)")
            << removalPresence(member, status(307)) << true;
        QTest::newRow("ban 301")
            << removalPresence(
                   "<item affiliation='outcast' role='none'><reason>Spam</reason></item>",
                   status(110) + status(301))
            << true;
        QTest::newRow("affiliation change 321")
            << removalPresence("<item affiliation='none' role='none'/>", status(110) + status(321))
            << true;
        QTest::newRow("members-only 322")
            << removalPresence("<item affiliation='none' role='none'/>", status(110) + status(322))
            << true;
        QTest::newRow("shutdown 332")
            << removalPresence(member, status(110) + status(332)) << false;
        QTest::newRow("technical error 333")
            << removalPresence(member, status(110) + status(333)) << false;
        QTest::newRow("destroyed")
            << removalPresence("<item affiliation='none' role='none'/>",
                               "<destroy jid='tea@conference.example.org'><reason>Moved</reason>"
                               "</destroy>" +
                                   status(110))
            << true;
    }
    void removal()
    {
        QFETCH(QString, presence);
        QFETCH(bool, final);
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        h.fromUpstream(presence);
        EXPECT(h.expectFanOut({1, 2}, presence));
        EXPECT(h.expectNothing()); // no rejoin, nothing to desktop
        h.fromUpstream(bobSays);
        EXPECT(h.expectNothing());
        h.fromSession(1, selfPing);
        EXPECT(h.expectRelayed(1, notAcceptable));
        if (final) {
            h.account.upstreamOffline();
            h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
            for (const AccountHarness::Sent &sent : h.sent)
                QVERIFY2(!sent.stanza.attribute(u"to").startsWith(RoomScript::jid),
                         qPrintable("rejoined: " + canonical(sent.stanza)));
            h.clear();
        }
        // the next join is a new one upstream
        h.fromSession(3, joinPresence());
        EXPECT(h.expectUpstream(joinPresence()));
        EXPECT(h.expectNothing());
    }

    // A session's nick change goes upstream; both halves of the room's answer reach every
    // joined session, and the account's nick is the new one.
    void nickChange_data()
    {
        QTest::addColumn<SessionId>("changer");
        QTest::newRow("the session that joined upstream") << SessionId(1);
        QTest::newRow("a replayed session") << SessionId(2);
    }
    void nickChange()
    {
        QFETCH(SessionId, changer);
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        h.bind(4, "tablet");
        h.fromSession(changer, "<presence to='room@conference.example.org/alicia'/>");
        EXPECT(h.expectUpstream("<presence to='room@conference.example.org/alicia'/>"));
        EXPECT(h.expectNothing());
        const QString gone =
            "<presence from='room@conference.example.org/alice' to='alice@example.org/xbnc' "
            "type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item "
            "affiliation='member' jid='alice@example.org/xbnc' nick='alicia' "
            "role='participant'/><status code='303'/><status code='110'/></x></presence>";
        const QString back =
            "<presence from='room@conference.example.org/alicia' to='alice@example.org/xbnc'>"
            "<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
            "jid='alice@example.org/xbnc' role='participant'/><status code='110'/></x>"
            "</presence>";
        h.fromUpstream(gone);
        EXPECT(h.expectFanOut({1, 2}, gone));
        h.fromUpstream(back);
        EXPECT(h.expectFanOut({1, 2}, back));
        EXPECT(h.expectNothing());
        // later joins see the new nick; 210 for one that asks for the old one
        const RoomScript script = standardRoom();
        h.fromSession(3, joinPresence("alicia"));
        EXPECT(h.expectRelayed(3, script.occupants));
        EXPECT(h.expectRelayed(3, back));
        EXPECT(h.expectRelayed(3, script.history));
        EXPECT(h.expectRelayed(3, script.subject));
        EXPECT(h.expectNothing());
        h.fromSession(4, joinPresence("alice"));
        EXPECT(h.expectRelayed(4, script.occupants));
        EXPECT(h.expectRelayed(4, QString(back).replace("</x>", status(210) + "</x>")));
        EXPECT(h.expectRelayed(4, script.history));
        EXPECT(h.expectRelayed(4, script.subject));
        EXPECT(h.expectNothing());
        // the self-ping follows the nick
        h.fromSession(1, "<iq type='get' id='sp' to='room@conference.example.org/alicia'><ping "
                         "xmlns='urn:xmpp:ping'/></iq>");
        EXPECT(h.expectToSession(1, "<iq type='result' id='sp' "
                                    "from='room@conference.example.org/alicia' "
                                    "to='alice@example.org/xbnc'/>"));
        EXPECT(h.expectNothing());
    }

    // A presence error while joined answers one session's presence: it goes to the session
    // that sent the room the last presence, and the room stays joined.
    void presenceErrorWhileJoined_data()
    {
        QTest::addColumn<SessionId>("first");
        QTest::addColumn<QString>("firstPresence");
        QTest::addColumn<SessionId>("second"); // 0: none
        QTest::addColumn<QString>("secondPresence");
        QTest::addColumn<QString>("error");
        const QString conflict =
            "<presence from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
            "type='error'><error type='cancel' code='409'><conflict "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>";
        const QString toBob = "<presence to='room@conference.example.org/bob'/>";
        const QString away =
            "<presence to='room@conference.example.org/alice'><show>away</show></presence>";
        QTest::newRow("nick conflict of the first session")
            << SessionId(1) << toBob << SessionId(0) << "" << conflict;
        QTest::newRow("nick conflict of the replayed session")
            << SessionId(2) << toBob << SessionId(0) << "" << conflict;
        QTest::newRow("the last presence decides")
            << SessionId(1) << toBob << SessionId(2) << away
            << "<presence from='room@conference.example.org/alice' "
               "to='alice@example.org/xbnc' type='error'><error type='modify'><not-acceptable "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>";
    }
    void presenceErrorWhileJoined()
    {
        QFETCH(SessionId, first);
        QFETCH(QString, firstPresence);
        QFETCH(SessionId, second);
        QFETCH(QString, secondPresence);
        QFETCH(QString, error);
        AccountHarness h;
        EXPECT(phoneAndLaptopInTheRoom(h));
        h.fromSession(first, firstPresence);
        EXPECT(h.expectUpstream(firstPresence));
        if (second) {
            h.fromSession(second, secondPresence);
            EXPECT(h.expectUpstream(secondPresence));
        }
        EXPECT(h.expectNothing());
        h.fromUpstream(error);
        EXPECT(h.expectRelayed(second ? second : first, error));
        EXPECT(h.expectNothing());
        h.fromUpstream(bobSays);
        EXPECT(h.expectFanOut({1, 2}, bobSays));
        EXPECT(h.expectNothing());
    }

    // A removal that is the room's decision is remembered (autojoin does not undo it) until a
    // session joins again by itself; one that passes is retried instead.
    void removalIsRememberedUntilASessionJoins_data()
    {
        QTest::addColumn<QString>("removal"); // inside the self-presence's <x/>
        QTest::addColumn<QString>("remembered");
        QTest::addColumn<int>("phase"); // Room::Phase after the removal
        const int out = int(Room::Phase::Out);
        QTest::newRow("kick") << "<status code='307'/>"
                              << "kicked" << out;
        QTest::newRow("ban") << "<status code='301'/>"
                             << "banned" << out;
        QTest::newRow("affiliation change") << "<status code='321'/>"
                                            << "affiliation change" << out;
        QTest::newRow("members-only") << "<status code='322'/>"
                                      << "members-only" << out;
        QTest::newRow("destroyed") << "<destroy/>"
                                   << "destroyed" << out;
        QTest::newRow("technical error, with a 307 to ignore")
            << "<status code='307'/><status code='333'/>"
            << "" << int(Room::Phase::Retrying);
    }
    void removalIsRememberedUntilASessionJoins()
    {
        QFETCH(QString, removal);
        QFETCH(QString, remembered);
        QFETCH(int, phase);
        RoomHarness h;
        EXPECT(joinedRoom(h, {1}));
        h.fromUpstream(QStringLiteral("<presence from='room@conference.example.org/alice' "
                                      "to='alice@example.org/xbnc' type='unavailable'><x "
                                      "xmlns='http://jabber.org/protocol/muc#user'><item "
                                      "affiliation='none' role='none'/><status code='110'/>%1"
                                      "</x></presence>")
                           .arg(removal));
        h.clear();
        QCOMPARE(h.room.removal(), remembered);
        QCOMPARE(int(h.room.phase()), phase);
        h.fromSession(1, smallRoom::join());
        EXPECT(h.expectUpstream(smallRoom::join()));
        QCOMPARE(h.room.removal(), QString());
    }
};

QTEST_GUILESS_MAIN(TestRoomLeave)
#include "tst_room_leave.moc"
