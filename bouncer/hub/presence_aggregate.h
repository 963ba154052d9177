#pragma once

#include "element.h"
#include "session_id.h"

#include <QHash>

#include <optional>

namespace xbnc {

// What the real server sees of the account's presence: the most available connected session's
// own presence, or the configured idle presence when no session has one. A session's
// unavailable never reaches upstream as such, since the server would relay it to every room.
struct IdlePresence
{
    QString show = QStringLiteral("away"); // empty: plain available
    QString status;
    int priority = 0;
};

class PresenceAggregate
{
public:
    using Idle = IdlePresence;

    explicit PresenceAggregate(Idle idle = {});

    // A session's broadcast presence (no 'to'); unavailable removes it.
    void update(SessionId session, const Element &presence);
    void remove(SessionId session);
    bool has(SessionId session) const { return sessions_.contains(session); }
    Element presenceOf(SessionId session) const { return sessions_.value(session).presence; }

    // The session whose presence stands for the account, if any.
    std::optional<SessionId> leader() const;
    // The presence to send upstream, without to/from/id.
    Element current() const;

    // Higher is more available: chat > available > dnd > away > xa.
    static int availability(const Element &presence);

private:
    struct Entry
    {
        Element presence;
        quint64 sequence = 0; // most recent wins a tie
    };
    Idle idle_;
    QHash<SessionId, Entry> sessions_;
    quint64 sequence_ = 0;
};

} // namespace xbnc
