#pragma once

#include "contact_presences.h"
#include "downstream.h"
#include "element.h"
#include "iq_router.h"
#include "jid.h"
#include "presence_aggregate.h"

#include <QHash>
#include <QSet>

#include <map>

namespace xbnc {

// The hub for one XMPP account: every stanza from the upstream connection and from each local
// session passes through here and is routed by addressing. Pure logic: no sockets; what it
// decides goes out through Output, so it is unit-tested with stanzas alone.
class Account
{
public:
    class Output
    {
    public:
        virtual ~Output() = default;
        virtual void toUpstream(const Element &stanza) = 0;
        virtual void toSession(SessionId session, const Element &stanza) = 0;
        // The session is replaced by a newer one binding the same resource.
        virtual void closeSession(SessionId session, Downstream::StreamError condition) = 0;
    };

    Account(Jid accountJid, Output &output, PresenceAggregate::Idle idle = {},
            std::chrono::milliseconds iqTimeout = std::chrono::seconds(60));

    // --- events ---
    void upstreamOnline(const Jid &boundJid);
    void upstreamOffline();
    void sessionBound(SessionId session, const QString &resource);
    void sessionClosed(SessionId session);
    void fromSession(SessionId session, Element stanza);
    void fromUpstream(Element stanza);
    void expireIqs(); // called from a timer

    // --- state, for the wiring and tests ---
    bool isUpstreamOnline() const { return upstreamOnline_; }
    qsizetype sessionCount() const { return sessions_.size(); }
    const IqRouter &iqRouter() const { return iqs_; }

    // Features xbnc itself provides, merged into the domain's disco#info.
    static QStringList ownFeatures();

private:
    struct Session
    {
        QString resource;
        bool initialPresenceSent = false;
        bool carbons = false;
        bool rosterRequested = false;
    };

    // Sessions → upstream
    void messageFromSession(SessionId id, Session &session, Element &stanza);
    void presenceFromSession(SessionId id, Session &session, Element &stanza);
    void iqFromSession(SessionId id, Session &session, Element &stanza);
    bool answerLocalIq(SessionId id, Session &session, const Element &stanza);
    void relayReplyFromSession(SessionId id, Element &stanza);
    // Upstream → sessions
    void messageFromUpstream(Element &stanza);
    void presenceFromUpstream(Element &stanza);
    void iqFromUpstream(Element &stanza);
    void requestFromUpstream(Element &stanza);
    void replyFromUpstream(Element &stanza);

    void failPending(const std::vector<IqRouter::Outbound> &pending);
    void sendAggregatePresence();
    void sendToSession(SessionId id, Element stanza); // rewrites 'to' to the session's JID
    void broadcastToSessions(const Element &stanza, bool onlyWithPresence);
    void deliverLocally(SessionId from, const Session &sender, const Jid &to, Element stanza);
    void copyAsCarbon(SessionId from, const Session &sender, const Element &message);
    void replyError(SessionId id, const Element &request, const QString &type,
                    const QString &condition);
    std::optional<SessionId> sessionByResource(const QString &resource) const;
    Jid sessionJid(const Session &session) const { return account_.withResource(session.resource); }
    bool isUpstreamAddress(const QString &to) const;

    Jid account_;
    Output &out_;
    Jid upstreamJid_;
    bool upstreamOnline_ = false;
    std::map<SessionId, Session> sessions_; // ordered: fan-out in connection order
    IqRouter iqs_;
    PresenceAggregate presence_;
    ContactPresences contacts_;
    QByteArray lastSentPresence_;
    quint64 pushCounter_ = 0;
};

} // namespace xbnc
