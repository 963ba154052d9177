#include "account.h"

#include "xmpp_ns.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcAccount, "xbnc.account")

namespace xbnc {

namespace {

Element child(const QString &name, const QString &xmlns, const QString &text = {})
{
    Element element(name, xmlns);
    if (!text.isEmpty())
        element.setText(text);
    return element;
}

bool isRequest(const QString &type)
{
    return type == u"get" || type == u"set";
}

// The one payload element of an IQ (get/set carry exactly one).
const Element *payloadOf(const Element &iq)
{
    for (const Element &c : iq.children())
        if (!c.isText() && c.name() != u"error")
            return &c;
    return nullptr;
}

} // namespace

template <typename Wanted> void Account::sendToSessions(const Element &stanza, Wanted wanted)
{
    // The hot path of every fanned-out stanza: one working copy for all recipients whose 'to'
    // is rewritten in place, or none when the address stays as it is.
    if (!needsSessionAddress(stanza)) {
        for (const auto &[id, session] : sessions_)
            if (wanted(id, session))
                out_.toSession(id, stanza);
        return;
    }
    Element copy = stanza;
    for (const auto &[id, session] : sessions_) {
        if (!wanted(id, session))
            continue;
        copy.setAttribute(QStringLiteral("to"), sessionJid(session).toString());
        out_.toSession(id, copy);
    }
}

Account::Account(Jid accountJid, Output &output, PresenceAggregate::Idle idle,
                 std::chrono::milliseconds iqTimeout)
    : account_(accountJid.bare()), out_(output), iqs_(iqTimeout), presence_(std::move(idle))
{
}

QStringList Account::ownFeatures()
{
    return {xmlns::carbons, xmlns::ping};
}

// ---------------------------------------------------------------- lifecycle

void Account::upstreamOnline(const Jid &boundJid)
{
    upstreamJid_ = boundJid;
    upstreamOnline_ = true;
    lastSentPresence_.clear();
    sendAggregatePresence();
    // Carbons upstream let sessions see what the user's other, non-xbnc clients send; which
    // sessions get them is decided here, per session.
    Element enable(QStringLiteral("iq"), xmlns::client);
    enable.setAttribute(QStringLiteral("type"), QStringLiteral("set"));
    enable.setAttribute(QStringLiteral("id"), QStringLiteral("xbnc-carbons"));
    enable.addChild(child(QStringLiteral("enable"), xmlns::carbons));
    out_.toUpstream(enable);
    for (auto &[jid, room] : rooms_)
        if (std::optional<Element> join = room->rejoin())
            out_.toUpstream(*join);
    // XEP-0402: rooms bookmarked for autojoin are joined by the account itself.
    out_.toUpstream(bookmarks::request(QStringLiteral("xbnc-bookmarks")));
}

void Account::upstreamOffline()
{
    upstreamOnline_ = false;
    failPending(iqs_.takeAllOutbound());
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
        // RFC 6120 §7.7.2.2: the newer session wins; the older one gets a conflict error.
        qCInfo(lcAccount) << "resource" << resource << "rebound; closing the older session";
        sessionClosed(*older);
        out_.sessionReplaced(*older);
    }
    sessions_[id] = Session{resource};
}

void Account::sessionClosed(SessionId id)
{
    auto it = sessions_.find(id);
    if (it == sessions_.end())
        return;
    const Session session = it->second;
    sessions_.erase(it);
    iqs_.dropSession(id);
    ownCaps_.sessionGone(id);
    for (auto &[jid, room] : rooms_)
        room->sessionClosed(id);
    if (session.initialPresenceSent) {
        presence_.remove(id);
        Element gone(QStringLiteral("presence"), xmlns::client);
        gone.setAttribute(QStringLiteral("from"), sessionJid(session).toString());
        gone.setAttribute(QStringLiteral("type"), QStringLiteral("unavailable"));
        broadcastToSessions(gone, true);
        sendAggregatePresence();
    }
}

