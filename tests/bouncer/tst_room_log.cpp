#include "room_log.h"

#include <QTest>

#include <time.h>

using namespace xbnc;

namespace {

const QString room = QStringLiteral("tea@conference.example.org");
const QString delayNs = QStringLiteral("urn:xmpp:delay");

QDateTime utc(const char *iso)
{
    const QDateTime time = QDateTime::fromString(QString::fromLatin1(iso), Qt::ISODateWithMs);
    Q_ASSERT(time.isValid());
    return time.toUTC();
}

// The clock of every replay test; message i of the standard log was received at 11:51 + i min.
const QDateTime now = utc("2026-11-26T12:00:00Z");

Element message(const QString &body, const QString &stanzaId = {}, const QString &extra = {})
{
    QString xml = QStringLiteral("<message from='%1/bob' to='al@example.org/x' type='groupchat'>"
                                 "<body>%2</body>")
                      .arg(room, body);
    if (!stanzaId.isEmpty())
        xml += QStringLiteral("<stanza-id xmlns='urn:xmpp:sid:0' by='%1' id='%2'/>")
                   .arg(room, stanzaId);
    xml += extra + QStringLiteral("</message>");
    const Element element = Element::fromXml(xml.toUtf8());
    Q_ASSERT(!element.isNull());
    return element;
}

// Eight messages m1..m8 of equal serialised size, one a minute from 11:52 to 11:59.
RoomLog standardLog()
{
    RoomLog log;
    for (int i = 1; i <= 8; ++i)
        log.append(message(QStringLiteral("m%1").arg(i), QStringLiteral("s%1").arg(i)),
                   now.addSecs(-60 * (9 - i)));
    return log;
}

QStringList bodies(const std::vector<Element> &messages)
{
    QStringList result;
    for (const Element &m : messages)
        result << (m.firstChild(u"body") ? m.firstChild(u"body")->text() : QStringLiteral("?"));
    return result;
}

std::optional<int> optional(int value)
{
    return value < 0 ? std::nullopt : std::optional<int>(value);
}

} // namespace

