#pragma once

#include "element.h"

#include <QByteArray>
#include <QHash>
#include <QString>

#include <functional>
#include <list>

namespace xbnc {

// The occupants a room introduced, other than the account, in the order it introduced them
// (XEP-0045 §7.1: a replay lists them in that order). A big room's join brings thousands of
// presences and every one of them is looked up by nick, so the lookup is O(1) and a removal does
// not shift the others. Each presence is kept as the UTF-8 bytes Element::toXml() writes, once:
// a replay sends those bytes as they are, and a tree of UTF-16 strings per occupant cost about
// twice the memory (issue #11, B4).
class RoomOccupants
{
public:
    struct Occupant
    {
        QString nick;
        QByteArray presence; // Element::toXml() of the presence, 'to' included
        bool addressed;      // the presence has a 'to'
    };

    const Occupant *find(const QString &nick) const;
    // A new nick goes last; a known one keeps its place with the new presence.
    void set(const QString &nick, const Element &presence);
    void remove(const QString &nick);
    // Removes every occupant `drop` picks, telling `removed` about each, in the room's order.
    void removeIf(const std::function<bool(const Occupant &)> &drop,
                  const std::function<void(const Occupant &)> &removed);
    void clear();
    qsizetype size() const { return byNick_.size(); }

    std::list<Occupant>::const_iterator begin() const { return ordered_.begin(); }
    std::list<Occupant>::const_iterator end() const { return ordered_.end(); }

    // What set() keeps of a presence: compare it with an occupant's to tell a change.
    static QByteArray serialized(const Element &presence);

private:
    std::list<Occupant> ordered_;
    QHash<QString, std::list<Occupant>::iterator> byNick_;
};

} // namespace xbnc
