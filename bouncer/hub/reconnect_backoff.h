#pragma once

#include <chrono>

namespace xbnc {

// When to try the upstream connection again: exponential backoff with jitter, so that a server
// restart is not greeted by every bouncer at once, and a long outage costs one attempt every few
// minutes. Pure policy: the caller counts attempts and supplies the randomness.
struct ReconnectPolicy
{
    std::chrono::milliseconds base{1000};          // the undisturbed first delay
    std::chrono::milliseconds cap{300'000};        // no delay is ever longer
    std::chrono::milliseconds stableAfter{60'000}; // online this long resets the count
};

class ReconnectBackoff
{
public:
    using Policy = ReconnectPolicy;

    // Production timing, or test timing when XBNC_TEST_FAST_TIMERS=1.
    static Policy policyFromEnvironment();
    static Policy fastTestPolicy();

    explicit ReconnectBackoff(Policy policy = {}) : policy_(policy) {}

    // Delay before retry number `attempt` (0 = the first retry after a loss). `random` is uniform
    // in [0, 1): it spreads the delay over the upper half of the exponential step ("equal
    // jitter"), which keeps some distance between attempts while still desynchronising clients.
    std::chrono::milliseconds delayFor(int attempt, double random) const;

    const Policy &policy() const { return policy_; }

private:
    Policy policy_;
};

} // namespace xbnc
