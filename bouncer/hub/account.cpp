#include "account.h"

#include "stanza_error.h"
#include "xmpp_ns.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcAccount, "xbnc.account")

namespace xbnc {

Account::Account(Jid accountJid, Output &output, PresenceAggregate::Idle idle,
                 std::chrono::milliseconds iqTimeout)
    : account_(accountJid.bare()), out_(output), iqs_(iqTimeout), presence_(std::move(idle))
{
    iqs_.setAccount(account_);
}

QStringList Account::ownFeatures()
{
    // XEP-0160: xbnc keeps what arrives while no session is available (OfflineMessages).
    return {xmlns::carbons, xmlns::ping, QStringLiteral("msgoffline")};
}

Jid Account::boundJid() const
{
    return upstreamJid_.isValid() ? upstreamJid_ : account_.withResource(upstreamResource_);
}

Account::Address Account::classify(const Jid &jid) const
{
    if (!jid.isValid() || (jid.isDomain() && jid.domain() == account_.domain()))
        return Address::Server;
    if (jid.sameBare(account_)) {
        if (jid.isBare())
            return Address::AccountBare;
        return jid.resource() == boundJid().resource() ? Address::Upstream : Address::OwnResource;
    }
    if (existingRoom(jid))
        return jid.isBare() ? Address::Room : Address::Occupant;
    return Address::Other;
}

// ---------------------------------------------------------------- lifecycle

void Account::upstreamOnline(const Jid &boundJid, std::vector<Element> unacknowledged)
{
    upstreamJid_ = boundJid;
    upstreamOnline_ = true;
    upstreamInterrupted_ = false;
    lastSentPresence_.clear();
    sendAggregatePresence();
    // Carbons upstream let sessions see what the user's other, non-xbnc clients send; which
    // sessions get them is decided here, per session.
    Element enable(QStringLiteral("iq"), xmlns::client);
    enable.setAttribute(QStringLiteral("type"), QStringLiteral("set"));
    enable.addChild(Element(QStringLiteral("enable"), xmlns::carbons));
    request(std::move(enable), IqRouter::Purpose::Carbons);
    roomInfoAsked_.clear(); // what was asked went with the old connection
    for (auto &[jid, room] : rooms_)
        if (std::optional<Element> join = room->rejoin())
            roomToUpstream(*join);
    // Before any newer stanza, and after the rejoins: queued groupchat and private messages
    // need the account back in their rooms.
    resendUnacknowledged(unacknowledged);
    sendHeldStanzas();
    flushQueue();
    // XEP-0402: rooms bookmarked for autojoin are joined by the account itself.
    request(bookmarks::request(QString()), IqRouter::Purpose::Bookmarks);
    // What phones check at login: the server's caps in the stream features, which need the
    // domain's disco#info, and the roster, answered from the cache (docs/ARCHITECTURE.md).
    Element serverInfo(QStringLiteral("iq"), xmlns::client);
    serverInfo.setAttribute(QStringLiteral("type"), QStringLiteral("get"));
    serverInfo.setAttribute(QStringLiteral("to"), account_.domain());
    serverInfo.addChild(Element(QStringLiteral("query"), xmlns::discoInfo));
    request(std::move(serverInfo), IqRouter::Purpose::ServerInfo);
    Element roster(QStringLiteral("iq"), xmlns::client);
    roster.setAttribute(QStringLiteral("type"), QStringLiteral("get"));
    roster.addChild(Element(QStringLiteral("query"), xmlns::roster));
    request(std::move(roster), IqRouter::Purpose::Roster);
    // Registrations of the server route whose devices came back while upstream was away.
    for (const auto &[id, session] : sessions_)
        if (!session.hibernating)
            disableOnServer(session.resource, push_.of(session.resource));
}

void Account::upstreamOffline()
{
    upstreamOnline_ = false;
    upstreamInterrupted_ = false;
    // Rooms go Away and rejoin: their held joins, leaves and nick changes mean nothing now.
    std::erase_if(heldStanzas_, [](const Element &held) { return held.name() == u"presence"; });
    for (const IqRouter::Outbound &pending : iqs_.takeAllOutbound())
        if (pending.purpose == IqRouter::Purpose::Relay ||
            pending.purpose == IqRouter::Purpose::DomainDisco ||
            pending.purpose == IqRouter::Purpose::AccountDisco ||
            pending.purpose == IqRouter::Purpose::RoomDisco ||
            pending.purpose == IqRouter::Purpose::RosterRelay)
            failRelay(pending);
    // The requests from outside died with the connection their answers would have taken.
    iqs_.clearInbound();
    for (auto &[jid, room] : rooms_)
        room->upstreamLost();
    // The contacts' presences are unknown until the server sends them again after reconnecting.
    for (const Element &gone : contacts_.takeAllAsUnavailable())
        broadcastToSessions(gone, true);
}

void Account::sessionBound(SessionId id, const QString &resource)
{
    if (const auto older = sessionByResource(resource)) {
        // RFC 6120 §7.7.2.2: the newer session wins; the older one (often one hibernating
        // after a lost connection) gets a conflict error, and what its client never
        // acknowledged waits for the device's next session instead of being lost.
        qCInfo(lcAccount) << "resource" << resource << "rebound; closing the older session";
        rebinding_ = true; // the device stays: no push on the server for the moment between
        sessionClosed(*older, out_.sessionReplaced(*older));
        rebinding_ = false;
    }
    sessions_[id].resource = resource;
    deviceBack(resource);
    cursors_.touch(resource, now_());
    out_.deviceCursorChanged(resource, *cursors_.find(resource));
}

void Account::sessionClosed(SessionId id, std::vector<Element> undelivered)
{
    auto it = sessions_.find(id);
    if (it == sessions_.end())
        return;
    const bool hadPresence = it->second.initialPresenceSent;
    keepUndelivered(it->second, std::move(undelivered));
    cursors_.touch(it->second.resource, now_()); // last seen: for forget_device_after
    out_.deviceCursorChanged(it->second.resource, *cursors_.find(it->second.resource));
    // What an inactive session held never carries a body; the next session gets the current
    // presences replayed (ContactPresences, the rooms), but chat states, receipts and markers
    // are gone with it.
    if (it->second.held) {
        --inactiveSessions_;
        if (!it->second.held->isEmpty())
            qCWarning(lcAccount) << "session" << id << "closed while inactive;"
                                 << it->second.held->size()
                                 << "held stanzas (presence, chat states, receipts) undelivered";
    }
    const QString device = it->second.resource;
    const bool wasHibernating = it->second.hibernating;
    sessions_.erase(it);
    if (!rebinding_ && !wasHibernating && !sessionByResource(device))
        deviceLeft(device); // a hibernating one left already
    ownCaps_.sessionGone(id);
    // RFC 6120 §8.2.3: whoever asked this session something gets an answer, not silence.
    for (const IqRouter::Inbound &orphan : iqs_.dropSession(id))
        failInbound(orphan, QStringLiteral("service-unavailable"));
    mam_.dropSession(id, iqs_.timeout());
    conversations_.removeIf([id](const auto &it) { return it.value() == id; });
    for (auto &[jid, room] : rooms_)
        room->sessionClosed(id);
    if (hadPresence) {
        presence_.remove(id);
        sendAggregatePresence();
    }
}

void Account::expireIqs()
{
    for (const IqRouter::Outbound &expired : iqs_.takeExpiredOutbound())
        requestExpired(expired);
    for (const IqRouter::Inbound &expired : iqs_.takeExpiredInbound())
        failInbound(expired, QStringLiteral("remote-server-timeout"));
    mam_.expire();
}

// ---------------------------------------------------------------- xbnc's own requests

void Account::request(Element iq, IqRouter::Purpose purpose, const QString &context)
{
    if (!upstreamOnline_)
        return;
    IqRouter::Outbound entry;
    entry.purpose = purpose;
    entry.to = iq.attribute(u"to");
    entry.context = context;
    iq.setAttribute(QStringLiteral("id"), iqs_.track(std::move(entry)));
    out_.toUpstream(iq);
}

void Account::requestExpired(const IqRouter::Outbound &request)
{
    switch (request.purpose) {
    case IqRouter::Purpose::Relay:
    case IqRouter::Purpose::DomainDisco:
    case IqRouter::Purpose::AccountDisco:
    case IqRouter::Purpose::RoomDisco:
    case IqRouter::Purpose::RosterRelay:
        return failRelay(request);
    case IqRouter::Purpose::SelfPing:
        // XEP-0410 §3.2: a room that does not answer is treated as having dropped the account.
        return selfPingAnswered(request.context, nullptr);
    case IqRouter::Purpose::SessionCaps: // asked of sessions, never upstream
        return;
    case IqRouter::Purpose::Carbons:
    case IqRouter::Purpose::Bookmarks:
    case IqRouter::Purpose::LegacyBookmarks:
    case IqRouter::Purpose::Roster:
    case IqRouter::Purpose::ServerInfo:
    case IqRouter::Purpose::RoomInfo: // a room's archive stays as it was until the next join
    case IqRouter::Purpose::Push:     // the app server may be slow; the registration stays
    case IqRouter::Purpose::ServerPushOff:
        qCWarning(lcAccount) << "the server did not answer xbnc's request in time; purpose"
                             << int(request.purpose);
        return;
    }
}

void Account::failRelay(const IqRouter::Outbound &pending)
{
    if (!sessions_.count(pending.session))
        return;
    Element original(QStringLiteral("iq"), xmlns::client);
    original.setAttribute(QStringLiteral("id"), pending.originalId);
    if (!pending.to.isEmpty())
        original.setAttribute(QStringLiteral("to"), pending.to);
    replyError(pending.session, original, QStringLiteral("remote-server-timeout"));
}

void Account::failInbound(const IqRouter::Inbound &pending, const QString &condition)
{
    if (!upstreamOnline_ || pending.purpose != IqRouter::Purpose::Relay)
        return;
    Element original(QStringLiteral("iq"), xmlns::client);
    original.setAttribute(QStringLiteral("id"), pending.originalId);
    if (!pending.requester.isEmpty())
        original.setAttribute(QStringLiteral("from"), pending.requester);
    out_.toUpstream(stanza::error(original, stanza::defaultType(condition), condition));
}

// ---------------------------------------------------------------- plumbing

void Account::sendAggregatePresence()
{
    if (!upstreamOnline_)
        return;
    Element presence = aggregatePresence();
    const QByteArray bytes = presence.toXml();
    if (bytes == lastSentPresence_)
        return;
    lastSentPresence_ = bytes;
    out_.toUpstream(presence);
}

void Account::sendToSession(SessionId id, const Element &stanza)
{
    const auto it = sessions_.find(id);
    if (it == sessions_.end())
        return;
    Element readdressed;
    if (!stanza.hasAttribute(u"to")) {
        readdressed = stanza;
        readdressed.setAttribute(QStringLiteral("to"), boundJid().toString());
    }
    const Element &addressed = readdressed.isNull() ? stanza : readdressed;
    if (it->second.held)
        return sendToInactive(id, it->second, addressed);
    out_.toSession(id, addressed);
}

void Account::broadcastToSessions(const Element &stanza, bool onlyWithPresence)
{
    sendToSessions(stanza, [onlyWithPresence](SessionId, const Session &session) {
        return !onlyWithPresence || session.initialPresenceSent;
    });
}

void Account::copyAsCarbon(SessionId fromId, const Element &message, const Room *room)
{
    const QString type = message.attribute(u"type");
    if (type != u"chat" && !(type.isEmpty() || type == u"normal"))
        return;
    if (type != u"chat" && !message.firstChild(u"body"))
        return;
    if (message.firstChild(u"private", xmlns::carbons) ||
        message.firstChild(u"no-copy", xmlns::hints))
        return;
    sendToSessions(sentCarbon(message), [fromId, room](SessionId id, const Session &session) {
        return id != fromId && session.carbons && (!room || room->isJoined(id));
    });
}

Element Account::sentCarbon(const Element &message) const
{
    const QString type = message.attribute(u"type");
    Element inner = message;
    inner.setAttribute(QStringLiteral("from"), boundJid().toString());
    Element carbon(QStringLiteral("message"), xmlns::client);
    carbon.setAttribute(QStringLiteral("from"), account_.toString());
    carbon.setAttribute(QStringLiteral("to"), boundJid().toString());
    carbon.setAttribute(QStringLiteral("type"), type.isEmpty() ? QStringLiteral("normal") : type);
    carbon.addChild(Element(QStringLiteral("sent"), xmlns::carbons))
        .addChild(Element(QStringLiteral("forwarded"), xmlns::forward))
        .addChild(std::move(inner));
    return carbon;
}

void Account::replyError(SessionId id, const Element &request, const QString &condition)
{
    sendToSession(id, stanza::error(request, stanza::defaultType(condition), condition));
}

std::optional<SessionId> Account::sessionByResource(const QString &resource) const
{
    for (const auto &[id, session] : sessions_)
        if (session.resource == resource)
            return id;
    return std::nullopt;
}

void Account::roomToUpstream(const Element &stanza)
{
    const QString joined = joinedRoomOf(stanza);
    if (upstreamInterrupted_) {
        roomInfoAsked_.remove(joined); // asked when the held join has been answered
        return heldStanzas_.push_back(stanza);
    }
    out_.toUpstream(stanza);
    // The room's disco#info right behind the join, not when the join has ended: a server that
    // keeps only its recently used rooms in memory (Prosody: 100 by default) has swapped the
    // room out by then when the account joins many at once, and must load it again to answer.
    if (!joined.isEmpty() && upstreamOnline_) {
        askRoomInfo(joined);
        roomInfoAsked_.insert(joined);
    }
}

void Account::roomToSession(SessionId session, const Element &stanza)
{
    sendToSession(session, stanza);
}

void Account::roomToSessionSerialized(SessionId session, const QList<QByteArray> &stanzas)
{
    const auto it = sessions_.find(session);
    if (it == sessions_.end())
        return;
    if (!it->second.held)
        return out_.toSessionSerialized(session, stanzas);
    for (const QByteArray &stanza : stanzas) // the inactive queue reads what it holds
        sendToInactive(session, it->second, Element::fromXml(stanza));
}

void Account::roomToSessions(const std::set<SessionId> &sessions, const Element &stanza)
{
    sendToSessions(stanza,
                   [&sessions](SessionId id, const Session &) { return sessions.count(id) > 0; });
}

void Account::roomMembershipChanged(const Room &room)
{
    if (room.isAccountIn())
        out_.roomEntered(room);
    else
        out_.roomLeft(room.jid());
    out_.roomRemovalChanged(room.jid(), room.removal());
}

void Account::roomMessageLogged(const Room &room, const RoomLog::Entry &entry)
{
    out_.roomMessageLogged(room.jid(), entry);
}

} // namespace xbnc
