#include "room_occupants.h"

namespace xbnc {

const RoomOccupants::Occupant *RoomOccupants::find(const QString &nick) const
{
    const auto it = byNick_.constFind(nick);
    return it == byNick_.cend() ? nullptr : &*it.value();
}

void RoomOccupants::set(const QString &nick, const Element &presence)
{
    QByteArray bytes = serialized(presence);
    const bool addressed = presence.hasAttribute(u"to");
    const auto known = byNick_.constFind(nick);
    if (known != byNick_.cend()) {
        known.value()->presence = std::move(bytes);
        known.value()->addressed = addressed;
        return;
    }
    ordered_.push_back(Occupant{nick, std::move(bytes), addressed});
    byNick_.insert(nick, std::prev(ordered_.end()));
}

void RoomOccupants::remove(const QString &nick)
{
    const auto it = byNick_.constFind(nick);
    if (it == byNick_.cend())
        return;
    ordered_.erase(it.value());
    byNick_.erase(it);
}

void RoomOccupants::removeIf(const std::function<bool(const Occupant &)> &drop,
                             const std::function<void(const Occupant &)> &removed)
{
    for (auto it = ordered_.begin(); it != ordered_.end();) {
        if (!drop(*it)) {
            ++it;
            continue;
        }
        removed(*it);
        byNick_.remove(it->nick);
        it = ordered_.erase(it);
    }
}

void RoomOccupants::clear()
{
    byNick_.clear();
    ordered_.clear();
}

QByteArray RoomOccupants::serialized(const Element &presence)
{
    QByteArray bytes = presence.toXml();
    bytes.squeeze(); // kept for as long as the occupant stays: no spare capacity
    return bytes;
}

} // namespace xbnc
