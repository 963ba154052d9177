// Keeping the account in its rooms: XEP-0410 self-pings after a silence, read as XEP-0410 §3.2
// says; a rejoin when the room dropped the account; a rejoin after an upstream reconnect that
// shows sessions only what changed; failed rejoins that tell sessions they are out and retry
// with backoff while the error may pass; <history since> on the room's own clock.
#include "account_harness.h"
#include "room_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

const QString room = QStringLiteral("tea@conference.example.org");
const QString self =
    QStringLiteral("<presence from='tea@conference.example.org/al' to='alice@example.org/xbnc'><x "
                   "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
                   "role='participant'/><status code='110'/></x></presence>");
const QString bob =
    QStringLiteral("<presence from='tea@conference.example.org/bob' to='alice@example.org/xbnc'><x "
                   "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
                   "role='participant'/></x></presence>");
const QString carol = QStringLiteral(
    "<presence from='tea@conference.example.org/carol' to='alice@example.org/xbnc'><x "
    "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' "
    "role='participant'/></x></presence>");
const QString subject =
    QStringLiteral("<message from='tea@conference.example.org' to='alice@example.org/xbnc' "
                   "type='groupchat'><subject>Tea</subject></message>");

QString said(int n)
{
    return QStringLiteral("<message from='tea@conference.example.org/bob' "
                          "to='alice@example.org/xbnc' type='groupchat' id='m%1'><body>%1</body>"
                          "<stanza-id xmlns='urn:xmpp:sid:0' by='tea@conference.example.org' "
                          "id='s%1'/></message>")
        .arg(n);
}

QString withTo(QString stanza, const QString &to)
{
    return stanza.replace(QStringLiteral("to='alice@example.org/xbnc'"),
                          QStringLiteral("to='%1'").arg(to));
}

using namespace std::chrono_literals;

// phone is in the room with bob and carol; bob said 1. The clock stands still unless a test
// moves `clock`.
void inTheRoom(AccountHarness &h, QDateTime *clock = nullptr)
{
    if (clock) {
        *clock = QDateTime::fromSecsSinceEpoch(1800000000, Qt::UTC);
        h.account.setNow([clock] { return *clock; });
    } else {
        h.account.setNow([] { return QDateTime::fromSecsSinceEpoch(1800000000, Qt::UTC); });
    }
    h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
    h.bind(1, "phone");
    h.fromSession(1, "<presence to='tea@conference.example.org/al'><x "
                     "xmlns='http://jabber.org/protocol/muc'/></presence>");
    for (const QString &stanza : {bob, carol, self, subject, said(1)})
        h.fromUpstream(stanza);
    h.clear();
}

} // namespace

