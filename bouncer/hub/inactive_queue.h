#pragma once

#include "element.h"

#include <QDateTime>
#include <QHash>
#include <QString>

#include <map>
#include <vector>

namespace xbnc {

// What waits for a session that said it is inactive (XEP-0352 CSI): stanzas a user would not
// miss for now — presence updates, chat states, receipts and markers, PEP notifications — are
// held, and the first stanza that matters takes everything out, in order, ahead of itself.
// Presence is collapsed to the latest per sender: a contact that changes its status ten times
// costs the phone one stanza. Bounded: when full, the caller delivers everything.
class InactiveQueue
{
public:
    // Whether a stanza must reach an inactive session at once (and take the held ones along):
    // IQs, errors, messages with a body, an encrypted payload, a subject, an invitation or a
    // call; subscriptions; MUC presences about the account itself (status 110: kick, ban, nick
    // change, join) and a room's destruction.
    static bool isImportant(const Element &stanza);

    explicit InactiveQueue(int capacity) : capacity_(capacity) {}

    // Keeps the stanza for later when it can wait and there is room for it. false: the caller
    // delivers takeAll() and then the stanza, now.
    bool hold(const Element &stanza, const QDateTime &now);
    // Everything held, in arrival order (a collapsed presence where its latest one arrived),
    // each with a XEP-0203 <delay/> from `domain` stamped when it arrived, unless it already
    // carries one. The queue is left empty.
    std::vector<Element> takeAll(const QString &domain);
    // The same without emptying the queue (to save it across a restart: held again, the
    // stanzas keep their delay).
    std::vector<Element> stamped(const QString &domain) const;

    bool isEmpty() const { return held_.empty(); }
    int size() const { return int(held_.size()); }
    int capacity() const { return capacity_; }

private:
    struct Held
    {
        Element stanza;
        QDateTime received;
    };

    int capacity_;
    quint64 nextSeq_ = 0;
    std::map<quint64, Held> held_;             // by arrival
    QHash<QString, quint64> latestPresenceOf_; // sender's full JID → its held presence
};

} // namespace xbnc
