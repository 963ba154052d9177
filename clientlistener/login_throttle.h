#pragma once

#include <QHash>
#include <QHostAddress>

#include <chrono>
#include <deque>
#include <functional>

namespace xbnc {

// How fast failed logins may be repeated, per source address and in total. The listener
// password is by default the account's real password, so guessing it through xbnc must be as
// slow as on a well-run server. Pure logic with an injected clock: no timers, no sockets.
class LoginThrottle
{
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    using Milliseconds = std::chrono::milliseconds;
    using Seconds = std::chrono::seconds;

    struct Policy
    {
        // Before the failure that answers the n-th failed attempt of an address: firstDelay
        // doubled n-1 times, at most maxDelay. Zero turns the delays off.
        Milliseconds firstDelay{1000};
        Milliseconds maxDelay{30000};
        // lockoutFailures failures within lockoutWindow refuse every attempt from that address
        // for lockoutDuration, a right password included.
        int lockoutFailures = 10;
        Seconds lockoutWindow{600};
        Seconds lockoutDuration{900};
        // Failures from all addresses together in one minute before every attempt is refused
        // until the minute has room again: the bound on an attacker with many addresses.
        int globalFailuresPerMinute = 30;
        // Addresses remembered at most; beyond it only the global bound applies to new ones.
        int maxTrackedAddresses = 100000;
    };

    enum class Verdict
    {
        Allowed,
        AddressLockedOut,
        GlobalLimitReached
    };
    struct Admission
    {
        Verdict verdict = Verdict::Allowed;
        Milliseconds retryAfter{0}; // when refused: until the refusal ends
        // The first refusal of this lockout (or of this global limit): worth one log line,
        // where a locked-out attacker's next thousand are not.
        bool firstRefusal = false;
    };

    explicit LoginThrottle(Policy policy, Clock clock = std::chrono::steady_clock::now);

    // Before a SASL element that could test a password is looked at.
    Admission admit(const QHostAddress &peer);
    // A failed attempt; returns how long to wait before answering it.
    Milliseconds recordFailure(const QHostAddress &peer);
    // A right password forgives the address its failures.
    void recordSuccess(const QHostAddress &peer);

    const Policy &policy() const { return policy_; }
    int trackedAddresses() const { return int(addresses_.size()); }

private:
    using TimePoint = std::chrono::steady_clock::time_point;
    struct AddressRecord
    {
        std::deque<TimePoint> failures; // within lockoutWindow, oldest first, bounded
        TimePoint lockedUntil{};
        bool refusalReported = false;
    };

    Milliseconds delayFor(int failuresInWindow) const;
    void forgetOldFailures(AddressRecord &record, TimePoint now) const;
    void forgetOldGlobalFailures(TimePoint now);
    void sweep(TimePoint now);
    bool globalLimitReached(TimePoint now);

    Policy policy_;
    Clock clock_;
    QHash<QString, AddressRecord> addresses_; // keyed by peerSource()
    std::deque<TimePoint> globalFailures_;    // within the last minute, at most the limit
    bool globalRefusalReported_ = false;
};

} // namespace xbnc
