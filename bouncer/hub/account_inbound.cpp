#include "account.h"

#include "caps.h"
#include "push_notification.h"
#include "stanza_error.h"
#include "xmpp_ns.h"

#include <QLoggingCategory>
#include <QSet>

Q_DECLARE_LOGGING_CATEGORY(lcAccount)

// Stanzas from the upstream connection: which sessions get them, and the answers to requests
// the sessions or xbnc itself made.

namespace xbnc {

namespace {

// An answer xbnc gives upstream itself: the server stamps 'from'.
Element answer(const Element &request)
{
    Element result = stanza::iqResult(request);
    result.removeAttribute(u"from");
    return result;
}

} // namespace

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
    // The hot path of every room message: one room lookup, before classifying anything else.
    if (Room *room = existingRoom(from)) {
        const QString type = stanza.attribute(u"type");
        if (type == u"groupchat") {
            pushFor(stanza, room->nick());
            return room->groupchatFromUpstream(stanza);
        }
        // Private messages and the room's errors belong to the sessions in the room; with none
        // there, every session gets them rather than nobody.
        if ((!from.isBare() || type == u"error") && !room->joinedSessions().empty()) {
            pushFor(stanza);
            if (OfflineMessages::worthKeeping(stanza, account_))
                return logAndDeliver(stanza, &room->joinedSessions());
            return roomToSessions(room->joinedSessions(), stanza);
        }
    }
    if (const std::optional<SessionId> asker = mam_.route(stanza))
        return sendToSession(*asker, stanza); // XEP-0313: only the session that asked (if
                                              // it is still there)
    const bool fromOwnAccount = !from.isValid() || classify(from) == Address::AccountBare;
    if (fromOwnAccount)
        if (const Element *items = bookmarks::itemsOf(stanza))
            applyBookmarks(*items, BookmarkSource::Notification); // every session gets it too
    const bool carbon = fromOwnAccount && (stanza.firstChild(u"received", xmlns::carbons) ||
                                           stanza.firstChild(u"sent", xmlns::carbons));
    if (OfflineMessages::worthKeeping(stanza, account_)) {
        pushFor(stanza);
        return logAndDeliver(stanza); // not a carbon: every session
    }
    if (carbon) {
        const Element *sent = OfflineMessages::sentCarbonOf(stanza, account_);
        if (sent && OfflineMessages::worthKeepingSent(*sent))
            return logSentCarbon(stanza);
    }
    sendToSessions(
        stanza, [carbon](SessionId, const Session &session) { return !carbon || session.carbons; });
}

void Account::presenceFromUpstream(Element &stanza)
{
    const QString type = stanza.attribute(u"type");
    const Jid from(stanza.attribute(u"from"));
    if (Room *room = existingRoom(from))
        return room->presenceFromUpstream(stanza);
    if (type == u"subscribe")
        contacts_.addSubscriptionRequest(stanza);
    else if (type == u"unsubscribe")
        contacts_.settleSubscriptionRequest(from.bareString()); // the contact withdrew it
    else if ((type.isEmpty() || type == u"unavailable" || type == u"error") &&
             classify(from) != Address::Upstream)
        contacts_.update(stanza);
    // xbnc's own presence, reflected by the server, is each session's own presence.
    broadcastToSessions(stanza, true);
}

void Account::iqFromUpstream(Element &stanza)
{
    const QString type = stanza.attribute(u"type");
    if (type == u"get" || type == u"set")
        return requestFromUpstream(stanza);
    replyFromUpstream(stanza);
}

bool Account::serverPush(const Element &stanza)
{
    const Address from = classify(Jid(stanza.attribute(u"from")));
    const Element *payload = stanza::payload(stanza);
    if (stanza.attribute(u"type") != u"set" || !payload ||
        (from != Address::Server && from != Address::AccountBare))
        return false;
    bool Session::*wanted = nullptr;
    Element delivered = stanza;
    if (payload->xmlns() == xmlns::roster) {
        wanted = &Session::rosterRequested;
        // A request another client answered is no longer one to show new sessions.
        for (const Element &item : payload->children()) {
            const QString subscription = item.attribute(u"subscription");
            if (subscription == u"from" || subscription == u"both" || subscription == u"remove" ||
                item.attribute(u"approved") == u"true")
                contacts_.settleSubscriptionRequest(Jid(item.attribute(u"jid")).bareString());
        }
        delivered = rosterPushed(stanza); // with the cache's version
    } else if (payload->xmlns() == xmlns::blocking &&
               (payload->name() == u"block" || payload->name() == u"unblock")) {
        wanted = &Session::blocklistRequested; // XEP-0191 §3.3
    } else {
        return false;
    }
    // RFC 6121 §2.1.6: the server wants one acknowledgement, which xbnc gives; every session
    // that fetched the list gets the push.
    out_.toUpstream(answer(stanza));
    sendToSessions(delivered,
                   [wanted](SessionId, const Session &session) { return session.*wanted; });
    return true;
}

std::optional<SessionId> Account::answeringSession(const QString &requester) const
{
    if (auto it = conversations_.find(Jid(requester).toString()); it != conversations_.end())
        return it.value();
    if (std::optional<SessionId> leader = presence_.leader())
        return leader;
    if (!sessions_.empty())
        return sessions_.begin()->first;
    return std::nullopt;
}

