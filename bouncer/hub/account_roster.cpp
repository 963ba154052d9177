#include "account.h"

#include "stanza_error.h"
#include "xmpp_ns.h"

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcAccount)

// XEP-0237 roster versioning answered from xbnc's RosterCache: the cache is filled from the
// server's roster (fetched when upstream comes online, or a session's request relayed before
// that) and kept current by the server's pushes; sessions get its versions.

namespace xbnc {

namespace {

bool isRosterGet(const Element &stanza, const Element *&query)
{
    query = stanza.firstChild(u"query", xmlns::roster);
    return query && stanza.attribute(u"type") == u"get";
}

std::optional<QString> requestedVersion(const Element &query)
{
    if (!query.hasAttribute(u"ver"))
        return std::nullopt;
    return query.attribute(u"ver");
}

// A roster push of xbnc's own: the id names the version, unique within a session's stream.
Element rosterPushIq(const Element &query)
{
    Element iq(QStringLiteral("iq"), xmlns::client);
    iq.setAttribute(QStringLiteral("type"), QStringLiteral("set"));
    iq.setAttribute(QStringLiteral("id"), QStringLiteral("xbnc-roster-") + query.attribute(u"ver"));
    iq.addChild(query);
    return iq;
}

} // namespace

bool Account::restoreRosterCache(const Element &saved)
{
    std::optional<RosterCache> restored = RosterCache::fromElement(saved);
    if (!restored)
        return false;
    roster_ = std::move(*restored);
    return true;
}

bool Account::answerRoster(SessionId id, Session &session, const Element &stanza)
{
    const Element *query = nullptr;
    const Address to = classify(Jid(stanza.attribute(u"to")));
    if (!isRosterGet(stanza, query) || (to != Address::Server && to != Address::AccountBare))
        return false;
    if (!roster_.isFilled()) {
        if (!upstreamOnline_)
            return false; // answered as any request while upstream is away
        Element relayed = stanza;
        relayRosterRequest(id, relayed);
        return true;
    }
    // RFC 6121 §2.1.6: pushes go to the sessions that asked for the roster.
    session.rosterRequested = true;
    sendRosterAnswer(id, stanza, roster_.answer(requestedVersion(*query)));
    return true;
}

void Account::relayRosterRequest(SessionId id, Element &stanza)
{
    Session &session = sessions_.at(id);
    session.rosterRequested = true;
    // Without 'ver' the server answers with the whole roster, which fills the cache; the session
    // is then answered from the cache, in xbnc's versions.
    Element *query = stanza.firstChild(u"query", xmlns::roster);
    IqRouter::Outbound entry;
    entry.purpose = IqRouter::Purpose::RosterRelay;
    entry.session = id;
    entry.originalId = stanza.attribute(u"id");
    entry.to = stanza.attribute(u"to");
    // The client's ver, kept for answering it: 'v' marks a versioned request, since an empty
    // ver is one too (RFC 6121 §2.6.3).
    if (query->hasAttribute(u"ver"))
        entry.context = u'v' + query->attribute(u"ver");
    query->removeAttribute(u"ver");
    stanza.setAttribute(QStringLiteral("id"), iqs_.track(std::move(entry)));
    out_.toUpstream(stanza);
}

void Account::rosterRelayAnswered(const IqRouter::Outbound &request, const Element &reply)
{
    Element original(QStringLiteral("iq"), xmlns::client);
    original.setAttribute(QStringLiteral("id"), request.originalId);
    if (!request.to.isEmpty())
        original.setAttribute(QStringLiteral("to"), request.to);
    const Element *query = reply.firstChild(u"query", xmlns::roster);
    if (reply.attribute(u"type") != u"result" || !query) {
        Element relayed = reply;
        relayed.setAttribute(QStringLiteral("id"), request.originalId);
        return sendToSession(request.session, relayed);
    }
    rosterFetched(reply);
    std::optional<QString> ver;
    if (request.context.startsWith(u'v'))
        ver = request.context.mid(1);
    sendRosterAnswer(request.session, original, roster_.answer(ver));
}

void Account::rosterFetched(const Element &reply)
{
    const Element *query = reply.firstChild(u"query", xmlns::roster);
    if (reply.attribute(u"type") != u"result" || !query) {
        qCWarning(lcAccount) << "the server did not give xbnc the roster; sessions' roster "
                                "requests are relayed to it";
        return;
    }
    // What changed while xbnc was away from the server reaches the sessions holding the roster
    // as the pushes the server would have sent them.
    for (const Element &push : roster_.replace(*query))
        sendToSessions(rosterPushIq(push),
                       [](SessionId, const Session &session) { return session.rosterRequested; });
    saveRosterCache();
}

Element Account::rosterPushed(const Element &push)
{
    const Element *query = push.firstChild(u"query", xmlns::roster);
    std::optional<Element> versioned = query ? roster_.apply(*query) : std::nullopt;
    if (!versioned)
        return push;
    saveRosterCache();
    Element delivered = push;
    delivered.removeChildren(u"query", xmlns::roster);
    delivered.addChild(std::move(*versioned));
    return delivered;
}

void Account::sendRosterAnswer(SessionId id, const Element &request,
                               const RosterCache::Answer &answer)
{
    Element result = stanza::iqResult(request);
    if (answer.roster)
        result.addChild(*answer.roster);
    sendToSession(id, result);
    // RFC 6121 §2.6.3: after the empty result, each change as a push.
    for (const Element &change : answer.pushes)
        sendToSession(id, rosterPushIq(change));
}

void Account::saveRosterCache()
{
    if (roster_.isFilled())
        out_.rosterCacheChanged(roster_.toElement());
}

} // namespace xbnc
