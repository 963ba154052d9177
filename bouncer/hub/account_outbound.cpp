#include "account.h"

#include "stanza_error.h"
#include "xmpp_ns.h"

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcAccount)

// Stanzas from the local sessions: what goes upstream, what xbnc answers itself, what a Room
// takes.

namespace xbnc {

namespace {

bool isRequest(const QString &type)
{
    return type == u"get" || type == u"set";
}

// The one payload element of an IQ (get/set carry exactly one).

} // namespace

void Account::fromSession(SessionId id, Element stanza)
{
    auto it = sessions_.find(id);
    if (it == sessions_.end())
        return;
    // XEP-0352 §5 leaves it to the server; like Prosody, a client that speaks is awake.
    if (it->second.held && !it->second.held->isEmpty())
        releaseHeld(id, it->second);
    // The server stamps 'from'; a client's own value is never trusted.
    stanza.removeAttribute(u"from");
    const QString &kind = stanza.name();
    if (kind == u"message")
        return messageFromSession(id, it->second, stanza);
    if (kind == u"presence")
        return presenceFromSession(id, it->second, stanza);
    if (kind == u"iq")
        return iqFromSession(id, it->second, stanza);
}

void Account::noteConversation(SessionId id, const Jid &peer)
{
    // Requests from a peer go to the device that is talking to it (a call answered on the
    // phone while the laptop leads). Bounded by the peers a user writes to.
    if (peer.isValid() && !peer.isBare())
        conversations_.insert(peer.toString(), id);
}

void Account::messageFromSession(SessionId id, Session &session, Element &stanza)
{
    const Jid to(stanza.attribute(u"to"));
    const Address address = classify(to);
    Room *room =
        (address == Address::Room || address == Address::Occupant) ? existingRoom(to) : nullptr;
    const QString type = stanza.attribute(u"type");
    // A room removes an occupant that bounces its stanzas (XEP-0045 §18.1.2): one session's
    // error would cost the account its place for every session.
    if (room && type == u"error")
        return;
    if (room && type == u"groupchat")
        return room->groupchatFromSession(id, stanza); // not-acceptable when not joined
    noteConversation(id, to);
    // A private message in a room is copied only to the sessions in that room.
    // Logged only when it goes out now: a queued message may still bounce, and the log must
    // not show the other devices a message bob never got.
    if (!room && upstreamOnline_ && OfflineMessages::worthKeepingSent(stanza))
        logSent(id, stanza);
    else
        copyAsCarbon(id, stanza, room);
    if (!upstreamOnline_)
        return queueForUpstream(session, stanza);
    out_.toUpstream(stanza);
}

void Account::presenceFromSession(SessionId id, Session &session, Element &stanza)
{
    if (!stanza.hasAttribute(u"to"))
        return broadcastPresenceFromSession(id, session, stanza);
    const Jid to(stanza.attribute(u"to"));
    const QString type = stanza.attribute(u"type");
    Room *room = existingRoom(to);
    if (room && type == u"error")
        return; // the kick rule, as for messages
    if (!room && stanza.firstChild(u"x", Room::mucNs) && !to.isBare() && type.isEmpty())
        room = &roomFor(to.bareString());
    if (room)
        return room->presenceFromSession(id, std::move(stanza));
    if (type == u"subscribed" || type == u"unsubscribed")
        contacts_.settleSubscriptionRequest(to.bareString());
    if (!upstreamOnline_)
        return queueForUpstream(session, stanza);
    out_.toUpstream(stanza);
}

void Account::broadcastPresenceFromSession(SessionId id, Session &session, Element &stanza)
{
    const QString type = stanza.attribute(u"type");
    if (!type.isEmpty() && type != u"unavailable")
        return; // probes and the like have no meaning without 'to'
    const bool first = !session.initialPresenceSent && type.isEmpty();
    session.initialPresenceSent = type.isEmpty();
    presence_.update(id, stanza);
    learnSessionCaps(id, stanza);
    if (first) {
        // As a server does for a resource that becomes available (RFC 6121 §4.2.2): the
        // contacts' presence, then the requests waiting for an answer.
        const QString self = boundJid().toString();
        for (Element contact : contacts_.available()) {
            contact.setAttribute(QStringLiteral("to"), self); // however it reached xbnc
            sendToSession(id, contact);
        }
        for (const Element &request : contacts_.pendingRequests())
            sendToSession(id, request);
        catchUp(id, session);
    }
    // Every session is the one resource the world sees: what they see of their presence is
    // the server's reflection of the aggregate.
    sendAggregatePresence();
}

void Account::iqFromSession(SessionId id, Session &session, Element &stanza)
{
    const QString type = stanza.attribute(u"type");
    if (!isRequest(type))
        return relayReplyFromSession(id, stanza);
    if (answerLocalIq(id, session, stanza) || answerPush(id, session, stanza) ||
        answerRoster(id, session, stanza) || answerServerCaps(id, stanza))
        return;
    const Jid to(stanza.attribute(u"to"));
    const Address address = classify(to);
    if (Room *room = existingRoom(to); address == Address::Occupant &&
                                       to.resource() == room->nick() && type == u"get" &&
                                       stanza.firstChild(u"ping", xmlns::ping))
        return sendToSession(id, room->answerSelfPing(id, stanza)); // XEP-0410
    if (address == Address::Room && answerFromRoomLog(id, stanza))
        return; // XEP-0313 for a room without MAM, even while upstream is away
    if (!upstreamOnline_)
        return replyError(id, stanza, QStringLiteral("remote-server-timeout"));
    const Element *payload = stanza::payload(stanza);
    if (payload && type == u"get" &&
        (address == Address::Server || address == Address::AccountBare)) {
        if (payload->xmlns() == xmlns::roster)
            session.rosterRequested = true;
        if (payload->xmlns() == xmlns::blocking && payload->name() == u"blocklist")
            session.blocklistRequested = true;
    }
    if (payload && type == u"set")
        followBookmarkChange(*payload);
    const bool domainDisco = to.isDomain() && to.domain() == account_.domain() && payload &&
                             payload->xmlns() == xmlns::discoInfo && type == u"get" &&
                             !payload->hasAttribute(u"node");
    // A room's features decide whether xbnc answers its MAM queries; a room unknown to xbnc
    // yet is often asked before its first join.
    const bool roomDisco = payload && type == u"get" && payload->xmlns() == xmlns::discoInfo &&
                           !payload->hasAttribute(u"node") && to.isBare() &&
                           !to.local().isEmpty() &&
                           (address == Address::Room || address == Address::Other);
    const bool accountDisco = payload && type == u"get" && payload->xmlns() == xmlns::discoInfo &&
                              !payload->hasAttribute(u"node") && address == Address::AccountBare;
    noteConversation(id, to);
    const QString archive = to.isValid() ? to.bareString() : account_.toString();
    IqRouter::Outbound entry;
    entry.purpose = domainDisco    ? IqRouter::Purpose::DomainDisco
                    : roomDisco    ? IqRouter::Purpose::RoomDisco
                    : accountDisco ? IqRouter::Purpose::AccountDisco
                                   : IqRouter::Purpose::Relay;
    entry.session = id;
    entry.originalId = stanza.attribute(u"id");
    entry.to = stanza.attribute(u"to");
    entry.context = mam_.track(id, stanza, archive);
    stanza.setAttribute(QStringLiteral("id"), iqs_.track(std::move(entry)));
    out_.toUpstream(stanza);
}

bool Account::answerLocalIq(SessionId id, Session &session, const Element &stanza)
{
    const Element *payload = stanza::payload(stanza);
    if (!payload)
        return false;
    const Address address = classify(Jid(stanza.attribute(u"to")));
    const QString type = stanza.attribute(u"type");
    Element result = stanza::iqResult(stanza);

    // XEP-0280 is provided by xbnc for its own sessions: upstream it is always on.
    if (payload->xmlns() == xmlns::carbons && type == u"set" &&
        (address == Address::Server || address == Address::AccountBare)) {
        if (payload->name() == u"enable")
            session.carbons = true;
        else if (payload->name() == u"disable")
            session.carbons = false;
        else
            return false;
        sendToSession(id, result);
        return true;
    }
    // The session's own full JID is xbnc's: what would reach the client itself is answered here.
    if (address != Address::Upstream)
        return false;
    if (payload->xmlns() == xmlns::ping) {
        sendToSession(id, result);
        return true;
    }
    if (payload->xmlns() == xmlns::version && type == u"get") {
        Element &query = result.addChild(Element(QStringLiteral("query"), xmlns::version));
        query.addChild(Element(QStringLiteral("name"), xmlns::version))
            .setText(QStringLiteral("xbnc"));
        query.addChild(Element(QStringLiteral("version"), xmlns::version))
            .setText(QStringLiteral(XBNC_VERSION));
        sendToSession(id, result);
        return true;
    }
    // Sessions see the aggregate presence reflected, with xbnc's <c/>: its node#ver must match.
    if (std::optional<Element> ownCaps = ownCapsReply(stanza)) {
        sendToSession(id, *ownCaps);
        return true;
    }
    if (payload->xmlns() == xmlns::discoInfo && type == u"get") {
        Element &query = result.addChild(Element(QStringLiteral("query"), xmlns::discoInfo));
        Element identity(QStringLiteral("identity"), xmlns::discoInfo);
        identity.setAttribute(QStringLiteral("category"), QStringLiteral("client"));
        identity.setAttribute(QStringLiteral("type"), QStringLiteral("pc"));
        identity.setAttribute(QStringLiteral("name"), QStringLiteral("xbnc"));
        query.addChild(std::move(identity));
        for (const QString &feature : {xmlns::discoInfo, xmlns::ping, xmlns::version}) {
            Element f(QStringLiteral("feature"), xmlns::discoInfo);
            f.setAttribute(QStringLiteral("var"), feature);
            query.addChild(std::move(f));
        }
        sendToSession(id, result);
        return true;
    }
    replyError(id, stanza, QStringLiteral("service-unavailable"));
    return true;
}

void Account::relayReplyFromSession(SessionId id, Element &stanza)
{
    auto pending = iqs_.takeInbound(stanza.attribute(u"id"), id);
    if (!pending) {
        // A session acknowledging a push xbnc already acknowledged, or a late answer after
        // the requester was told the request failed.
        qCDebug(lcAccount) << "an IQ answer from session" << id << "that nothing waits for";
        return;
    }
    if (pending->purpose == IqRouter::Purpose::SessionCaps)
        return sessionCapsAnswered(*pending, stanza);
    stanza.setAttribute(QStringLiteral("id"), pending->originalId);
    if (pending->requester.isEmpty())
        stanza.removeAttribute(u"to");
    else
        stanza.setAttribute(QStringLiteral("to"), pending->requester);
    if (upstreamInterrupted_)
        return heldStanzas_.push_back(stanza); // the requester's server still waits for it
    out_.toUpstream(stanza);
}

} // namespace xbnc
