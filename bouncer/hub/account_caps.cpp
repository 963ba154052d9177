#include "account.h"

#include "stanza_error.h"
#include "xmpp_ns.h"

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcAccount)

// The account's XEP-0115 caps upstream (OwnCaps): learning the sessions' features by asking them
// disco#info, showing the result in the aggregate presence, and answering node#ver requests.

namespace xbnc {

void Account::learnSessionCaps(SessionId id, const Element &presence)
{
    const std::optional<QString> nodeVer = ownCaps_.sessionPresence(id, presence);
    if (!nodeVer)
        return;
    // Asked as the server's PEP service asks (from the bare JID), which every client answers.
    Element iq(QStringLiteral("iq"), xmlns::client);
    iq.setAttribute(QStringLiteral("type"), QStringLiteral("get"));
    iq.setAttribute(QStringLiteral("from"), account_.toString());
    iq.setAttribute(QStringLiteral("id"), iqs_.trackToSession(id, IqRouter::Purpose::SessionCaps,
                                                              nodeVer->section(u'#', -1)));
    Element query(QStringLiteral("query"), xmlns::discoInfo);
    query.setAttribute(QStringLiteral("node"), *nodeVer);
    iq.addChild(std::move(query));
    sendToSession(id, std::move(iq));
}

void Account::sessionCapsAnswered(const IqRouter::Inbound &request, const Element &reply)
{
    const Element *query = reply.firstChild(u"query", xmlns::discoInfo);
    if (reply.attribute(u"type") != u"result" || !query)
        return;
    if (ownCaps_.answered(request.context, *query))
        sendAggregatePresence();
}

std::optional<Element> Account::ownCapsReply(const Element &request) const
{
    const Element *query = request.firstChild(u"query", xmlns::discoInfo);
    if (!query || request.attribute(u"type") != u"get" ||
        !query->attribute(u"node").startsWith(OwnCaps::node + u'#'))
        return std::nullopt;
    // Only the current caps and a few before them are known; an older ver names nothing now.
    const std::optional<Element> info = ownCaps_.discoInfo(query->attribute(u"node"));
    if (!info)
        return stanza::error(request, stanza::ErrorType::Cancel, QStringLiteral("item-not-found"));
    Element reply = stanza::iqResult(request);
    reply.addChild(*info);
    return reply;
}

bool Account::answerOwnCaps(const Element &request)
{
    std::optional<Element> reply = ownCapsReply(request);
    if (!reply)
        return false;
    reply->removeAttribute(u"from"); // the server stamps it
    out_.toUpstream(*reply);
    return true;
}

// ---------------------------------------------------------------- the server's caps

void Account::serverInfoFetched(const Element &reply)
{
    const Element *query = reply.firstChild(u"query", xmlns::discoInfo);
    if (reply.attribute(u"type") != u"result" || !query) {
        qCWarning(lcAccount) << "the server did not answer xbnc's disco#info: sessions are shown "
                                "no server caps";
        return;
    }
    Element merged = *query;
    ServerCaps::addFeatures(merged, ownFeatures());
    if (!serverCaps_.learn(merged))
        qCWarning(lcAccount) << "the server's disco#info names no caps (XEP-0115 §5.4): "
                                "sessions are shown no server caps";
}

bool Account::answerServerCaps(SessionId id, const Element &stanza)
{
    const Element *query = stanza.firstChild(u"query", xmlns::discoInfo);
    if (!query || stanza.attribute(u"type") != u"get" ||
        !ServerCaps::isOwnNode(query->attribute(u"node")) ||
        classify(Jid(stanza.attribute(u"to"))) != Address::Server)
        return false;
    // The node#ver a session read in the stream features: the same info as the domain's answer.
    std::optional<Element> info = serverCaps_.discoInfo(query->attribute(u"node"));
    if (!info) {
        replyError(id, stanza, QStringLiteral("item-not-found"));
        return true;
    }
    Element reply = stanza::iqResult(stanza);
    reply.addChild(std::move(*info));
    sendToSession(id, reply);
    return true;
}

Element Account::aggregatePresence()
{
    Element presence = presence_.current();
    // The leading session's caps describe that client alone; the server and contacts must see
    // what the account as a whole can do.
    presence.removeChildren(u"c", caps::ns);
    presence.addChild(ownCaps_.advertise(presence_.leader()));
    return presence;
}

} // namespace xbnc
