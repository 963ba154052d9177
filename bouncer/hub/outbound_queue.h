#pragma once

#include "element.h"

#include <QDateTime>
#include <QString>

#include <chrono>
#include <deque>
#include <optional>
#include <vector>

namespace xbnc {

struct OutboundQueueLimits
{
    int maxStanzas = 1000;
    std::chrono::seconds maxAge = std::chrono::hours(24);
};

// What the sessions sent while upstream was down, waiting in order to go out once it is back.
// Bounded by count and by age, so an outage of days cannot grow it without limit; the caller
// bounces what the bounds reject. Entries are numbered so that the persisted copy can follow
// with "remove everything up to n".
class OutboundQueue
{
public:
    using Limits = OutboundQueueLimits;

    struct Entry
    {
        quint64 seq = 0;
        QString resource; // the sender's: session ids do not survive a restart, resources do
        Element stanza;
        QDateTime queued; // UTC
    };

    explicit OutboundQueue(Limits limits = {}) : limits_(limits) {}

    void setLimits(Limits limits) { limits_ = limits; }
    const Limits &limits() const { return limits_; }

    // The queued entry, or nothing when the queue is full (the stanza is not kept).
    std::optional<Entry> push(const QString &resource, Element stanza, const QDateTime &now);
    // The oldest entries whose age ran out, in order.
    std::vector<Entry> takeExpired(const QDateTime &now);
    // Everything, oldest first, leaving the queue empty.
    std::vector<Entry> takeAll();
    // Entries kept from before a restart, oldest first; later pushes are numbered after them.
    void restore(std::vector<Entry> entries);

    bool isEmpty() const { return entries_.empty(); }
    int size() const { return int(entries_.size()); }

private:
    Limits limits_;
    std::deque<Entry> entries_;
    quint64 lastSeq_ = 0;
};

} // namespace xbnc
