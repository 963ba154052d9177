#include "login_throttle.h"
#include "peer_source.h"

#include <QTest>

using namespace xbnc;
using namespace std::chrono_literals;
using Verdict = LoginThrottle::Verdict;

namespace {

const QHostAddress kAttacker(QStringLiteral("203.0.113.5"));
const QHostAddress kNeighbour(QStringLiteral("203.0.113.6"));

// Time moves only when a test says so.
struct FakeClock
{
    std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
    LoginThrottle::Clock clock()
    {
        return [this] { return now; };
    }
};

LoginThrottle::Policy policy()
{
    LoginThrottle::Policy p;
    p.firstDelay = 1s;
    p.maxDelay = 30s;
    p.lockoutFailures = 10;
    p.lockoutWindow = 600s;
    p.lockoutDuration = 900s;
    p.globalFailuresPerMinute = 30;
    return p;
}

QHostAddress numbered(int n)
{
    return QHostAddress(quint32(0x0a000000u + quint32(n))); // 10.0.0.n
}

} // namespace

class TestLoginThrottle : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void delaysDoubleUpToTheCap();
    void failuresOlderThanTheWindowAreForgotten();
    void lockoutAfterTooManyFailures();
    void lockoutEndsAndTheCountStartsAfresh();
    void lockoutIsPerAddress();
    void successResetsTheAddress();
    void globalBoundRefusesEveryAddress();
    void globalBoundSlowsEveryFailure();
    void globalBoundRecovers();
    void ipv6CountsPerSlash64();
    void ipv4MappedCountsAsIpv4();
    void zeroDelayAndNoLimits();
    void trackedAddressesAreBounded();
};

void TestLoginThrottle::delaysDoubleUpToTheCap()
{
    FakeClock time;
    LoginThrottle throttle(policy(), time.clock());
    const std::vector<std::chrono::milliseconds> expected = {1s, 2s, 4s, 8s, 16s, 30s, 30s};
    for (const auto delay : expected) {
        QCOMPARE(throttle.admit(kAttacker).verdict, Verdict::Allowed);
        QCOMPARE(throttle.recordFailure(kAttacker), delay);
        time.now += delay; // a patient attacker waits for every answer
    }
}

void TestLoginThrottle::failuresOlderThanTheWindowAreForgotten()
{
    FakeClock time;
    LoginThrottle throttle(policy(), time.clock());
    QCOMPARE(throttle.recordFailure(kAttacker), 1s);
    QCOMPARE(throttle.recordFailure(kAttacker), 2s);
    time.now += 601s;
    QCOMPARE(throttle.recordFailure(kAttacker), 1s);
}

void TestLoginThrottle::lockoutAfterTooManyFailures()
{
    FakeClock time;
    LoginThrottle throttle(policy(), time.clock());
    for (int i = 0; i < 9; ++i) {
        QCOMPARE(throttle.admit(kAttacker).verdict, Verdict::Allowed);
        throttle.recordFailure(kAttacker);
        time.now += 30s;
    }
    QCOMPARE(throttle.admit(kAttacker).verdict, Verdict::Allowed);
    throttle.recordFailure(kAttacker); // the tenth within ten minutes
    const LoginThrottle::Admission refused = throttle.admit(kAttacker);
    QCOMPARE(refused.verdict, Verdict::AddressLockedOut);
    QCOMPARE(refused.retryAfter, 900s);
    QVERIFY(refused.firstRefusal);
    time.now += 899s;
    const LoginThrottle::Admission again = throttle.admit(kAttacker);
    QCOMPARE(again.verdict, Verdict::AddressLockedOut);
    QVERIFY(!again.firstRefusal); // one log line per lockout, not one per attempt
}

void TestLoginThrottle::lockoutEndsAndTheCountStartsAfresh()
{
    FakeClock time;
    LoginThrottle throttle(policy(), time.clock());
    for (int i = 0; i < 10; ++i)
        throttle.recordFailure(kAttacker);
    QCOMPARE(throttle.admit(kAttacker).verdict, Verdict::AddressLockedOut);
    time.now += 900s;
    QCOMPARE(throttle.admit(kAttacker).verdict, Verdict::Allowed);
    QCOMPARE(throttle.recordFailure(kAttacker), 1s);
    for (int i = 0; i < 9; ++i)
        throttle.recordFailure(kAttacker);
    QVERIFY(throttle.admit(kAttacker).firstRefusal); // the next lockout is logged again
}

void TestLoginThrottle::lockoutIsPerAddress()
{
    FakeClock time;
    LoginThrottle throttle(policy(), time.clock());
    for (int i = 0; i < 10; ++i)
        throttle.recordFailure(kAttacker);
    QCOMPARE(throttle.admit(kAttacker).verdict, Verdict::AddressLockedOut);
    QCOMPARE(throttle.admit(kNeighbour).verdict, Verdict::Allowed);
    QCOMPARE(throttle.recordFailure(kNeighbour), 1s);
}

