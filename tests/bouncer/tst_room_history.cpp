// Discussion history replayed to a joining session (docs/ROOMS.md "Joining", step 3; XEP-0045
// §7.2.15): the room log through the session's <history/>, each message with a <delay/>.
#include "account_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

const QDateTime t0(QDate(2026, 11, 26), QTime(12, 0), Qt::UTC);

// Live message i from bob, as the room sends it.
QString live(int i, bool big)
{
    const QString body = big ? QString(2000, u'x') : QStringLiteral("message %1").arg(i);
    return QStringLiteral("<message from='room@conference.example.org/bob' "
                          "to='alice@example.org/xbnc' type='groupchat' id='m%1'><body>%2</body>"
                          "<stanza-id xmlns='urn:xmpp:sid:0' by='room@conference.example.org' "
                          "id='live-%1'/></message>")
        .arg(i)
        .arg(body);
}

// The same message in history: xbnc's <delay/> added with the time it arrived.
QString replayed(const QString &message, const QDateTime &arrived)
{
    QString xml = message;
    return xml.replace(QStringLiteral("</message>"),
                       QStringLiteral("<delay xmlns='urn:xmpp:delay' "
                                      "from='room@conference.example.org' stamp='%1'/></message>")
                           .arg(arrived.toString(Qt::ISODate)));
}

QList<int> range(int first, int last)
{
    QList<int> numbers;
    for (int i = first; i <= last; ++i)
        numbers << i;
    return numbers;
}

} // namespace