void Account::expireIqs()
{
    failPending(iqs_.takeExpiredOutbound());
    iqs_.dropExpiredInbound();
}

void Account::failPending(const std::vector<IqRouter::Outbound> &pending)
{
    for (const IqRouter::Outbound &entry : pending) {
        Element request(QStringLiteral("iq"), xmlns::client);
        request.setAttribute(QStringLiteral("id"), entry.originalId);
        if (!entry.originalTo.isEmpty())
            request.setAttribute(QStringLiteral("to"), entry.originalTo);
        replyError(entry.session, request, QStringLiteral("wait"),
                   QStringLiteral("remote-server-timeout"));
    }
}

// ---------------------------------------------------------------- sessions → upstream

void Account::fromSession(SessionId id, Element stanza)
{
    auto it = sessions_.find(id);
    if (it == sessions_.end())
        return;
    // The server stamps 'from'; a client's own value is never trusted.
    stanza.removeAttribute(u"from");
    // A room removes an occupant that bounces its stanzas (XEP-0045 §18.1.2): one session's
    // error would cost the account its place for every session. Rooms never get errors.
    if (stanza.attribute(u"type") == u"error" && existingRoom(Jid(stanza.attribute(u"to"))))
        return;
    const QString &kind = stanza.name();
    if (kind == u"message")
        return messageFromSession(id, it->second, stanza);
    if (kind == u"presence")
        return presenceFromSession(id, it->second, stanza);
    if (kind == u"iq")
        return iqFromSession(id, it->second, stanza);
}

void Account::messageFromSession(SessionId id, Session &session, Element &stanza)
{
    const Jid to(stanza.attribute(u"to"));
    if (to.isValid() && to.sameBare(account_) && !to.isBare() &&
        to.resource() != upstreamJid_.resource())
        return deliverLocally(id, session, to, std::move(stanza));
    // A private message in a room is copied only to the sessions in that room.
    copyAsCarbon(id, session, stanza, existingRoom(to));
    out_.toUpstream(stanza);
}

void Account::presenceFromSession(SessionId id, Session &session, Element &stanza)
{
    if (stanza.hasAttribute(u"to")) {
        const Jid to(stanza.attribute(u"to"));
        Room *room = existingRoom(to);
        if (!room && stanza.firstChild(u"x", Room::mucNs) && !to.isBare() &&
            !stanza.hasAttribute(u"type"))
            room = &roomFor(to.bareString());
        if (room)
            return room->presenceFromSession(id, std::move(stanza));
        const QString type = stanza.attribute(u"type");
        if (type == u"subscribed" || type == u"unsubscribed")
            contacts_.settleSubscriptionRequest(stanza.attribute(u"to"));
        out_.toUpstream(stanza);
        return;
    }
    const QString type = stanza.attribute(u"type");
    if (!type.isEmpty() && type != u"unavailable")
        return; // probes and the like have no meaning without 'to'
    const bool first = !session.initialPresenceSent && type.isEmpty();
    if (type.isEmpty())
        session.initialPresenceSent = true;
    presence_.update(id, stanza);
    learnSessionCaps(id, stanza);

    // Other sessions of the account see this one, as they would on a server.
    Element echo = stanza;
    echo.setAttribute(QStringLiteral("from"), sessionJid(session).toString());
    broadcastToSessions(echo, true);
    if (type == u"unavailable")
        session.initialPresenceSent = false;

    if (first) {
        for (const auto &[otherId, other] : sessions_) {
            if (otherId == id || !presence_.has(otherId))
                continue;
            Element theirs = presence_.presenceOf(otherId);
            theirs.setAttribute(QStringLiteral("from"), sessionJid(other).toString());
            sendToSession(id, std::move(theirs));
        }
        for (const Element &contact : contacts_.available())
            sendToSession(id, contact);
        for (const Element &request : contacts_.pendingRequests())
            sendToSession(id, request);
    }
    sendAggregatePresence();
}

