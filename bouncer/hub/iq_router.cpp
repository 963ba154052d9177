#include "iq_router.h"

namespace xbnc {

IqRouter::IqRouter(std::chrono::milliseconds timeout) : timeout_(timeout)
{
}

QString IqRouter::trackOutbound(SessionId session, const QString &originalId,
                                const QString &originalTo, Purpose purpose)
{
    // The prefix keeps these apart from ids gloox itself uses for bind and session.
    QString id = QStringLiteral("xo%1-%2").arg(session).arg(++counter_);
    outbound_.insert(id,
                     Outbound{session, originalId, originalTo, purpose, QDeadlineTimer(timeout_)});
    return id;
}

std::optional<IqRouter::Outbound> IqRouter::takeOutbound(const QString &id)
{
    auto it = outbound_.find(id);
    if (it == outbound_.end())
        return std::nullopt;
    Outbound entry = *it;
    outbound_.erase(it);
    return entry;
}

QString IqRouter::trackInbound(SessionId session, const QString &originalId,
                               const QString &requester)
{
    QString id = QStringLiteral("xi%1").arg(++counter_);
    inbound_.insert(
        id, Inbound{session, originalId, requester, QDeadlineTimer(timeout_), Purpose::Relay, {}});
    return id;
}

QString IqRouter::trackToSession(SessionId session, Purpose purpose, const QString &context)
{
    QString id = QStringLiteral("xi%1").arg(++counter_);
    inbound_.insert(id, Inbound{session, {}, {}, QDeadlineTimer(timeout_), purpose, context});
    return id;
}

void IqRouter::clearInbound()
{
    inbound_.removeIf([](const auto &it) { return it.value().purpose == Purpose::Relay; });
}

std::optional<IqRouter::Inbound> IqRouter::takeInbound(const QString &id)
{
    auto it = inbound_.find(id);
    if (it == inbound_.end())
        return std::nullopt;
    Inbound entry = *it;
    inbound_.erase(it);
    return entry;
}

void IqRouter::dropSession(SessionId session)
{
    outbound_.removeIf([session](const auto &it) { return it.value().session == session; });
    inbound_.removeIf([session](const auto &it) { return it.value().session == session; });
}

std::vector<IqRouter::Outbound> IqRouter::takeExpiredOutbound()
{
    std::vector<Outbound> expired;
    for (auto it = outbound_.begin(); it != outbound_.end();) {
        if (it->deadline.hasExpired()) {
            expired.push_back(*it);
            it = outbound_.erase(it);
        } else {
            ++it;
        }
    }
    return expired;
}

void IqRouter::dropExpiredInbound()
{
    inbound_.removeIf([](const auto &it) { return it.value().deadline.hasExpired(); });
}

std::vector<IqRouter::Outbound> IqRouter::takeAllOutbound()
{
    std::vector<Outbound> all;
    all.reserve(outbound_.size());
    for (const Outbound &entry : std::as_const(outbound_))
        all.push_back(entry);
    outbound_.clear();
    return all;
}

} // namespace xbnc