class TestRoomHistory : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // Message i arrives at t0 + i minutes; the second session joins 30 s after the last one.
    void historyRequest_data()
    {
        QTest::addColumn<int>("count");
        QTest::addColumn<bool>("big");        // 2000-character bodies
        QTest::addColumn<QString>("history"); // inside the join's <x/>
        QTest::addColumn<QList<int>>("expected");
        QTest::newRow("no <history/>: the last 20") << 25 << false << "" << range(6, 25);
        QTest::newRow("maxstanzas") << 5 << false << "<history maxstanzas='3'/>" << range(3, 5);
        QTest::newRow("maxstanzas 0: none")
            << 5 << false << "<history maxstanzas='0'/>" << QList<int>();
        QTest::newRow("maxstanzas beyond the log: all")
            << 5 << false << "<history maxstanzas='50'/>" << range(1, 5);
        QTest::newRow("maxchars 0: none")
            << 5 << false << "<history maxchars='0'/>" << QList<int>();
        QTest::newRow("maxchars below one message: none")
            << 5 << true << "<history maxchars='100'/>" << QList<int>();
        // each big message serialises to 2000-2500 characters: two fit, three do not
        QTest::newRow("maxchars: the newest that fit")
            << 5 << true << "<history maxchars='5500'/>" << range(4, 5);
        QTest::newRow("seconds") << 5 << false << "<history seconds='100'/>" << range(4, 5);
        QTest::newRow("seconds beyond the log: all")
            << 5 << false << "<history seconds='86400'/>" << range(1, 5);
        QTest::newRow("since") << 5 << false << "<history since='2026-11-26T12:02:30Z'/>"
                               << range(3, 5);
        QTest::newRow("since with a zone offset")
            << 5 << false << "<history since='2026-11-26T13:02:30+01:00'/>" << range(3, 5);
        QTest::newRow("since with fractions")
            << 5 << false << "<history since='2026-11-26T12:02:30.500Z'/>" << range(3, 5);
        QTest::newRow("since after the newest: none")
            << 5 << false << "<history since='2026-11-26T12:05:10Z'/>" << QList<int>();
        QTest::newRow("seconds and maxstanzas: the stricter")
            << 5 << false << "<history seconds='200' maxstanzas='2'/>" << range(4, 5);
        QTest::newRow("maxstanzas and seconds: the stricter")
            << 5 << false << "<history seconds='100' maxstanzas='4'/>" << range(4, 5);
        QTest::newRow("since and maxstanzas")
            << 5 << false << "<history since='2026-11-26T12:02:30Z' maxstanzas='1'/>"
            << range(5, 5);
        QTest::newRow("seconds and since")
            << 5 << false << "<history seconds='200' since='2026-11-26T12:03:30Z'/>" << range(4, 5);
        QTest::newRow("maxchars and maxstanzas")
            << 5 << true << "<history maxchars='5500' maxstanzas='1'/>" << range(5, 5);
    }
    void historyRequest()
    {
        QFETCH(int, count);
        QFETCH(bool, big);
        QFETCH(QString, history);
        QFETCH(QList<int>, expected);
        QDateTime now = t0;
        AccountHarness h;
        h.account.setNow([&now] { return now; });
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        RoomScript script = standardRoom();
        script.history.clear();
        EXPECT(joinFirst(h, 1, script));
        for (int i = 1; i <= count; ++i) {
            now = t0.addSecs(60 * i);
            h.fromUpstream(live(i, big));
            EXPECT(h.expectRelayed(1, live(i, big)));
        }
        now = t0.addSecs(60 * count + 30);
        h.fromSession(2, joinPresence("alice", history));
        EXPECT(h.expectRelayed(2, script.occupants));
        EXPECT(h.expectRelayed(2, script.self));
        for (int i : expected)
            EXPECT(h.expectRelayed(2, replayed(live(i, big), t0.addSecs(60 * i))));
        EXPECT(h.expectRelayed(2, script.subject));
        EXPECT(h.expectNothing());
    }

    // Messages the room sent as history keep the room's <delay/>, and their time is the room's
    // stamp, not when xbnc received them.
    void roomsOwnDelay_data()
    {
        QTest::addColumn<QString>("history");
        QTest::addColumn<QStringList>("expected"); // ids
        QTest::newRow("all") << "" << QStringList{"h1", "h2", "m1"};
        QTest::newRow("seconds: by the room's stamps")
            << "<history seconds='570'/>" << QStringList{"h2", "m1"};
        QTest::newRow("seconds excluding the room's history")
            << "<history seconds='500'/>" << QStringList{"m1"};
        QTest::newRow("since: by the room's stamps")
            << "<history since='2026-11-26T19:00:30Z'/>" << QStringList{"h2", "m1"};
    }
    void roomsOwnDelay()
    {
        QFETCH(QString, history);
        QFETCH(QStringList, expected);
        // the standard room's history is stamped 19:00 and 19:01; xbnc receives it at 19:04
        QDateTime now(QDate(2026, 11, 26), QTime(19, 4), Qt::UTC);
        AccountHarness h;
        h.account.setNow([&now] { return now; });
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        const RoomScript script = standardRoom();
        EXPECT(joinFirst(h, 1, script));
        now = now.addSecs(240); // 19:08
        const QString m1 = live(1, false);
        h.fromUpstream(m1);
        EXPECT(h.expectRelayed(1, m1));
        now = now.addSecs(120); // 19:10
        h.fromSession(2, joinPresence("alice", history));
        EXPECT(h.expectRelayed(2, script.occupants));
        EXPECT(h.expectRelayed(2, script.self));
        for (const QString &id : expected) {
            if (id == u"h1")
                EXPECT(h.expectRelayed(2, script.history[0]));
            else if (id == u"h2")
                EXPECT(h.expectRelayed(2, script.history[1]));
            else
                EXPECT(h.expectRelayed(2, replayed(m1, now.addSecs(-120))));
        }
        EXPECT(h.expectRelayed(2, script.subject));
        EXPECT(h.expectNothing());
    }

    // History is the groupchat messages with a body: not chat states, subject changes or
    // private messages.
    void onlyGroupchatBodiesAreHistory()
    {
        QDateTime now = t0;
        AccountHarness h;
        h.account.setNow([&now] { return now; });
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        RoomScript script = standardRoom();
        script.history.clear();
        EXPECT(joinFirst(h, 1, script));
        const QString newSubject = "<message from='room@conference.example.org/bob' "
                                   "to='alice@example.org/xbnc' type='groupchat' id='t2'>"
                                   "<subject>Coffee time</subject></message>";
        const QStringList notHistory = {
            "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
            "type='groupchat' id='cs'><composing "
            "xmlns='http://jabber.org/protocol/chatstates'/></message>",
            "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
            "type='chat' id='pm'><body>psst</body><x "
            "xmlns='http://jabber.org/protocol/muc#user'/></message>",
            newSubject,
        };
        for (const QString &stanza : notHistory) {
            now = now.addSecs(10);
            h.fromUpstream(stanza);
            EXPECT(h.expectRelayed(1, stanza));
        }
        now = now.addSecs(10);
        const QString message = live(1, false);
        h.fromUpstream(message);
        EXPECT(h.expectRelayed(1, message));
        const QDateTime arrived = now;
        now = now.addSecs(10);
        h.fromSession(2, joinPresence());
        EXPECT(h.expectRelayed(2, script.occupants));
        EXPECT(h.expectRelayed(2, script.self));
        EXPECT(h.expectRelayed(2, replayed(message, arrived)));
        EXPECT(h.expectRelayed(2, newSubject));
        EXPECT(h.expectNothing());
    }
};

QTEST_GUILESS_MAIN(TestRoomHistory)
#include "tst_room_history.moc"
