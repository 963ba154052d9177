#include "reconnect_backoff.h"

#include <QTest>

using namespace std::chrono_literals;
using xbnc::ReconnectBackoff;

class TestReconnectBackoff : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void delay_data();
    void delay();
    void firstRetryIsQuick();
    void neverShrinksBelowPreviousFloor();
    void fastTimersFromEnvironment();
};

void TestReconnectBackoff::delay_data()
{
    QTest::addColumn<qint64>("base");
    QTest::addColumn<qint64>("cap");
    QTest::addColumn<int>("attempt");
    QTest::addColumn<double>("random");
    QTest::addColumn<qint64>("expected");

    // Production timing: 1 s base, 5 min cap; the delay lies in [step/2, step).
    QTest::newRow("first retry, no jitter") << 1000LL << 300000LL << 0 << 0.0 << 500LL;
    QTest::newRow("first retry, most jitter") << 1000LL << 300000LL << 0 << 0.9999 << 999LL;
    QTest::newRow("second retry doubles") << 1000LL << 300000LL << 1 << 0.0 << 1000LL;
    QTest::newRow("second retry, half jitter") << 1000LL << 300000LL << 1 << 0.5 << 1500LL;
    QTest::newRow("ninth retry below cap") << 1000LL << 300000LL << 8 << 0.0 << 128000LL;
    QTest::newRow("tenth retry capped") << 1000LL << 300000LL << 9 << 0.0 << 150000LL;
    QTest::newRow("capped, most jitter") << 1000LL << 300000LL << 9 << 0.9999 << 299985LL;
    QTest::newRow("huge attempt does not overflow")
        << 1000LL << 300000LL << 100000 << 1.0 << 300000LL;
    QTest::newRow("negative attempt is the first") << 1000LL << 300000LL << -3 << 0.0 << 500LL;
    QTest::newRow("random above 1 is clamped") << 1000LL << 300000LL << 0 << 7.0 << 1000LL;
    QTest::newRow("random below 0 is clamped") << 1000LL << 300000LL << 0 << -1.0 << 500LL;
    // Test timing (XBNC_TEST_FAST_TIMERS): 50 ms base, 1 s cap.
    QTest::newRow("fast first retry") << 50LL << 1000LL << 0 << 0.0 << 25LL;
    QTest::newRow("fast capped") << 50LL << 1000LL << 6 << 0.0 << 500LL;
    // Degenerate policies still give a usable delay.
    QTest::newRow("cap below base acts as base") << 1000LL << 10LL << 3 << 0.0 << 500LL;
    QTest::newRow("zero base") << 0LL << 0LL << 0 << 0.0 << 0LL;
}

void TestReconnectBackoff::delay()
{
    QFETCH(qint64, base);
    QFETCH(qint64, cap);
    QFETCH(int, attempt);
    QFETCH(double, random);
    QFETCH(qint64, expected);

    const ReconnectBackoff backoff(xbnc::ReconnectPolicy{.base = std::chrono::milliseconds(base),
                                                         .cap = std::chrono::milliseconds(cap)});
    QCOMPARE(backoff.delayFor(attempt, random).count(), expected);
}

void TestReconnectBackoff::firstRetryIsQuick()
{
    const ReconnectBackoff backoff;
    for (double random : {0.0, 0.25, 0.5, 0.75, 0.99999})
        QVERIFY(backoff.delayFor(0, random) < 2s);
}

void TestReconnectBackoff::neverShrinksBelowPreviousFloor()
{
    // With any jitter, attempt n+1 never waits less than the least wait of attempt n.
    const ReconnectBackoff backoff;
    for (int attempt = 0; attempt < 20; ++attempt)
        QVERIFY(backoff.delayFor(attempt + 1, 0.0) >= backoff.delayFor(attempt, 0.0));
}

void TestReconnectBackoff::fastTimersFromEnvironment()
{
    qputenv("XBNC_TEST_FAST_TIMERS", "1");
    QCOMPARE(ReconnectBackoff::policyFromEnvironment().cap, 1000ms);
    qunsetenv("XBNC_TEST_FAST_TIMERS");
    QCOMPARE(ReconnectBackoff::policyFromEnvironment().cap, 300000ms);
}

QTEST_GUILESS_MAIN(TestReconnectBackoff)
#include "tst_reconnect_backoff.moc"
