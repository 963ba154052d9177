#pragma once

#include "element.h"
#include "jid.h"

#include <QDateTime>

#include <deque>
#include <vector>

namespace xbnc {

// Messages that arrived while no session was available, kept the way a server's offline storage
// keeps them (XEP-0160) until a session sends initial presence. The server itself stores nothing
// for the account, since xbnc is always online there. Every entry has a sequence number that only
// grows, across restarts too, so that per-device cursors can later tell what each device missed.
class OfflineMessages
{
public:
    struct Entry
    {
        quint64 seq = 0;
        Element stanza;     // a message, or the error bouncing something a session sent
        QDateTime received; // UTC
    };

    explicit OfflineMessages(int capacity = 1000) : capacity_(capacity) {}

    // Whether a message the server sent to the account is one a user would miss: a chat or
    // normal message with a body or an end-to-end encrypted payload, including private messages
    // from room occupants. Not carbons, groupchat (the rooms keep their own log), headlines,
    // errors, or chat states alone. XEP-0334 <store/> and <no-store/> hints are followed.
    static bool worthKeeping(const Element &message, const Jid &account);

    void setCapacity(int capacity) { capacity_ = capacity; }
    int capacity() const { return capacity_; }

    // The new entry; entries beyond the capacity are dropped oldest first into *dropped.
    const Entry &append(Element stanza, const QDateTime &received, std::vector<Entry> *dropped);
    // Everything, oldest first, each with a XEP-0203 <delay/> from `domain` stamped when it was
    // received (unless it already carried one); the store is left empty.
    std::vector<Entry> takeForDelivery(const QString &domain);
    // Entries kept from before a restart, oldest first, and the highest number ever given out.
    void restore(std::vector<Entry> entries, quint64 lastSeq);

    bool isEmpty() const { return entries_.empty(); }
    int size() const { return int(entries_.size()); }
    quint64 lastSeq() const { return lastSeq_; }

private:
    int capacity_;
    std::deque<Entry> entries_;
    quint64 lastSeq_ = 0;
};

} // namespace xbnc