class TestRoomLog : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        // A host zone away from UTC, so that a stamp read as local time shows.
        qputenv("TZ", "XBT-3");
        tzset();
        QVERIFY(QDateTime::currentDateTime().offsetFromUtc() == 3 * 3600);
    }

    void replayLimits_data()
    {
        // -1: not given. charsFor: maxchars as a multiple of one replayed stanza's size.
        QTest::addColumn<int>("maxStanzas");
        QTest::addColumn<double>("charsFor");
        QTest::addColumn<int>("seconds");
        QTest::addColumn<QString>("since");
        QTest::addColumn<QStringList>("expected");
        const QStringList all{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"};

        QTest::newRow("no limits") << -1 << -1.0 << -1 << QString() << all;
        QTest::newRow("maxstanzas 3")
            << 3 << -1.0 << -1 << QString() << QStringList{"m6", "m7", "m8"};
        QTest::newRow("maxstanzas 1") << 1 << -1.0 << -1 << QString() << QStringList{"m8"};
        QTest::newRow("maxstanzas 0") << 0 << -1.0 << -1 << QString() << QStringList();
        QTest::newRow("maxstanzas above size") << 100 << -1.0 << -1 << QString() << all;
        QTest::newRow("maxchars 0") << -1 << 0.0 << -1 << QString() << QStringList();
        QTest::newRow("maxchars exactly 3 stanzas")
            << -1 << 3.0 << -1 << QString() << QStringList{"m6", "m7", "m8"};
        QTest::newRow("maxchars just under 3 stanzas")
            << -1 << 2.99 << -1 << QString() << QStringList{"m7", "m8"};
        QTest::newRow("maxchars under 1 stanza") << -1 << 0.99 << -1 << QString() << QStringList();
        QTest::newRow("maxchars above all") << -1 << 100.0 << -1 << QString() << all;
        QTest::newRow("seconds 120 (boundary kept)")
            << -1 << -1.0 << 120 << QString() << QStringList{"m7", "m8"};
        QTest::newRow("seconds 119") << -1 << -1.0 << 119 << QString() << QStringList{"m8"};
        QTest::newRow("seconds 0") << -1 << -1.0 << 0 << QString() << QStringList();
        QTest::newRow("seconds beyond the log") << -1 << -1.0 << 86400 << QString() << all;
        QTest::newRow("since, whole seconds (boundary kept)")
            << -1 << -1.0 << -1 << QStringLiteral("2026-11-26T11:55:00Z")
            << QStringList{"m4", "m5", "m6", "m7", "m8"};
        QTest::newRow("since, fractional seconds")
            << -1 << -1.0 << -1 << QStringLiteral("2026-11-26T11:55:00.500Z")
            << QStringList{"m5", "m6", "m7", "m8"};
        QTest::newRow("since, other zone")
            << -1 << -1.0 << -1 << QStringLiteral("2026-11-26T12:57:30+01:00")
            << QStringList{"m7", "m8"};
        QTest::newRow("since, future")
            << -1 << -1.0 << -1 << QStringLiteral("2026-11-26T12:00:01Z") << QStringList();
        QTest::newRow("since, before the log")
            << -1 << -1.0 << -1 << QStringLiteral("2020-01-01T00:00:00Z") << all;
        QTest::newRow("maxstanzas beats seconds")
            << 2 << -1.0 << 300 << QString() << QStringList{"m7", "m8"};
        QTest::newRow("seconds beats maxstanzas")
            << 5 << -1.0 << 120 << QString() << QStringList{"m7", "m8"};
        QTest::newRow("since beats seconds")
            << -1 << -1.0 << 300 << QStringLiteral("2026-11-26T11:57:00Z")
            << QStringList{"m6", "m7", "m8"};
        QTest::newRow("seconds beats since")
            << -1 << -1.0 << 60 << QStringLiteral("2026-11-26T11:55:00Z") << QStringList{"m8"};
        QTest::newRow("maxchars beats maxstanzas")
            << 4 << 2.0 << -1 << QString() << QStringList{"m7", "m8"};
        QTest::newRow("maxstanzas beats maxchars")
            << 2 << 5.0 << -1 << QString() << QStringList{"m7", "m8"};
        QTest::newRow("maxchars beats since")
            << -1 << 1.5 << -1 << QStringLiteral("2026-11-26T11:55:00Z") << QStringList{"m8"};
        QTest::newRow("all four, maxchars wins")
            << 4 << 3.0 << 600 << QStringLiteral("2026-11-26T11:56:00Z")
            << QStringList{"m6", "m7", "m8"};
        QTest::newRow("all four, since wins")
            << 6 << 7.0 << 600 << QStringLiteral("2026-11-26T11:57:00Z")
            << QStringList{"m6", "m7", "m8"};
        QTest::newRow("all four, maxchars 0")
            << 6 << 0.0 << 600 << QStringLiteral("2026-11-26T11:50:00Z") << QStringList();
    }

    void replayLimits()
    {
        QFETCH(int, maxStanzas);
        QFETCH(double, charsFor);
        QFETCH(int, seconds);
        QFETCH(QString, since);
        QFETCH(QStringList, expected);

        const RoomLog log = standardLog();
        HistoryRequest one;
        one.maxStanzas = 1;
        const std::vector<Element> sample = log.replay(one, room, now);
        QCOMPARE(sample.size(), size_t(1));
        const qsizetype unit = sample.front().toXml().size();

        HistoryRequest request;
        request.maxStanzas = optional(maxStanzas);
        if (charsFor >= 0)
            request.maxChars = int(charsFor * double(unit));
        request.seconds = optional(seconds);
        if (!since.isEmpty())
            request.since = utc(since.toLatin1().constData());
        QCOMPARE(bodies(log.replay(request, room, now)), expected);
    }

    void maxCharsCountsUtf8Bytes()
    {
        RoomLog log;
        log.append(message(QStringLiteral("€€€€€€€€")), now);
        HistoryRequest all;
        const std::vector<Element> replayed = log.replay(all, room, now);
        QCOMPARE(replayed.size(), size_t(1));
        const int bytes = int(replayed.front().toXml().size());
        HistoryRequest exact;
        exact.maxChars = bytes;
        QCOMPARE(log.replay(exact, room, now).size(), size_t(1));
        // Counting UTF-16 units instead would let this one through.
        HistoryRequest under;
        under.maxChars = bytes - 1;
        QCOMPARE(log.replay(under, room, now).size(), size_t(0));
    }

    void delayAddedWhenMissing()
    {
        RoomLog log;
        const QDateTime received = utc("2026-11-26T11:30:15.250Z");
        // Given in another zone: the log and the stamp must still be in UTC.
        QVERIFY(log.append(message(QStringLiteral("hi")), received.toOffsetFromUtc(3600)));
        QCOMPARE(log.newest(), std::optional<QDateTime>(received));
        const std::vector<Element> replayed = log.replay(HistoryRequest{}, room, now);
        QCOMPARE(replayed.size(), size_t(1));
        const Element *delay = replayed.front().firstChild(u"delay", delayNs);
        QVERIFY(delay);
        QCOMPARE(delay->attribute(u"from"), room);
        const QString stamp = delay->attribute(u"stamp");
        QVERIFY2(stamp.endsWith(u'Z'), qPrintable(stamp));
        QCOMPARE(QDateTime::fromString(stamp, Qt::ISODateWithMs), received);
        // The log's own copy is not touched by a replay.
        QVERIFY(!log.entries().front().message.firstChild(u"delay", delayNs));
    }

    void roomDelayKept_data()
    {
        QTest::addColumn<QString>("stamp");
        QTest::addColumn<QDateTime>("time");
        QTest::newRow("whole seconds")
            << QStringLiteral("2026-11-26T10:00:00Z") << utc("2026-11-26T10:00:00Z");
        QTest::newRow("fractional")
            << QStringLiteral("2026-11-26T10:00:00.125Z") << utc("2026-11-26T10:00:00.125Z");
        QTest::newRow("offset") << QStringLiteral("2026-11-26T11:00:00+01:00")
                                << utc("2026-11-26T10:00:00Z");
        QTest::newRow("no zone is UTC")
            << QStringLiteral("2026-11-26T10:00:00") << utc("2026-11-26T10:00:00Z");
        QTest::newRow("unparsable: received time")
            << QStringLiteral("noon") << utc("2026-11-26T11:59:00Z");
    }

    void roomDelayKept()
    {
        QFETCH(QString, stamp);
        QFETCH(QDateTime, time);
        const QString delay =
            QStringLiteral("<delay xmlns='urn:xmpp:delay' from='%1' stamp='%2'/>").arg(room, stamp);
        const Element original = message(QStringLiteral("old"), {}, delay);
        RoomLog log;
        QVERIFY(log.append(original, utc("2026-11-26T11:59:00Z")));
        QCOMPARE(log.newest(), std::optional<QDateTime>(time));
        const std::vector<Element> replayed = log.replay(HistoryRequest{}, room, now);
        QCOMPARE(replayed.size(), size_t(1));
        QCOMPARE(replayed.front(), original); // no second <delay/>, the room's untouched
    }

    // A rejoin's history logs old stamps after newer live messages: the time limits select by
    // time, not by position.
    void timeLimitsSkipOlderEntriesLoggedLater()
    {
        RoomLog log;
        log.append(message(QStringLiteral("live")), utc("2026-11-26T11:59:00Z"));
        log.append(message(QStringLiteral("old"), {},
                           QStringLiteral("<delay xmlns='urn:xmpp:delay' from='%1' "
                                          "stamp='2026-11-26T09:00:00Z'/>")
                               .arg(room)),
                   now);
        HistoryRequest request;
        request.seconds = 600;
        QCOMPARE(bodies(log.replay(request, room, now)), QStringList{"live"});
        HistoryRequest since;
        since.since = utc("2026-11-26T11:00:00Z");
        QCOMPARE(bodies(log.replay(since, room, now)), QStringList{"live"});
    }

    void deduplicatesByRoomStanzaId()
    {
        RoomLog log;
        QVERIFY(log.append(message(QStringLiteral("a"), QStringLiteral("id1")), now));
        QVERIFY(!log.append(message(QStringLiteral("a again"), QStringLiteral("id1")), now));
        QCOMPARE(log.size(), 1);
        QCOMPARE(log.entries().front().stanzaId, u"id1");

        // Without a stanza-id nothing identifies a repeat.
        QVERIFY(log.append(message(QStringLiteral("b")), now));
        QVERIFY(log.append(message(QStringLiteral("b")), now));
        QCOMPARE(log.size(), 3);

        // A stanza-id stamped by someone else (the account's archive) is not the room's.
        const QString foreign =
            QStringLiteral("<stanza-id xmlns='urn:xmpp:sid:0' by='al@example.org' id='id1'/>");
        QVERIFY(log.append(message(QStringLiteral("c"), {}, foreign), now));
        QVERIFY(log.append(message(QStringLiteral("c"), {}, foreign), now));
        QCOMPARE(log.size(), 5);
        QVERIFY(log.entries().back().stanzaId.isEmpty());

        log.clear();
        QCOMPARE(log.size(), 0);
        QVERIFY(!log.newest());
        QVERIFY(log.append(message(QStringLiteral("a"), QStringLiteral("id1")), now));
    }

    void capacityDropsTheOldest_data()
    {
        QTest::addColumn<int>("capacity");
        QTest::addColumn<int>("appended");
        QTest::addColumn<QStringList>("kept");
        QTest::newRow("under") << 3 << 2 << QStringList{"m1", "m2"};
        QTest::newRow("exact") << 3 << 3 << QStringList{"m1", "m2", "m3"};
        QTest::newRow("over") << 3 << 5 << QStringList{"m3", "m4", "m5"};
        QTest::newRow("one") << 1 << 4 << QStringList{"m4"};
        QTest::newRow("zero") << 0 << 2 << QStringList();
    }

    void capacityDropsTheOldest()
    {
        QFETCH(int, capacity);
        QFETCH(int, appended);
        QFETCH(QStringList, kept);
        RoomLog log(capacity);
        std::vector<RoomLog::Entry> entries;
        for (int i = 1; i <= appended; ++i) {
            const Element m = message(QStringLiteral("m%1").arg(i), QStringLiteral("s%1").arg(i));
            const QDateTime time = now.addSecs(-100 + i);
            log.append(m, time);
            entries.push_back(RoomLog::Entry{m, time, QStringLiteral("s%1").arg(i)});
        }
        QCOMPARE(log.size(), int(kept.size()));
        QCOMPARE(bodies(log.replay(HistoryRequest{}, room, now)), kept);
        if (!kept.isEmpty())
            QCOMPARE(log.newest(), std::optional<QDateTime>(now.addSecs(-100 + appended)));

        RoomLog restored(capacity);
        restored.restore(entries);
        QCOMPARE(bodies(restored.replay(HistoryRequest{}, room, now)), kept);
        // The restored ids deduplicate what the room repeats on a rejoin.
        if (!kept.isEmpty())
            QVERIFY(!restored.append(
                message(QStringLiteral("again"), QStringLiteral("s%1").arg(appended)), now));
    }

    void fromJoin_data()
    {
        // -1: not set; since empty: not set.
        QTest::addColumn<QString>("x"); // empty: no <x/> at all
        QTest::addColumn<int>("defaultMax");
        QTest::addColumn<int>("maxStanzas");
        QTest::addColumn<int>("maxChars");
        QTest::addColumn<int>("seconds");
        QTest::addColumn<QString>("since");
        const QString x = QStringLiteral("<x xmlns='http://jabber.org/protocol/muc'>%1</x>");

        QTest::newRow("no x") << QString() << 20 << 20 << -1 << -1 << QString();
        QTest::newRow("no x, room default") << QString() << 7 << 7 << -1 << -1 << QString();
        QTest::newRow("x without history") << x.arg(QString()) << 20 << 20 << -1 << -1 << QString();
        QTest::newRow("x with password only") << x.arg(QStringLiteral("<password>pw</password>"))
                                              << 20 << 20 << -1 << -1 << QString();
        QTest::newRow("empty history")
            << x.arg(QStringLiteral("<history/>")) << 20 << 20 << -1 << -1 << QString();
        QTest::newRow("maxstanzas") << x.arg(QStringLiteral("<history maxstanzas='5'/>")) << 20 << 5
                                    << -1 << -1 << QString();
        QTest::newRow("maxstanzas 0") << x.arg(QStringLiteral("<history maxstanzas='0'/>")) << 20
                                      << 0 << -1 << -1 << QString();
        QTest::newRow("maxchars 0")
            << x.arg(QStringLiteral("<history maxchars='0'/>")) << 20 << -1 << 0 << -1 << QString();
        QTest::newRow("seconds") << x.arg(QStringLiteral("<history seconds='180'/>")) << 20 << -1
                                 << -1 << 180 << QString();
        QTest::newRow("since") << x.arg(QStringLiteral("<history since='2026-11-26T11:55:00Z'/>"))
                               << 20 << -1 << -1 << -1 << QStringLiteral("2026-11-26T11:55:00Z");
        QTest::newRow("since fractional")
            << x.arg(QStringLiteral("<history since='2026-11-26T11:55:00.123Z'/>")) << 20 << -1
            << -1 << -1 << QStringLiteral("2026-11-26T11:55:00.123Z");
        QTest::newRow("since with offset")
            << x.arg(QStringLiteral("<history since='2026-11-26T12:55:00+01:00'/>")) << 20 << -1
            << -1 << -1 << QStringLiteral("2026-11-26T11:55:00Z");
        QTest::newRow("all four") << x.arg(QStringLiteral(
                                         "<history maxstanzas='3' maxchars='1000' seconds='60' "
                                         "since='2026-11-26T11:55:00Z'/>"))
                                  << 20 << 3 << 1000 << 60
                                  << QStringLiteral("2026-11-26T11:55:00Z");
        QTest::newRow("negative ignored")
            << x.arg(QStringLiteral("<history maxstanzas='-1' seconds='60'/>")) << 20 << -1 << -1
            << 60 << QString();
        QTest::newRow("not a number ignored")
            << x.arg(QStringLiteral("<history maxstanzas='ten' maxchars='1e3' seconds='60'/>"))
            << 20 << -1 << -1 << 60 << QString();
        QTest::newRow("overflow ignored")
            << x.arg(QStringLiteral("<history maxchars='99999999999' maxstanzas='4'/>")) << 20 << 4
            << -1 << -1 << QString();
        QTest::newRow("bad since ignored")
            << x.arg(QStringLiteral("<history since='yesterday' maxstanzas='4'/>")) << 20 << 4 << -1
            << -1 << QString();
        QTest::newRow("only bad values: default")
            << x.arg(QStringLiteral("<history maxstanzas='' seconds='x' since='?'/>")) << 20 << 20
            << -1 << -1 << QString();
        QTest::newRow("history in another namespace: default")
            << x.arg(QStringLiteral("<history xmlns='urn:other' maxstanzas='1'/>")) << 20 << 20
            << -1 << -1 << QString();
    }

    void fromJoin()
    {
        QFETCH(QString, x);
        QFETCH(int, defaultMax);
        QFETCH(int, maxStanzas);
        QFETCH(int, maxChars);
        QFETCH(int, seconds);
        QFETCH(QString, since);

        Element mucX;
        if (!x.isEmpty()) {
            mucX = Element::fromXml(x.toUtf8());
            QVERIFY(!mucX.isNull());
        }
        const HistoryRequest request =
            HistoryRequest::fromJoin(x.isEmpty() ? nullptr : &mucX, defaultMax);
        QCOMPARE(request.maxStanzas, optional(maxStanzas));
        QCOMPARE(request.maxChars, optional(maxChars));
        QCOMPARE(request.seconds, optional(seconds));
        if (since.isEmpty()) {
            QVERIFY(!request.since);
        } else {
            QVERIFY(request.since);
            QCOMPARE(*request.since, utc(since.toLatin1().constData()));
        }
    }
};

QTEST_GUILESS_MAIN(TestRoomLog)
#include "tst_room_log.moc"