void TestLoginThrottle::successResetsTheAddress()
{
    FakeClock time;
    LoginThrottle throttle(policy(), time.clock());
    for (int i = 0; i < 9; ++i)
        throttle.recordFailure(kAttacker);
    time.now += 30s;
    QCOMPARE(throttle.admit(kAttacker).verdict, Verdict::Allowed);
    throttle.recordSuccess(kAttacker);
    QCOMPARE(throttle.trackedAddresses(), 0);
    // Nine more typos do not lock the user out, and the delays start from the beginning.
    QCOMPARE(throttle.recordFailure(kAttacker), 1s);
    for (int i = 0; i < 8; ++i)
        throttle.recordFailure(kAttacker);
    QCOMPARE(throttle.admit(kAttacker).verdict, Verdict::Allowed);
}

void TestLoginThrottle::globalBoundRefusesEveryAddress()
{
    FakeClock time;
    LoginThrottle throttle(policy(), time.clock());
    // Thirty addresses, one guess each: no address is anywhere near its own lockout.
    for (int i = 0; i < 29; ++i) {
        QCOMPARE(throttle.admit(numbered(i)).verdict, Verdict::Allowed);
        throttle.recordFailure(numbered(i));
        time.now += 1s;
    }
    QCOMPARE(throttle.admit(numbered(29)).verdict, Verdict::Allowed);
    throttle.recordFailure(numbered(29));
    const LoginThrottle::Admission refused = throttle.admit(numbered(1000));
    QCOMPARE(refused.verdict, Verdict::GlobalLimitReached);
    QCOMPARE(refused.retryAfter, 31s); // when the first of the thirty is a minute old
    QVERIFY(refused.firstRefusal);
    const LoginThrottle::Admission again = throttle.admit(numbered(0));
    QCOMPARE(again.verdict, Verdict::GlobalLimitReached);
    QVERIFY(!again.firstRefusal);
}

void TestLoginThrottle::globalBoundSlowsEveryFailure()
{
    FakeClock time;
    LoginThrottle throttle(policy(), time.clock());
    for (int i = 0; i < 29; ++i)
        QCOMPARE(throttle.recordFailure(numbered(i)), 1s);
    QCOMPARE(throttle.recordFailure(numbered(29)), 30s);
}

void TestLoginThrottle::globalBoundRecovers()
{
    FakeClock time;
    LoginThrottle throttle(policy(), time.clock());
    for (int i = 0; i < 30; ++i)
        throttle.recordFailure(numbered(i));
    QCOMPARE(throttle.admit(kNeighbour).verdict, Verdict::GlobalLimitReached);
    time.now += 60s;
    QCOMPARE(throttle.admit(kNeighbour).verdict, Verdict::Allowed);
    QCOMPARE(throttle.recordFailure(kNeighbour), 1s);
}

void TestLoginThrottle::ipv6CountsPerSlash64()
{
    FakeClock time;
    LoginThrottle throttle(policy(), time.clock());
    // One host picks a new address from its /64 for every guess.
    for (int i = 1; i <= 10; ++i)
        throttle.recordFailure(QHostAddress(QStringLiteral("2001:db8:1:2::%1").arg(i, 0, 16)));
    QCOMPARE(throttle.admit(QHostAddress(QStringLiteral("2001:db8:1:2:ffff::1"))).verdict,
             Verdict::AddressLockedOut);
    QCOMPARE(throttle.admit(QHostAddress(QStringLiteral("2001:db8:1:3::1"))).verdict,
             Verdict::Allowed);
    QCOMPARE(peerSource(QHostAddress(QStringLiteral("2001:db8:1:2:aaaa::1"))),
             QStringLiteral("2001:db8:1:2::/64"));
}

void TestLoginThrottle::ipv4MappedCountsAsIpv4()
{
    FakeClock time;
    LoginThrottle throttle(policy(), time.clock());
    for (int i = 0; i < 10; ++i)
        throttle.recordFailure(QHostAddress(QStringLiteral("::ffff:203.0.113.5")));
    QCOMPARE(throttle.admit(kAttacker).verdict, Verdict::AddressLockedOut);
}

void TestLoginThrottle::zeroDelayAndNoLimits()
{
    FakeClock time;
    LoginThrottle::Policy off = policy();
    off.firstDelay = 0s;
    off.lockoutFailures = 0;
    off.globalFailuresPerMinute = 0;
    LoginThrottle throttle(off, time.clock());
    for (int i = 0; i < 100; ++i)
        QCOMPARE(throttle.recordFailure(kAttacker), 0ms);
    QCOMPARE(throttle.admit(kAttacker).verdict, Verdict::Allowed);
}

void TestLoginThrottle::trackedAddressesAreBounded()
{
    FakeClock time;
    LoginThrottle::Policy small = policy();
    small.maxTrackedAddresses = 5;
    small.globalFailuresPerMinute = 0;
    LoginThrottle throttle(small, time.clock());
    for (int i = 0; i < 20; ++i)
        throttle.recordFailure(numbered(i));
    QCOMPARE(throttle.trackedAddresses(), 5);
    // Once their failures are out of the window, old addresses make room for new ones.
    time.now += 601s;
    throttle.recordFailure(numbered(100));
    QCOMPARE(throttle.trackedAddresses(), 1);
}

QTEST_GUILESS_MAIN(TestLoginThrottle)
#include "tst_login_throttle.moc"
