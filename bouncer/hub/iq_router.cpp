#include "iq_router.h"

#include <QRandomGenerator>

namespace xbnc {

namespace {

// Removes the entries `wanted` picks and returns them.
template <typename Entry, typename Wanted>
std::vector<Entry> takeWhere(QHash<QString, Entry> &entries, Wanted wanted)
{
    std::vector<Entry> taken;
    for (auto it = entries.begin(); it != entries.end();) {
        if (wanted(*it)) {
            taken.push_back(std::move(*it));
            it = entries.erase(it);
        } else {
            ++it;
        }
    }
    return taken;
}

} // namespace

IqRouter::IqRouter(std::chrono::milliseconds timeout) : timeout_(timeout)
{
}

QString IqRouter::freshId()
{
    // Unpredictable, so that nobody on the network can answer a request they never saw.
    QString id;
    do {
        id = QStringLiteral("x") + QString::number(QRandomGenerator::global()->generate64(), 36);
    } while (outbound_.contains(id) || inbound_.contains(id));
    return id;
}

bool IqRouter::isServer(const Jid &jid) const
{
    return !jid.isValid() || jid == account_ ||
           (jid.isDomain() && jid.domain() == account_.domain());
}

QString IqRouter::track(Outbound entry)
{
    const QString id = freshId();
    entry.deadline = QDeadlineTimer(timeout_);
    outbound_.insert(id, std::move(entry));
    return id;
}

QString IqRouter::trackRelay(SessionId session, const QString &originalId, const QString &to,
                             Purpose purpose)
{
    return track(Outbound{purpose, session, originalId, to, {}, {}});
}

std::optional<IqRouter::Outbound> IqRouter::takeReply(const QString &id, const QString &from)
{
    auto it = outbound_.find(id);
    if (it == outbound_.end())
        return std::nullopt;
    const Jid to(it->to);
    const Jid replier(from);
    const bool expected = isServer(to) ? isServer(replier) : replier == to;
    if (!expected)
        return std::nullopt;
    Outbound entry = std::move(*it);
    outbound_.erase(it);
    return entry;
}

QString IqRouter::trackInbound(SessionId session, const QString &originalId,
                               const QString &requester)
{
    const QString id = freshId();
    inbound_.insert(
        id, Inbound{session, originalId, requester, QDeadlineTimer(timeout_), Purpose::Relay, {}});
    return id;
}

QString IqRouter::trackToSession(SessionId session, Purpose purpose, const QString &context)
{
    const QString id = freshId();
    inbound_.insert(id, Inbound{session, {}, {}, QDeadlineTimer(timeout_), purpose, context});
    return id;
}

void IqRouter::clearInbound()
{
    // xbnc's own questions to sessions do not depend on the upstream connection.
    inbound_.removeIf([](const auto &it) { return it.value().purpose == Purpose::Relay; });
}

std::optional<IqRouter::Inbound> IqRouter::takeInbound(const QString &id, SessionId session)
{
    auto it = inbound_.find(id);
    if (it == inbound_.end() || it->session != session)
        return std::nullopt;
    Inbound entry = *it;
    inbound_.erase(it);
    return entry;
}

std::vector<IqRouter::Inbound> IqRouter::dropSession(SessionId session)
{
    // A RoomDisco entry stays: the answer still tells xbnc whether the room has MAM.
    outbound_.removeIf([session](const auto &it) {
        return it.value().session == session && (it.value().purpose == Purpose::Relay ||
                                                 it.value().purpose == Purpose::DomainDisco ||
                                                 it.value().purpose == Purpose::AccountDisco ||
                                                 it.value().purpose == Purpose::RosterRelay);
    });
    return takeWhere(inbound_,
                     [session](const Inbound &entry) { return entry.session == session; });
}

std::vector<IqRouter::Outbound> IqRouter::takeExpiredOutbound()
{
    return takeWhere(outbound_, [](const Outbound &entry) { return entry.deadline.hasExpired(); });
}

std::vector<IqRouter::Inbound> IqRouter::takeExpiredInbound()
{
    return takeWhere(inbound_, [](const Inbound &entry) { return entry.deadline.hasExpired(); });
}

std::vector<IqRouter::Outbound> IqRouter::takeAllOutbound()
{
    return takeWhere(outbound_, [](const Outbound &) { return true; });
}

} // namespace xbnc