void Account::iqFromSession(SessionId id, Session &session, Element &stanza)
{
    const QString type = stanza.attribute(u"type");
    if (!isRequest(type))
        return relayReplyFromSession(id, stanza);
    if (answerLocalIq(id, session, stanza))
        return;
    const Jid to(stanza.attribute(u"to"));
    if (Room *room = existingRoom(to); room && to.resource() == room->nick() && type == u"get" &&
                                       stanza.firstChild(u"ping", xmlns::ping))
        return sendToSession(id, room->answerSelfPing(id, stanza)); // XEP-0410
    if (to.isValid() && to.sameBare(account_) && !to.isBare() &&
        to.resource() != upstreamJid_.resource() && sessionByResource(to.resource()))
        return deliverLocally(id, session, to, std::move(stanza));
    if (!upstreamOnline_) {
        replyError(id, stanza, QStringLiteral("wait"), QStringLiteral("remote-server-timeout"));
        return;
    }
    const Element *payload = payloadOf(stanza);
    if (payload && payload->xmlns() == xmlns::roster && type == u"get")
        session.rosterRequested = true;
    if (payload && type == u"set")
        followBookmarkChange(*payload);
    const bool domainDisco = to.isDomain() && to.domain() == account_.domain() && payload &&
                             payload->xmlns() == xmlns::discoInfo && type == u"get" &&
                             !payload->hasAttribute(u"node");
    const QString newId =
        iqs_.trackOutbound(id, stanza.attribute(u"id"), stanza.attribute(u"to"),
                           domainDisco ? IqRouter::Purpose::DomainDisco : IqRouter::Purpose::Relay);
    stanza.setAttribute(QStringLiteral("id"), newId);
    out_.toUpstream(stanza);
}

