#pragma once

#include "element.h"

#include <QDateTime>
#include <QSet>
#include <QString>

#include <deque>
#include <functional>
#include <optional>
#include <vector>

namespace xbnc {

// What a joining session asked for in <history/> (XEP-0045 §7.2.13).
struct HistoryRequest
{
    std::optional<int> maxStanzas;
    std::optional<int> maxChars;
    std::optional<int> seconds;
    std::optional<QDateTime> since;

    // From a join's <x xmlns='http://jabber.org/protocol/muc'> (null: no <x/>). Without a
    // <history/> the room's default applies; unparsable values are ignored.
    static HistoryRequest fromJoin(const Element *mucX, int defaultMaxStanzas = 20);
};

// The room's recent messages, bounded, for replaying history to sessions that join later.
class RoomLog
{
public:
    struct Entry
    {
        Element message;
        QDateTime time;   // when the room sent it (its own delay stamp), else when received
        QString stanzaId; // the room's XEP-0359 id, for recognising repeats
    };

    explicit RoomLog(int capacity = 1000);

    // False for a message already logged (same room stanza-id): a rejoin's history repeats.
    bool append(const Element &message, const QDateTime &received);
    // Oldest first, each with a <delay/> from the room unless it had one; all limits apply.
    std::vector<Element> replay(const HistoryRequest &request, const QString &roomJid,
                                const QDateTime &now) const;

    int size() const { return int(entries_.size()); }
    void clear()
    {
        entries_.clear();
        ids_.clear();
        roomClock_.reset();
    }
    // The latest entry time (a live message's is when xbnc received it).
    std::optional<QDateTime> newest() const;
    // The newest <delay stamp> the room itself gave, on its clock: what a rejoin's
    // <history since> is measured against. Kept when the entry that carried it is trimmed.
    std::optional<QDateTime> newestRoomStamp() const { return roomClock_; }
    const std::deque<Entry> &entries() const { return entries_; }
    void restore(std::vector<Entry> entries);
    // Entries without a stanza-id get one: `stamp` returns the message with the id added.
    void identifyAll(const std::function<Element(const Element &)> &stamp);

private:
    void trim();
    int capacity_;
    std::deque<Entry> entries_;
    QSet<QString> ids_; // stanza-ids of entries_
    std::optional<QDateTime> roomClock_;
};

} // namespace xbnc
