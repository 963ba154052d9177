#include "account.h"

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcAccount)

// XEP-0352 client state indication: what an inactive session gets now, and what waits.

namespace xbnc {

void Account::sessionActive(SessionId id, bool active)
{
    const auto it = sessions_.find(id);
    // With no room to hold anything, an inactive session is served like an active one.
    if (it == sessions_.end() || active == !it->second.held || (!active && csiMaxHeld_ <= 0))
        return;
    Session &session = it->second;
    if (!active) {
        session.held = std::make_unique<InactiveQueue>(csiMaxHeld_);
        ++inactiveSessions_;
        return;
    }
    releaseHeld(id, session);
    session.held.reset();
    --inactiveSessions_;
}

void Account::sessionHeardFrom(SessionId id)
{
    // Called for every read from every session: nothing to look up while all are active.
    if (inactiveSessions_ == 0)
        return;
    const auto it = sessions_.find(id);
    if (it != sessions_.end() && it->second.held && !it->second.held->isEmpty())
        releaseHeld(id, it->second);
}

void Account::sendToInactive(SessionId id, Session &session, const Element &stanza)
{
    if (session.held->hold(stanza, now_()))
        return;
    // Something that matters, or the queue is full: everything held goes first, in order.
    releaseHeld(id, session);
    out_.toSession(id, stanza);
}

void Account::releaseHeld(SessionId id, Session &session)
{
    if (session.held->isEmpty())
        return;
    const std::vector<Element> held = session.held->takeAll(account_.domain());
    qCDebug(lcAccount) << "session" << id << "gets" << held.size()
                       << "stanzas held while it was inactive";
    for (const Element &stanza : held)
        out_.toSession(id, stanza);
}

} // namespace xbnc
