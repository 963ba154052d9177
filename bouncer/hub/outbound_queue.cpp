#include "outbound_queue.h"

namespace xbnc {

std::optional<OutboundQueue::Entry> OutboundQueue::push(const QString &resource, Element stanza,
                                                        const QDateTime &now)
{
    if (int(entries_.size()) >= limits_.maxStanzas)
        return std::nullopt;
    entries_.push_back(Entry{++lastSeq_, resource, std::move(stanza), now.toUTC()});
    return entries_.back();
}

std::vector<OutboundQueue::Entry> OutboundQueue::takeExpired(const QDateTime &now)
{
    // Entries are in queueing order, so the expired ones are a prefix.
    const QDateTime oldestAllowed = now.addSecs(-limits_.maxAge.count());
    std::vector<Entry> expired;
    while (!entries_.empty() && entries_.front().queued <= oldestAllowed) {
        expired.push_back(std::move(entries_.front()));
        entries_.pop_front();
    }
    return expired;
}

std::vector<OutboundQueue::Entry> OutboundQueue::takeAll()
{
    std::vector<Entry> all(std::make_move_iterator(entries_.begin()),
                           std::make_move_iterator(entries_.end()));
    entries_.clear();
    return all;
}

void OutboundQueue::restore(std::vector<Entry> entries)
{
    for (Entry &entry : entries) {
        lastSeq_ = std::max(lastSeq_, entry.seq);
        entries_.push_back(std::move(entry));
    }
}

} // namespace xbnc
