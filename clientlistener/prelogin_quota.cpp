#include "prelogin_quota.h"

#include <algorithm>

namespace xbnc {

PreloginQuota::PreloginQuota(int maxTotal, int maxPerSource)
    : maxTotal_(maxTotal), maxPerSource_(maxPerSource)
{
}

QString PreloginQuota::sourceOf(const QHostAddress &peer)
{
    bool mapped = false;
    const quint32 ipv4 = peer.toIPv4Address(&mapped);
    if (mapped)
        return QHostAddress(ipv4).toString();
    if (peer.protocol() != QAbstractSocket::IPv6Protocol)
        return peer.toString();
    Q_IPV6ADDR bytes = peer.toIPv6Address();
    std::fill(bytes.c + 8, bytes.c + 16, quint8(0));
    return QHostAddress(bytes).toString() + QStringLiteral("/64");
}

int PreloginQuota::fromSource(const QHostAddress &peer) const
{
    return perSource_.value(sourceOf(peer));
}

bool PreloginQuota::admits(const QHostAddress &peer) const
{
    return total() < maxTotal_ && fromSource(peer) < maxPerSource_;
}

void PreloginQuota::add(SessionId session, const QHostAddress &peer)
{
    const QString source = sourceOf(peer);
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