void Account::requestFromUpstream(Element &stanza)
{
    if (serverPush(stanza))
        return;
    const Element *payload = stanza::payload(stanza);
    if (payload && payload->xmlns() == xmlns::ping)
        return out_.toUpstream(answer(stanza)); // reachable as long as xbnc is
    if (answerOwnCaps(stanza))
        return;
    // Anything else is for the user's client: the one in a conversation with the requester,
    // else the one whose presence the account shows.
    const QString requester = stanza.attribute(u"from");
    const std::optional<SessionId> target = answeringSession(requester);
    if (!target) {
        Element error =
            stanza::error(stanza, stanza::ErrorType::Cancel, QStringLiteral("service-unavailable"));
        error.removeAttribute(u"from");
        return out_.toUpstream(error);
    }
    stanza.setAttribute(QStringLiteral("id"),
                        iqs_.trackInbound(*target, stanza.attribute(u"id"), requester));
    sendToSession(*target, stanza);
}

void Account::replyFromUpstream(Element &stanza)
{
    std::optional<IqRouter::Outbound> pending =
        iqs_.takeReply(stanza.attribute(u"id"), stanza.attribute(u"from"));
    if (!pending) {
        qCDebug(lcAccount) << "an IQ answer nobody waits for, or from the wrong sender:"
                           << stanza.attribute(u"id") << stanza.attribute(u"from");
        return;
    }
    if (pending->purpose == IqRouter::Purpose::Relay ||
        pending->purpose == IqRouter::Purpose::DomainDisco ||
        pending->purpose == IqRouter::Purpose::AccountDisco ||
        pending->purpose == IqRouter::Purpose::RoomDisco)
        return relayedReplyFromUpstream(*pending, stanza);
    ownReplyFromUpstream(*pending, stanza);
}

void Account::relayedReplyFromUpstream(const IqRouter::Outbound &request, Element &reply)
{
    reply.setAttribute(QStringLiteral("id"), request.originalId);
    if (!request.context.isEmpty())
        mam_.finished(request.context, &reply);
    Element *query = reply.firstChild(u"query", xmlns::discoInfo);
    if (request.purpose == IqRouter::Purpose::DomainDisco && query &&
        reply.attribute(u"type") == u"result") {
        ServerCaps::addFeatures(*query, ownFeatures());
        serverCaps_.learn(*query); // what the session is shown is what <c/> names
    }
    if (request.purpose == IqRouter::Purpose::AccountDisco && query &&
        reply.attribute(u"type") == u"result")
        accountInfoAnswered(*query);
    if (request.purpose == IqRouter::Purpose::RoomDisco && reply.attribute(u"type") == u"result")
        roomDiscoAnswered(Jid(request.to).bareString(), reply);
    sendToSession(request.session, reply);
}

void Account::roomDiscoAnswered(const QString &jid, Element &reply)
{
    Element *query = reply.firstChild(u"query", xmlns::discoInfo);
    if (!query || query->hasAttribute(u"node"))
        return;
    bool conference = false;
    for (const Element &c : query->children())
        conference =
            conference || (c.name() == u"identity" && c.attribute(u"category") == u"conference");
    if (!conference)
        return; // a contact, a server, a MUC service: not a room
    const Room::Archive archive =
        caps::hasFeature(*query, xmlns::mam) ? Room::Archive::Room : Room::Archive::Log;
    // Often asked before the first join (clients read a room's features first): kept for the
    // Room to come. Bounded by the rooms a user looks at; forgotten wholesale past a limit.
    if (roomArchives_.size() >= 1000)
        roomArchives_.clear();
    roomArchives_.insert(jid, archive);
    if (auto it = rooms_.find(jid); it != rooms_.end() && it->second->archive() != archive) {
        it->second->setArchive(archive);
        if (it->second->isAccountIn())
            out_.roomEntered(*it->second); // stored with the room, known again after a restart
    }
    if (archive == Room::Archive::Log)
        ServerCaps::addFeatures(*query, {xmlns::mam, xmlns::stanzaId});
}

void Account::ownReplyFromUpstream(const IqRouter::Outbound &request, const Element &reply)
{
    const bool failed = reply.attribute(u"type") == u"error";
    switch (request.purpose) {
    case IqRouter::Purpose::Bookmarks:
        if (const Element *items = bookmarks::itemsOf(reply))
            applyBookmarks(*items, BookmarkSource::List);
        else if (failed) // no XEP-0402: try XEP-0048
            this->request(bookmarks::legacyRequest(QString()), IqRouter::Purpose::LegacyBookmarks);
        return;
    case IqRouter::Purpose::LegacyBookmarks:
        for (const Bookmark &bookmark : bookmarks::fromLegacyStorage(reply))
            applyBookmark(bookmark, BookmarkSource::List);
        return;
    case IqRouter::Purpose::SelfPing:
        return selfPingAnswered(request.context, &reply);
    case IqRouter::Purpose::Carbons:
        if (failed)
            qCWarning(lcAccount) << "the server refused carbons: sessions will not see what the "
                                    "account's other clients send";
        return;
    case IqRouter::Purpose::Roster:
        return rosterFetched(reply);
    case IqRouter::Purpose::RosterRelay:
        return rosterRelayAnswered(request, reply);
    case IqRouter::Purpose::ServerInfo:
        return serverInfoFetched(reply);
    case IqRouter::Purpose::RoomInfo:
        return roomInfoAnswered(request.context, reply);
    case IqRouter::Purpose::Push:
        return pushAnswered(request, reply);
    case IqRouter::Purpose::ServerPushOff:
        if (failed)
            qCWarning(lcAccount) << "the server refused to disable push for" << request.context
                                 << "while it is connected; it may be woken for nothing";
        else
            qCInfo(lcAccount) << "push for device" << request.context
                              << "disabled on the server while it is connected";
        return;
    case IqRouter::Purpose::Relay:
    case IqRouter::Purpose::DomainDisco:
    case IqRouter::Purpose::AccountDisco:
    case IqRouter::Purpose::RoomDisco:
    case IqRouter::Purpose::SessionCaps: // asked of a session: answered from the session side
        return;
    }
}

} // namespace xbnc