bool Account::answerLocalIq(SessionId id, Session &session, const Element &stanza)
{
    const Element *payload = payloadOf(stanza);
    if (!payload)
        return false;
    const Jid to(stanza.attribute(u"to"));
    const bool toSelf =
        to.isValid() && to.sameBare(account_) && !to.isBare() &&
        (to.resource() == session.resource || to.resource() == upstreamJid_.resource());
    const bool toServer = !to.isValid() || to == account_.bare() ||
                          (to.isDomain() && to.domain() == account_.domain());

    Element result(QStringLiteral("iq"), xmlns::client);
    result.setAttribute(QStringLiteral("type"), QStringLiteral("result"));
    result.setAttribute(QStringLiteral("id"), stanza.attribute(u"id"));
    if (to.isValid())
        result.setAttribute(QStringLiteral("from"), to.toString());

    // XEP-0280 is provided by xbnc for its own sessions: upstream it is always on.
    if (payload->xmlns() == xmlns::carbons && toServer && stanza.attribute(u"type") == u"set") {
        if (payload->name() == u"enable")
            session.carbons = true;
        else if (payload->name() == u"disable")
            session.carbons = false;
        else
            return false;
        sendToSession(id, result);
        return true;
    }
    if (!toSelf)
        return false;
    if (payload->xmlns() == xmlns::ping) {
        sendToSession(id, result);
        return true;
    }
    if (payload->xmlns() == xmlns::version && stanza.attribute(u"type") == u"get") {
        Element &query = result.addChild(child(QStringLiteral("query"), xmlns::version));
        query.addChild(child(QStringLiteral("name"), xmlns::version, QStringLiteral("xbnc")));
        query.addChild(
            child(QStringLiteral("version"), xmlns::version, QStringLiteral(XBNC_VERSION)));
        sendToSession(id, result);
        return true;
    }
    if (payload->xmlns() == xmlns::discoInfo && stanza.attribute(u"type") == u"get") {
        Element &query = result.addChild(child(QStringLiteral("query"), xmlns::discoInfo));
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
    replyError(id, stanza, QStringLiteral("cancel"), QStringLiteral("service-unavailable"));
    return true;
}

void Account::relayReplyFromSession(SessionId id, Element &stanza)
{
    const QString replyId = stanza.attribute(u"id");
    if (replyId.startsWith(u"xbnc-push-"))
        return; // a session acknowledging a roster push xbnc already acknowledged upstream
    if (auto pending = iqs_.takeInbound(replyId)) {
        if (pending->session != id)
            return;
        if (pending->purpose == IqRouter::Purpose::SessionCaps)
            return sessionCapsAnswered(*pending, stanza);
        stanza.setAttribute(QStringLiteral("id"), pending->originalId);
        if (pending->requester.isEmpty())
            stanza.removeAttribute(u"to");
        else
            stanza.setAttribute(QStringLiteral("to"), pending->requester);
        out_.toUpstream(stanza);
        return;
    }
    const Jid to(stanza.attribute(u"to"));
    auto sender = sessions_.find(id);
    if (to.isValid() && to.sameBare(account_) && !to.isBare() && sender != sessions_.end() &&
        sessionByResource(to.resource()))
        return deliverLocally(id, sender->second, to, std::move(stanza));
    qCDebug(lcAccount) << "dropping an unmatched IQ reply from session" << id;
}

// ---------------------------------------------------------------- upstream → sessions

void Account::fromUpstream(Element stanza)
{
    const QString &kind = stanza.name();
    if (kind == u"message")
        return messageFromUpstream(stanza);
    if (kind == u"presence")
        return presenceFromUpstream(stanza);
    if (kind == u"iq")
        return iqFromUpstream(stanza);
}

void Account::messageFromUpstream(Element &stanza)
{
    const Jid from(stanza.attribute(u"from"));
    if (Room *room = existingRoom(from)) {
        const QString type = stanza.attribute(u"type");
        if (type == u"groupchat")
            return room->groupchatFromUpstream(stanza);
        // Private messages and the room's errors belong to the sessions in the room; with none
        // there, every session gets them rather than nobody.
        if (!from.isBare() || type == u"error") {
            if (!room->joinedSessions().empty())
                return roomToSessions(room->joinedSessions(), stanza);
        }
    }
    const bool fromOwnAccount = !from.isValid() || from == account_;
    if (fromOwnAccount)
        if (const Element *items = bookmarks::itemsOf(stanza))
            applyBookmarks(*items, true); // and every session gets the notification as well
    const bool carbon = fromOwnAccount && (stanza.firstChild(u"received", xmlns::carbons) ||
                                           stanza.firstChild(u"sent", xmlns::carbons));
    sendToSessions(
        stanza, [carbon](SessionId, const Session &session) { return !carbon || session.carbons; });
}

void Account::presenceFromUpstream(Element &stanza)
{
    const QString type = stanza.attribute(u"type");
    const Jid from(stanza.attribute(u"from"));
    if (from.isValid() && from == upstreamJid_)
        return; // the server reflecting xbnc's own presence; sessions see each other instead
    if (Room *room = existingRoom(from))
        return room->presenceFromUpstream(stanza);
    if (type == u"subscribe")
        contacts_.addSubscriptionRequest(stanza);
    else if (type.isEmpty() || type == u"unavailable" || type == u"error")
        contacts_.update(stanza);
    broadcastToSessions(stanza, true);
}

void Account::iqFromUpstream(Element &stanza)
{
    if (isRequest(stanza.attribute(u"type")))
        return requestFromUpstream(stanza);
    replyFromUpstream(stanza);
}

void Account::requestFromUpstream(Element &stanza)
{
    const Element *payload = payloadOf(stanza);
    const Jid from(stanza.attribute(u"from"));
    const bool fromServer = !from.isValid() || from == account_ ||
                            (from.isDomain() && from.domain() == account_.domain());

    Element result(QStringLiteral("iq"), xmlns::client);
    result.setAttribute(QStringLiteral("type"), QStringLiteral("result"));
    result.setAttribute(QStringLiteral("id"), stanza.attribute(u"id"));
    if (from.isValid())
        result.setAttribute(QStringLiteral("to"), from.toString());

    if (payload && payload->xmlns() == xmlns::roster && fromServer &&
        stanza.attribute(u"type") == u"set") {
        // RFC 6121 §2.1.6: pushes go to every session that asked for the roster; the server
        // wants one acknowledgement, which xbnc gives.
        out_.toUpstream(result);
        for (const auto &[id, session] : sessions_) {
            if (!session.rosterRequested)
                continue;
            Element push = stanza;
            push.setAttribute(QStringLiteral("id"),
                              QStringLiteral("xbnc-push-%1").arg(++pushCounter_));
            sendToSession(id, push);
        }
        return;
    }
    if (payload && payload->xmlns() == xmlns::ping) {
        out_.toUpstream(result); // the account is reachable as long as xbnc is
        return;
    }
    if (answerOwnCaps(stanza))
        return;
    // Anything else is for the user's client: the one whose presence the account shows.
    std::optional<SessionId> target = presence_.leader();
    if (!target && !sessions_.empty())
        target = sessions_.begin()->first;
    if (!target) {
        Element error = result;
        error.setAttribute(QStringLiteral("type"), QStringLiteral("error"));
        Element &e = error.addChild(child(QStringLiteral("error"), xmlns::client));
        e.setAttribute(QStringLiteral("type"), QStringLiteral("cancel"));
        e.addChild(child(QStringLiteral("service-unavailable"), xmlns::stanzas));
        out_.toUpstream(error);
        return;
    }
    stanza.setAttribute(QStringLiteral("id"),
                        iqs_.trackInbound(*target, stanza.attribute(u"id"), from.toString()));
    sendToSession(*target, stanza);
}

void Account::replyFromUpstream(Element &stanza)
{
    auto pending = iqs_.takeOutbound(stanza.attribute(u"id"));
    if (!pending && stanza.attribute(u"id") == u"xbnc-bookmarks") {
        if (const Element *items = bookmarks::itemsOf(stanza))
            applyBookmarks(*items, false);
        else if (stanza.attribute(u"type") == u"error") // no XEP-0402: try XEP-0048
            out_.toUpstream(bookmarks::legacyRequest(QStringLiteral("xbnc-bookmarks-legacy")));
        return;
    }
    if (!pending && stanza.attribute(u"id") == u"xbnc-bookmarks-legacy") {
        for (const Bookmark &bookmark : bookmarks::fromLegacyStorage(stanza))
            applyBookmark(bookmark, false);
        return;
    }
    if (!pending && stanza.attribute(u"id").startsWith(u"xbnc-selfping-")) {
        Room *room = existingRoom(Jid(stanza.attribute(u"from")));
        if (room && !room->selfPingAnswered(stanza))
            if (std::optional<Element> join = room->rejoin())
                out_.toUpstream(*join);
        return;
    }
    if (!pending && stanza.attribute(u"id").startsWith(u"xbnc-"))
        return; // the answer to one of xbnc's own requests (enabling carbons)
    if (!pending) {
        qCDebug(lcAccount) << "dropping an IQ reply nobody waits for:" << stanza.attribute(u"id");
        return;
    }
    stanza.setAttribute(QStringLiteral("id"), pending->originalId);
    if (pending->purpose == IqRouter::Purpose::DomainDisco &&
        stanza.attribute(u"type") == u"result") {
        if (Element *query = stanza.firstChild(u"query", xmlns::discoInfo)) {
            QSet<QString> present;
            for (const Element &c : query->children())
                if (c.name() == u"feature")
                    present.insert(c.attribute(u"var"));
            for (const QString &feature : ownFeatures()) {
                if (present.contains(feature))
                    continue;
                Element f(QStringLiteral("feature"), xmlns::discoInfo);
                f.setAttribute(QStringLiteral("var"), feature);
                query->addChild(std::move(f));
            }
        }
    }
    if (sessions_.count(pending->session))
        sendToSession(pending->session, std::move(stanza));
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

void Account::sendToSession(SessionId id, Element stanza)
{
    auto it = sessions_.find(id);
    if (it == sessions_.end())
        return;
    if (needsSessionAddress(stanza))
        stanza.setAttribute(QStringLiteral("to"), sessionJid(it->second).toString());
    out_.toSession(id, stanza);
}

bool Account::needsSessionAddress(const Element &stanza) const
{
    // Only xbnc's own upstream address becomes the session's; a bare JID stays bare, as a server
    // delivers it (RFC 6121 §8.5.2).
    const QString to = stanza.attribute(u"to");
    return to.isEmpty() || isUpstreamAddress(to);
}

void Account::broadcastToSessions(const Element &stanza, bool onlyWithPresence)
{
    sendToSessions(stanza, [onlyWithPresence](SessionId, const Session &session) {
        return !onlyWithPresence || session.initialPresenceSent;
    });
}

void Account::deliverLocally(SessionId fromId, const Session &sender, const Jid &to, Element stanza)
{
    const auto target = sessionByResource(to.resource());
    stanza.setAttribute(QStringLiteral("from"), sessionJid(sender).toString());
    if (!target) {
        if (stanza.name() == u"iq") {
            Element request = stanza;
            replyError(fromId, request, QStringLiteral("cancel"),
                       QStringLiteral("service-unavailable"));
        }
        return; // RFC 6121 §8.5.3.2: messages to an absent resource of the account are dropped
    }
    out_.toSession(*target, stanza);
}

void Account::copyAsCarbon(SessionId fromId, const Session &sender, const Element &message,
                           const Room *room)
{
    const QString type = message.attribute(u"type");
    if (type != u"chat" && !(type.isEmpty() || type == u"normal"))
        return;
    if (type != u"chat" && !message.firstChild(u"body"))
        return;
    if (message.firstChild(u"private", xmlns::carbons) ||
        message.firstChild(u"no-copy", xmlns::hints))
        return;
    Element inner = message;
    inner.setAttribute(QStringLiteral("from"), sessionJid(sender).toString());
    for (const auto &[id, session] : sessions_) {
        if (id == fromId || !session.carbons || (room && !room->isJoined(id)))
            continue;
        Element carbon(QStringLiteral("message"), xmlns::client);
        carbon.setAttribute(QStringLiteral("from"), account_.toString());
        carbon.setAttribute(QStringLiteral("to"), sessionJid(session).toString());
        carbon.setAttribute(QStringLiteral("type"),
                            type.isEmpty() ? QStringLiteral("normal") : type);
        Element &sent = carbon.addChild(child(QStringLiteral("sent"), xmlns::carbons));
        Element &forwarded = sent.addChild(child(QStringLiteral("forwarded"), xmlns::forward));
        forwarded.addChild(inner);
        out_.toSession(id, carbon);
    }
}

void Account::replyError(SessionId id, const Element &request, const QString &type,
                         const QString &condition)
{
    Element error(QStringLiteral("iq"), xmlns::client);
    error.setAttribute(QStringLiteral("type"), QStringLiteral("error"));
    error.setAttribute(QStringLiteral("id"), request.attribute(u"id"));
    if (request.hasAttribute(u"to"))
        error.setAttribute(QStringLiteral("from"), request.attribute(u"to"));
    Element &e = error.addChild(child(QStringLiteral("error"), xmlns::client));
    e.setAttribute(QStringLiteral("type"), type);
    e.addChild(child(condition, xmlns::stanzas));
    sendToSession(id, std::move(error));
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
    out_.toUpstream(stanza);
}

void Account::roomToSession(SessionId session, const Element &stanza)
{
    sendToSession(session, stanza);
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
}

void Account::roomMessageLogged(const Room &room, const RoomLog::Entry &entry)
{
    out_.roomMessageLogged(room.jid(), entry);
}

bool Account::isUpstreamAddress(const QString &to) const
{
    const Jid jid(to);
    return jid.isValid() && jid.sameBare(account_) && !jid.isBare() &&
           jid.resource() == upstreamJid_.resource();
}

} // namespace xbnc
