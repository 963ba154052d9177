// The hub's request ids waiting for an answer upstream: bounded in time and in number.

#include "pending_request_ids.h"

#include <QTest>

#include <string>

using namespace std::chrono_literals;
using xbnc::PendingRequestIds;

class TestPendingRequestIds : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void answeredIdIsTakenOnce();
    void unansweredIdsExpire();
    void capacityEvictsTheOldest();
    void idSentAgainLivesFromItsLastSending();
};

void TestPendingRequestIds::answeredIdIsTakenOnce()
{
    const auto t0 = PendingRequestIds::Clock::now();
    PendingRequestIds ids(60s, 100);
    ids.insert("x1", t0);
    QVERIFY(ids.take("x1", t0 + 1s));
    QVERIFY(!ids.take("x1", t0 + 1s));
    QCOMPARE(ids.size(t0 + 1s), std::size_t(0));
}

void TestPendingRequestIds::unansweredIdsExpire()
{
    // Requests nobody answers, sent for an hour: at most a lifetime's worth stay.
    const auto t0 = PendingRequestIds::Clock::now();
    PendingRequestIds ids(90s, 1000000);
    for (int second = 0; second < 3600; ++second)
        ids.insert("x" + std::to_string(second), t0 + std::chrono::seconds(second));
    QCOMPARE(ids.size(t0 + 3599s), std::size_t(90));
    QVERIFY(!ids.contains("x3509", t0 + 3599s));
    QVERIFY(ids.contains("x3510", t0 + 3599s));
    QVERIFY(!ids.take("x0", t0 + 3599s)); // a late answer finds nobody waiting
    QCOMPARE(ids.size(t0 + 3700s), std::size_t(0));
}

void TestPendingRequestIds::capacityEvictsTheOldest()
{
    const auto t0 = PendingRequestIds::Clock::now();
    PendingRequestIds ids(90s, 3);
    for (const char *id : {"x1", "x2", "x3", "x4"})
        ids.insert(id, t0);
    QCOMPARE(ids.size(t0), std::size_t(3));
    QVERIFY(!ids.contains("x1", t0));
    QVERIFY(ids.contains("x4", t0));
}

void TestPendingRequestIds::idSentAgainLivesFromItsLastSending()
{
    const auto t0 = PendingRequestIds::Clock::now();
    PendingRequestIds ids(10s, 100);
    ids.insert("x1", t0);
    ids.insert("x1", t0 + 8s);
    QVERIFY(ids.contains("x1", t0 + 12s)); // the first sending's expiry does not remove it
    QVERIFY(!ids.contains("x1", t0 + 18s));
}

QTEST_GUILESS_MAIN(TestPendingRequestIds)
#include "tst_pending_request_ids.moc"
