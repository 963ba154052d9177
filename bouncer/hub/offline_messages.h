#pragma once

#include "element.h"
#include "jid.h"

#include <QDateTime>

#include <chrono>
#include <deque>
#include <optional>
#include <vector>

namespace xbnc {

struct OfflineMessagesLimits
{
    int maxMessages = 1000;
    std::chrono::seconds maxAge = std::chrono::hours(24 * 30);
};

// The account's log of 1:1 traffic worth keeping, from which each device catches up on what it
// missed (its place is in DeviceCursors). The server itself stores nothing for the account, since
// xbnc is always online there. Messages are logged whether or not a session is online; every
// entry has a sequence number that only grows, across restarts too, so that a device's cursor
// says exactly what it has had. Bounded by count and by age, oldest first out.
class OfflineMessages
{
public:
    using Limits = OfflineMessagesLimits;

    struct Entry
    {
        quint64 seq = 0;
        Element stanza;     // a message, or the error bouncing something a session sent
        QDateTime received; // UTC
        // Empty: for every device. Otherwise only for that device: a stanza it was sent and did
        // not acknowledge, which is not in the log any more.
        QString device;
    };

    explicit OfflineMessages(Limits limits = {}) : limits_(limits) {}

    // Whether a message the server sent to the account is one a user would miss: a chat or
    // normal message with a body or an end-to-end encrypted payload, including private messages
    // from room occupants. Not carbons, groupchat (the rooms keep their own log), headlines,
    // errors, or chat states alone. XEP-0334 <store/> and <no-store/> hints are followed.
    static bool worthKeeping(const Element &message, const Jid &account);
    // Whether a message the user sends (from a session, or from another device as the server's
    // XEP-0280 <sent> carbon tells) belongs in the log, so that the devices that were away see
    // both sides of the conversation: chat or normal with a body or an encrypted payload, not
    // marked <private/>, <no-copy/> or <no-store/>.
    static bool worthKeepingSent(const Element &message);
    // The message a XEP-0280 <sent> carbon from the account forwards; null when `message` is
    // not one.
    static const Element *sentCarbonOf(const Element &message, const Jid &account);
    // An OMEMO (legacy or 2) or OX payload: a message with no <body> a server can read.
    static bool isEncrypted(const Element &message);

    void setLimits(Limits limits) { limits_ = limits; }
    const Limits &limits() const { return limits_; }

    // The new entry; entries beyond the count are removed oldest first into *dropped.
    const Entry &append(Element stanza, const QDateTime &received, const QString &device,
                        std::vector<Entry> *dropped);
    // The oldest entries older than the age bound, removed.
    std::vector<Entry> takeExpired(const QDateTime &now);
    // What `device` has not had: the entries after `cursor` for every device or for it, oldest
    // first, each with a XEP-0203 <delay/> from `domain` stamped when it was received (unless it
    // already carried one).
    std::vector<Entry> after(quint64 cursor, const QString &device, const QString &domain) const;
    // The number of the entry `sent` was delivered from (live, or replayed with a delay), among
    // the entries up to `through` for `device`; the newest such entry if several look the same.
    std::optional<quint64> find(const Element &sent, const QString &device, quint64 through) const;
    // Entries kept from before a restart, oldest first, and the highest number ever given out.
    void restore(std::vector<Entry> entries, quint64 lastSeq);

    bool isEmpty() const { return entries_.empty(); }
    int size() const { return int(entries_.size()); }
    quint64 lastSeq() const { return lastSeq_; }
    const std::deque<Entry> &entries() const { return entries_; }

private:
    Limits limits_;
    std::deque<Entry> entries_;
    quint64 lastSeq_ = 0;
};

} // namespace xbnc
