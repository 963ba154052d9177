#include "reconnect_backoff.h"

#include <QtGlobal>

#include <algorithm>

namespace xbnc {

ReconnectBackoff::Policy ReconnectBackoff::fastTestPolicy()
{
    using namespace std::chrono_literals;
    return Policy{.base = 50ms, .cap = 1000ms, .stableAfter = 500ms};
}

ReconnectBackoff::Policy ReconnectBackoff::policyFromEnvironment()
{
    if (qEnvironmentVariableIntValue("XBNC_TEST_FAST_TIMERS") == 1)
        return fastTestPolicy();
    return Policy{};
}

std::chrono::milliseconds ReconnectBackoff::delayFor(int attempt, double random) const
{
    const qint64 base = std::max<qint64>(policy_.base.count(), 1);
    const qint64 cap = std::max<qint64>(policy_.cap.count(), base);
    // Double until the cap; stopping early keeps the shift far from overflow.
    qint64 step = base;
    for (int i = 0; i < attempt && step < cap; ++i)
        step *= 2;
    step = std::min(step, cap);
    const double clamped = std::clamp(random, 0.0, 1.0);
    const qint64 half = step / 2;
    const auto jitter = static_cast<qint64>(static_cast<double>(step - half) * clamped);
    return std::chrono::milliseconds(std::min(half + jitter, cap));
}

} // namespace xbnc
