#pragma once

#include "element.h"

#include <QString>

#include <map>
#include <optional>
#include <vector>

namespace xbnc {

// The account's roster as xbnc last saw it from the server, with XEP-0237 / RFC 6121 §2.6
// versions of xbnc's own making, so that a reconnecting client gets an empty result or only
// what changed instead of the whole roster.
//
// A version is "<epoch>-<n>": n counts the changes this cache has seen, and the epoch (random,
// chosen when the cache is first filled) tells a version of this cache from one of a cache that
// was wiped, or from the server's own versions, which a client may still hold. Each item and
// each removal remembers the number of the change that made it, so "what changed after n" is
// exact for every n down to the oldest removal still remembered.
class RosterCache
{
public:
    // At most this many removals are remembered; a version older than the oldest forgotten one
    // gets the whole roster.
    static constexpr int maxRemovals = 1000;

    // What a session asking for the roster gets.
    struct Answer
    {
        // The whole roster (<query xmlns='jabber:iq:roster' ver=…>); none: an empty result.
        std::optional<Element> roster;
        // RFC 6121 §2.6.3: then the changes, each the <query ver=…><item/></query> of a push,
        // oldest first, the last carrying the current version.
        std::vector<Element> pushes;
    };

    explicit RosterCache(QString epoch = {}) : epoch_(std::move(epoch)) {}

    bool isFilled() const { return filled_; }
    QString version() const;

    // The <query/> of a full roster from the server. Returns the pushes that bring a client
    // holding the previous contents up to date (none on the first fill).
    std::vector<Element> replace(const Element &query);
    // A push's <query/> from the server; returns the push to give the sessions, with this
    // cache's new version. Empty when the cache is not filled (a push alone is not a roster).
    std::optional<Element> apply(const Element &query);
    // For a request with `clientVer` (none: the client does not version its roster).
    Answer answer(const std::optional<QString> &clientVer) const;

    // The whole state as one element and back, to keep it across restarts.
    Element toElement() const;
    static std::optional<RosterCache> fromElement(const Element &saved);

private:
    struct Entry
    {
        Element item; // <item subscription='remove'/> for a removal
        quint64 change = 0;
    };
    quint64 setItem(const QString &jid, Element item);
    void remove(const QString &jid);
    Element pushFor(const Entry &entry) const;
    Element fullRoster() const;
    void forgetOldRemovals();

    QString epoch_;
    bool filled_ = false;
    quint64 changes_ = 0;
    quint64 oldestExact_ = 0;           // versions below this are answered in full
    std::map<QString, Entry> items_;    // by bare JID, as written by the server
    std::map<QString, Entry> removals_; // the same, for removed contacts
};

} // namespace xbnc
