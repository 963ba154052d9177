#include "login_throttle.h"

#include "peer_source.h"

#include <algorithm>
#include <utility>

namespace xbnc {

namespace {

constexpr std::chrono::minutes kGlobalWindow{1};

} // namespace

LoginThrottle::LoginThrottle(Policy policy, Clock clock) : policy_(policy), clock_(std::move(clock))
{
}

LoginThrottle::Admission LoginThrottle::admit(const QHostAddress &peer)
{
    const TimePoint now = clock_();
    const auto found = addresses_.find(peerSource(peer));
    if (found != addresses_.end() && found->lockedUntil > now) {
        const bool first = !std::exchange(found->refusalReported, true);
        return {Verdict::AddressLockedOut,
                std::chrono::ceil<Milliseconds>(found->lockedUntil - now), first};
    }
    if (globalLimitReached(now)) {
        const bool first = !std::exchange(globalRefusalReported_, true);
        return {Verdict::GlobalLimitReached,
                std::chrono::ceil<Milliseconds>(globalFailures_.front() + kGlobalWindow - now),
                first};
    }
    globalRefusalReported_ = false;
    return {};
}

LoginThrottle::Milliseconds LoginThrottle::recordFailure(const QHostAddress &peer)
{
    const TimePoint now = clock_();
    if (policy_.globalFailuresPerMinute > 0) {
        globalFailures_.push_back(now);
        // Only "the limit was reached within a minute" matters, so the limit bounds the memory.
        while (int(globalFailures_.size()) > policy_.globalFailuresPerMinute)
            globalFailures_.pop_front();
    }
    const bool slowEverybody = globalLimitReached(now);

    const QString key = peerSource(peer);
    if (!addresses_.contains(key) && int(addresses_.size()) >= policy_.maxTrackedAddresses)
        sweep(now);
    if (!addresses_.contains(key) && int(addresses_.size()) >= policy_.maxTrackedAddresses)
        return slowEverybody ? policy_.maxDelay : delayFor(1);

    AddressRecord &record = addresses_[key];
    forgetOldFailures(record, now);
    record.failures.push_back(now);
    const int count = int(record.failures.size());
    if (policy_.lockoutFailures > 0 && count >= policy_.lockoutFailures) {
        record.lockedUntil = now + policy_.lockoutDuration;
        record.refusalReported = false;
        // The count starts afresh once the refusal ends.
        record.failures.clear();
    }
    return slowEverybody ? std::max(policy_.maxDelay, delayFor(count)) : delayFor(count);
}

void LoginThrottle::recordSuccess(const QHostAddress &peer)
{
    addresses_.remove(peerSource(peer));
}

LoginThrottle::Milliseconds LoginThrottle::delayFor(int failuresInWindow) const
{
    if (policy_.firstDelay <= Milliseconds::zero() || failuresInWindow < 1)
        return Milliseconds::zero();
    Milliseconds delay = policy_.firstDelay;
    for (int i = 1; i < failuresInWindow && delay < policy_.maxDelay; ++i)
        delay *= 2;
    return std::min(delay, policy_.maxDelay);
}

void LoginThrottle::forgetOldFailures(AddressRecord &record, TimePoint now) const
{
    while (!record.failures.empty() && record.failures.front() + policy_.lockoutWindow <= now)
        record.failures.pop_front();
}

void LoginThrottle::forgetOldGlobalFailures(TimePoint now)
{
    while (!globalFailures_.empty() && globalFailures_.front() + kGlobalWindow <= now)
        globalFailures_.pop_front();
}

bool LoginThrottle::globalLimitReached(TimePoint now)
{
    if (policy_.globalFailuresPerMinute <= 0)
        return false;
    forgetOldGlobalFailures(now);
    return int(globalFailures_.size()) >= policy_.globalFailuresPerMinute;
}

void LoginThrottle::sweep(TimePoint now)
{
    for (auto it = addresses_.begin(); it != addresses_.end();) {
        forgetOldFailures(*it, now);
        if (it->failures.empty() && it->lockedUntil <= now)
            it = addresses_.erase(it);
        else
            ++it;
    }
}

} // namespace xbnc