class TestRoomHealth : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // XEP-0410 §3.2: a self-ping after an adequate silence from the room, not on a fixed clock;
    // one at a time.
    void selfPingAfterSilence_data()
    {
        QTest::addColumn<int>("spokeAfter"); // seconds after joining that bob spoke; -1: never
        QTest::addColumn<int>("pingAfter");  // seconds after joining the ping is due
        QTest::newRow("a silent room") << -1 << 15 * 60;
        QTest::newRow("bob spoke 5 minutes in") << 5 * 60 << 20 * 60;
    }
    void selfPingAfterSilence()
    {
        QFETCH(int, spokeAfter);
        QFETCH(int, pingAfter);
        AccountHarness h;
        h.account.setRoomTiming(Room::Timing{}); // the harness pings at once; here, 15 minutes
        QDateTime clock;
        h.roomsTick();
        EXPECT(h.expectNothing()); // offline, no rooms
        inTheRoom(h, &clock);
        const QDateTime joined = clock;
        if (spokeAfter >= 0) {
            clock = joined.addSecs(spokeAfter);
            h.fromUpstream(said(2));
            h.clear();
        }
        clock = joined.addSecs(pingAfter - 1);
        h.roomsTick();
        EXPECT(h.expectNothing());
        clock = joined.addSecs(pingAfter);
        h.roomsTick();
        EXPECT(h.expectUpstream("<iq type='get' id='xbnc-selfping-tea@conference.example.org' "
                                "to='tea@conference.example.org/al'><ping "
                                "xmlns='urn:xmpp:ping'/></iq>"));
        clock = clock.addSecs(30 * 60); // one at a time: the first is still unanswered
        h.roomsTick();
        EXPECT(h.expectNothing());
    }

    // XEP-0410 §3.2 (1.1.0): joined are a result, service-unavailable and
    // feature-not-implemented (a client without pings), item-not-found (a nick changed
    // meanwhile); any other error means not joined. remote-server-* and no answer decide
    // nothing in the XEP; xbnc rejoins on them (docs/ROOMS.md).
    void selfPingAnswer_data()
    {
        QTest::addColumn<QString>("answer"); // empty: no answer
        QTest::addColumn<bool>("rejoins");
        const auto error = [](const char *type, const char *condition) {
            return QStringLiteral("type='error'><error type='%1'><%2 "
                                  "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error")
                .arg(QLatin1String(type), QLatin1String(condition));
        };
        QTest::newRow("result") << "type='result'" << false;
        QTest::newRow("not an occupant") << error("cancel", "not-acceptable") << true;
        QTest::newRow("not an occupant, other servers") << error("cancel", "not-allowed") << true;
        QTest::newRow("bad-request") << error("modify", "bad-request") << true;
        QTest::newRow("nick changed meanwhile: joined")
            << error("cancel", "item-not-found") << false;
        QTest::newRow("joined, no ping support") << error("cancel", "service-unavailable") << false;
        QTest::newRow("joined, ping not implemented")
            << error("cancel", "feature-not-implemented") << false;
        QTest::newRow("remote server not found")
            << error("cancel", "remote-server-not-found") << true;
        QTest::newRow("remote server timeout") << error("wait", "remote-server-timeout") << true;
        QTest::newRow("no answer") << QString() << true;
    }
    void selfPingAnswer()
    {
        QFETCH(QString, answer);
        QFETCH(bool, rejoins);
        // IqRouter's deadline is on the real clock: for "no answer", one that has passed.
        using namespace std::chrono_literals;
        AccountHarness h(answer.isEmpty() ? 0ms : 60s);
        QDateTime clock;
        inTheRoom(h, &clock);
        clock = clock.addSecs(15 * 60);
        h.roomsTick();
        h.take();
        if (answer.isEmpty()) {
            h.account.expireIqs();
        } else {
            const QString close =
                answer.endsWith(u"error") ? QStringLiteral("></iq>") : QStringLiteral("/>");
            h.fromUpstream(QStringLiteral("<iq from='tea@conference.example.org/al' "
                                          "id='xbnc-selfping-tea@conference.example.org' %1%2")
                               .arg(answer, close));
        }
        if (rejoins)
            EXPECT(h.expectUpstream("<presence to='tea@conference.example.org/al'><x "
                                    "xmlns='http://jabber.org/protocol/muc'><history "
                                    "since='2027-01-15T08:00:00.000Z'/></x></presence>"));
        EXPECT(h.expectNothing());
        QCOMPARE(h.account.room(room)->phase(),
                 rejoins ? Room::Phase::Rejoining : Room::Phase::Joined);
    }

    // A ping answer from elsewhere than the pinged occupant says nothing about the room.
    void selfPingAnswerFromAnotherAddressIsIgnored()
    {
        AccountHarness h;
        QDateTime clock;
        inTheRoom(h, &clock);
        clock = clock.addSecs(15 * 60);
        h.roomsTick();
        h.take();
        h.fromUpstream("<iq from='tea@conference.example.org/bob' "
                       "id='xbnc-selfping-tea@conference.example.org' type='error'><error "
                       "type='cancel'><not-acceptable "
                       "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
        EXPECT(h.expectNothing());
        QCOMPARE(h.account.room(room)->phase(), Room::Phase::Joined);
    }

    void reconnectRejoinsAndShowsOnlyWhatChanged()
    {
        AccountHarness h;
        inTheRoom(h);
        h.account.upstreamOffline();
        EXPECT(h.expectNothing()); // the session is not told anything about the room
        h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        h.take(); // presence
        h.take(); // carbons
        EXPECT(h.expectUpstream("<presence to='tea@conference.example.org/al'><x "
                                "xmlns='http://jabber.org/protocol/muc'><history "
                                "since='2027-01-15T08:00:00.000Z'/></x></presence>"));
        h.take(); // bookmarks
        EXPECT(h.expectServerInfoAndRoster());
        EXPECT(h.expectNothing());
        // The room answers: bob is still there, carol left meanwhile, dave came; the history
        // since then repeats message 1 and adds 2; the subject is the same.
        const QString dave =
            QString(carol).replace(QStringLiteral("carol"), QStringLiteral("dave"));
        for (const QString &stanza : {bob, dave, self, said(1), said(2), subject})
            h.fromUpstream(stanza);
        EXPECT(h.expectToSession(1, withTo(dave, "alice@example.org/xbnc")));
        EXPECT(h.expectToSession(1, "<presence from='tea@conference.example.org/carol' "
                                    "to='alice@example.org/xbnc' type='unavailable'/>"));
        EXPECT(h.expectToSession(1, withTo(said(2), "alice@example.org/xbnc")));
        EXPECT(h.expectNothing());
        // a session that joins now sees the room as it is
        h.bind(2, "laptop");
        h.fromSession(2, "<presence to='tea@conference.example.org/al'><x "
                         "xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/>"
                         "</x></presence>");
        EXPECT(h.expectToSession(2, withTo(bob, "alice@example.org/xbnc")));
        EXPECT(h.expectToSession(2, withTo(dave, "alice@example.org/xbnc")));
        QCOMPARE(h.take().stanza.attribute(u"from"), u"tea@conference.example.org/al");
        EXPECT(h.expectToSession(2, withTo(subject, "alice@example.org/xbnc")));
        EXPECT(h.expectNothing());
    }

    void aJoinDuringTheLastLeaveJoinsAgain()
    {
        AccountHarness h;
        inTheRoom(h);
        h.fromSession(1, "<presence to='tea@conference.example.org/al' type='unavailable'/>");
        EXPECT(h.expectUpstream("<presence to='tea@conference.example.org/al' "
                                "type='unavailable'/>"));
        h.bind(2, "laptop");
        h.fromSession(2, "<presence to='tea@conference.example.org/al'><x "
                         "xmlns='http://jabber.org/protocol/muc'/></presence>");
        h.clear(); // laptop's replay of the room as it was
        const QString gone = QString(self).replace(QStringLiteral("<presence "),
                                                   QStringLiteral("<presence type='unavailable' "));
        h.fromUpstream(gone);
        EXPECT(h.expectToSession(1, withTo(gone, "alice@example.org/xbnc")));
        EXPECT(h.expectUpstream("<presence to='tea@conference.example.org/al'><x "
                                "xmlns='http://jabber.org/protocol/muc'><history "
                                "maxstanzas='20'/></x></presence>"));
        EXPECT(h.expectNothing());
        // the room's answer reaches laptop, which stays in the room
        h.fromUpstream(self);
        EXPECT(h.expectToSession(2, withTo(self, "alice@example.org/xbnc")));
        h.fromUpstream(subject); // the subject ends the join
        EXPECT(h.expectToSession(2, withTo(subject, "alice@example.org/xbnc")));
        QCOMPARE(h.account.room(room)->phase(), Room::Phase::Joined);
    }

    void aSessionDisconnectedRoomIsStillRejoined()
    {
        AccountHarness h;
        inTheRoom(h);
        h.account.sessionClosed(1);
        h.account.upstreamOffline();
        h.clear();
        h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        bool rejoined = false;
        for (const auto &sent : h.sent)
            rejoined |= sent.stanza.name() == u"presence" &&
                        sent.stanza.attribute(u"to") == u"tea@conference.example.org/al";
        QVERIFY2(rejoined, "the account left the room because its only session disconnected");
    }

    // A rejoin the room refuses, or never answers, must not leave sessions in a room that only
    // looks joined: each is told it is out, with the code a live removal of that kind carries
    // (301 banned, 322 members-only, else 333). xbnc tries again, with backoff, only while the
    // error may pass; a final one is remembered so that autojoin does not undo it.
    void failedRejoin_data()
    {
        QTest::addColumn<QString>("answer"); // the room's presence error; empty: no answer
        QTest::addColumn<QString>("condition");
        QTest::addColumn<int>("code");
        QTest::addColumn<bool>("retries");
        const auto error = [](const char *type, const char *condition) {
            return QStringLiteral("<presence from='room@conference.example.org/alice' "
                                  "to='alice@example.org/xbnc' type='error'><error type='%1'><%2 "
                                  "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                                  "</presence>")
                .arg(QLatin1String(type), QLatin1String(condition));
        };
        QTest::newRow("banned") << error("auth", "forbidden") << "forbidden" << 301 << false;
        QTest::newRow("members only")
            << error("auth", "registration-required") << "registration-required" << 322 << false;
        QTest::newRow("nick taken") << error("cancel", "conflict") << "conflict" << 333 << false;
        QTest::newRow("password changed")
            << error("auth", "not-authorized") << "not-authorized" << 333 << false;
        QTest::newRow("room destroyed")
            << error("cancel", "item-not-found") << "item-not-found" << 333 << false;
        QTest::newRow("room full")
            << error("cancel", "service-unavailable") << "service-unavailable" << 333 << true;
        QTest::newRow("room's server unreachable") << error("cancel", "remote-server-not-found")
                                                   << "remote-server-not-found" << 333 << true;
        QTest::newRow("room's server slow")
            << error("wait", "remote-server-timeout") << "remote-server-timeout" << 333 << true;
        QTest::newRow("room busy")
            << error("wait", "resource-constraint") << "resource-constraint" << 333 << true;
        QTest::newRow("any wait error")
            << error("wait", "policy-violation") << "policy-violation" << 333 << true;
        QTest::newRow("no answer") << QString() << "remote-server-timeout" << 333 << true;
    }
    void failedRejoin()
    {
        QFETCH(QString, answer);
        QFETCH(QString, condition);
        QFETCH(int, code);
        QFETCH(bool, retries);
        RoomHarness h;
        h.room.setRandom([] { return 1.0; }); // the longest delay of each backoff step
        EXPECT(joinedRoom(h, {1, 2}));
        h.room.upstreamLost();
        const std::optional<Element> rejoin = h.room.rejoin();
        QVERIFY(rejoin);
        if (answer.isEmpty()) {
            h.advance(59s);
            EXPECT(h.expectNothing()); // the deadline is a minute
            h.advance(1s);
        } else {
            h.fromUpstream(answer);
        }
        const QString out =
            QStringLiteral("<presence from='room@conference.example.org/alice' "
                           "type='unavailable'><status>Rejoining the room failed: %1"
                           "</status><x xmlns='http://jabber.org/protocol/muc#user'><item "
                           "affiliation='member' role='none'/><status code='110'/><status "
                           "code='%2'/></x></presence>")
                .arg(condition)
                .arg(code);
        EXPECT(h.expectToSessions({1, 2}, out));
        EXPECT(h.expectNothing());
        // nothing of the room looks joined any more
        h.fromSession(1, "<iq type='get' id='sp' to='room@conference.example.org/alice'><ping "
                         "xmlns='urn:xmpp:ping'/></iq>");
        EXPECT(h.expectToSession(1, "<iq type='error' id='sp' "
                                    "from='room@conference.example.org/alice'><error "
                                    "type='cancel'><not-acceptable "
                                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"));
        QCOMPARE(h.room.joinedSessions().size(), size_t(0));
        QCOMPARE(h.room.phase(), retries ? Room::Phase::Retrying : Room::Phase::Out);
        QCOMPARE(h.room.removal(), retries ? QString() : condition);
        h.advance(30s);
        if (retries)
            EXPECT(h.expectUpstream("<presence to='room@conference.example.org/alice'><x "
                                    "xmlns='http://jabber.org/protocol/muc'><history "
                                    "since='2027-01-15T07:00:00.000Z'/></x></presence>"));
        EXPECT(h.expectNothing());
    }

    // Failed retries wait twice as long each time (ReconnectBackoff, here without jitter), and
    // a join that succeeds resets the count.
    void retriesBackOff()
    {
        RoomHarness h;
        h.room.setRandom([] { return 0.0; }); // the shortest delay of each step: half of it
        EXPECT(joinedRoom(h, {1}));
        h.room.upstreamLost();
        QVERIFY(h.room.rejoin());
        const QString full =
            "<presence from='room@conference.example.org/alice' to='alice@example.org/xbnc' "
            "type='error'><error type='cancel'><service-unavailable "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>";
        h.fromUpstream(full);
        h.clear();
        for (int delay : {15, 30, 60, 120}) {
            h.advance(std::chrono::seconds(delay - 1));
            EXPECT(h.expectNothing());
            h.advance(1s);
            QCOMPARE(h.room.phase(), Room::Phase::Joining);
            h.clear();
            h.fromUpstream(full);
            EXPECT(h.expectNothing()); // no session is in the room to be told
        }
        h.advance(240s);
        h.clear();
        for (const QString &stanza : {smallRoom::self(), smallRoom::subject()})
            h.fromUpstream(stanza);
        QCOMPARE(h.room.phase(), Room::Phase::Joined);
        h.room.upstreamLost();
        QVERIFY(h.room.rejoin());
        h.fromUpstream(full);
        h.advance(14s);
        h.clear();
        h.advance(1s);
        QCOMPARE(h.room.phase(), Room::Phase::Joining);
    }

    // XEP-0045 §7.2.14: a rejoin asks for history since the newest stamp the room gave, on the
    // room's clock; a live message carries none, so it does not move 'since'. Only a room that
    // never stamped anything gets the local receive time.
    void rejoinSince_data()
    {
        QTest::addColumn<QStringList>("messages"); // after the join; bodies, with delay stamps
        QTest::addColumn<QString>("history");
        const auto message = [](int n, const QString &stamp) {
            return QStringLiteral("<message from='room@conference.example.org/bob' "
                                  "to='alice@example.org/xbnc' type='groupchat'><body>%1</body>"
                                  "<stanza-id xmlns='urn:xmpp:sid:0' "
                                  "by='room@conference.example.org' id='x%1'/>%2</message>")
                .arg(n)
                .arg(stamp.isEmpty() ? QString()
                                     : QStringLiteral("<delay xmlns='urn:xmpp:delay' "
                                                      "from='room@conference.example.org' "
                                                      "stamp='%1'/>")
                                           .arg(stamp));
        };
        QTest::newRow("history") << QStringList{message(1, "2027-01-15T06:00:00Z"),
                                                message(2, "2027-01-15T06:30:00Z")}
                                 << "since='2027-01-15T06:30:00.000Z'";
        QTest::newRow("live after history, the room's clock")
            << QStringList{message(1, "2027-01-15T06:00:00Z"), message(2, {})}
            << "since='2027-01-15T06:00:00.000Z'";
        QTest::newRow("older history logged after")
            << QStringList{message(1, "2027-01-15T06:00:00Z"), message(2, "2027-01-15T05:00:00Z")}
            << "since='2027-01-15T06:00:00.000Z'";
        QTest::newRow("never stamped: local time")
            << QStringList{message(1, {})} << "since='2027-01-15T08:10:00.000Z'";
        QTest::newRow("nothing logged") << QStringList{} << "maxstanzas='20'";
    }
    void rejoinSince()
    {
        QFETCH(QStringList, messages);
        QFETCH(QString, history);
        RoomHarness h;
        h.fromSession(1, smallRoom::join());
        for (const QString &stanza : {smallRoom::self(), smallRoom::subject()})
            h.fromUpstream(stanza);
        h.now = h.now.addSecs(10 * 60); // local time runs ahead of every stamp below
        for (const QString &stanza : messages)
            h.fromUpstream(stanza);
        h.room.upstreamLost();
        const std::optional<Element> rejoin = h.room.rejoin();
        QVERIFY(rejoin);
        QCOMPARE(canonical(*rejoin),
                 canonical(QStringLiteral("<presence to='room@conference.example.org/alice'><x "
                                          "xmlns='http://jabber.org/protocol/muc'><history %1/>"
                                          "</x></presence>")
                               .arg(history)));
    }

    // XEP-0410 §4: another session's nick change while a ping is out; the answer comes from the
    // old nick as item-not-found, and means joined.
    void selfPingAnsweredAfterANickChange()
    {
        RoomHarness h;
        EXPECT(joinedRoom(h, {1}));
        h.now = h.now.addSecs(15 * 60);
        QVERIFY(h.room.selfPingIfDue(h.now));
        h.fromUpstream("<presence from='room@conference.example.org/alice' "
                       "to='alice@example.org/xbnc' type='unavailable'><x "
                       "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
                       "nick='alice2' role='participant'/><status code='303'/><status "
                       "code='110'/></x></presence>");
        h.fromUpstream(smallRoom::self("alice2"));
        h.clear();
        h.fromUpstream("<iq from='room@conference.example.org/alice' "
                       "to='alice@example.org/xbnc' id='xbnc-selfping-room@conference.example.org' "
                       "type='error'><error type='cancel'><item-not-found "
                       "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
        EXPECT(h.expectNothing());
        QVERIFY(!h.room.selfPingSentAt());
        QCOMPARE(h.room.phase(), Room::Phase::Joined);
    }
};

QTEST_GUILESS_MAIN(TestRoomHealth)
#include "tst_room_health.moc"
