#include "prelogin_quota.h"

#include "peer_source.h"

namespace xbnc {

PreloginQuota::PreloginQuota(int maxTotal, int maxPerSource)
    : maxTotal_(maxTotal), maxPerSource_(maxPerSource)
{
}

int PreloginQuota::fromSource(const QHostAddress &peer) const
{
    return perSource_.value(peerSource(peer));
}

bool PreloginQuota::admits(const QHostAddress &peer) const
{
    return total() < maxTotal_ && fromSource(peer) < maxPerSource_;
}

void PreloginQuota::add(SessionId session, const QHostAddress &peer)
{
    const QString source = peerSource(peer);
    sourceOf_.insert(session, source);
    ++perSource_[source];
}

void PreloginQuota::remove(SessionId session)
{
    const auto it = sourceOf_.constFind(session);
    if (it == sourceOf_.cend())
        return;
    const auto count = perSource_.find(*it);
    if (--*count == 0)
        perSource_.erase(count);
    sourceOf_.erase(it);
}

} // namespace xbnc
