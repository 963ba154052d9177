#include "inactive_queue.h"

#include "xmpp_ns.h"

namespace xbnc {

namespace {

const QString mucUserNs = QStringLiteral("http://jabber.org/protocol/muc#user");

// A payload whose meaning xbnc cannot read, or a call ringing: the user wants to know now.
bool carriesUrgentPayload(const Element &message)
{
    for (const Element &child : message.children()) {
        const QString &ns = child.xmlns();
        if (child.name() == u"encrypted" &&
            (ns == u"eu.siacs.conversations.axolotl" || ns == u"urn:xmpp:omemo:2"))
            return true;
        if ((child.name() == u"openpgp" && ns == u"urn:xmpp:openpgp:0") ||
            (child.name() == u"encryption" && ns == u"urn:xmpp:eme:0") ||
            (child.name() == u"x" && ns == u"jabber:x:encrypted"))
            return true;
        // XEP-0353 Jingle Message Initiation: a call that would ring out before the phone woke.
        if (ns == u"urn:xmpp:jingle-message:0" || ns == u"urn:xmpp:jingle-message:1")
            return true;
        // XEP-0249 direct and XEP-0045 §7.8.2 mediated invitations.
        if (child.name() == u"x" && ns == u"jabber:x:conference")
            return true;
        if (child.name() == u"x" && ns == mucUserNs && child.firstChild(u"invite"))
            return true;
    }
    return false;
}

bool isImportantMessage(const Element &message)
{
    if (message.attribute(u"type") == u"error")
        return true; // something the session sent did not arrive
    // The client asked for archive results; its query ends with an IQ that would flush anyway.
    for (const Element &child : message.children())
        if (child.name() == u"result" && child.xmlns().startsWith(u"urn:xmpp:mam:"))
            return true;
    // A carbon is judged by what it carries: the laptop's typing notification can wait, the
    // message it wrote cannot (the phone clears its notification).
    const Element *judged = &message;
    const Element *carbon = message.firstChild(u"received", xmlns::carbons);
    if (!carbon)
        carbon = message.firstChild(u"sent", xmlns::carbons);
    if (carbon)
        if (const Element *forwarded = carbon->firstChild(u"forwarded", xmlns::forward))
            if (const Element *inner = forwarded->firstChild(u"message"))
                judged = inner;
    // A room's subject ends a join and names a change of topic.
    return judged->firstChild(u"body") || judged->firstChild(u"subject") ||
           carriesUrgentPayload(*judged);
}

bool isImportantPresence(const Element &presence)
{
    const QString type = presence.attribute(u"type");
    // Subscriptions wait for the user's answer; an error answers what the session did (a join).
    if (!type.isEmpty() && type != u"unavailable")
        return true;
    const Element *x = presence.firstChild(u"x", mucUserNs);
    if (!x)
        return false;
    // Status 110 marks the account's own presence in a room: joined, kicked, banned, renamed.
    for (const Element &child : x->children())
        if ((child.name() == u"status" && child.attribute(u"code") == u"110") ||
            child.name() == u"destroy")
            return true;
    return false;
}

// The presence a later one from the same sender replaces: available or unavailable, whose
// latest state is all a client shows.
QString collapseKeyOf(const Element &stanza)
{
    if (stanza.name() != u"presence" || !stanza.hasAttribute(u"from"))
        return {};
    return stanza.attribute(u"from");
}

} // namespace

bool InactiveQueue::isImportant(const Element &stanza)
{
    if (stanza.name() == u"message")
        return isImportantMessage(stanza);
    if (stanza.name() == u"presence")
        return isImportantPresence(stanza);
    return true; // IQs and anything unknown
}

bool InactiveQueue::hold(const Element &stanza, const QDateTime &now)
{
    if (isImportant(stanza))
        return false;
    const QString key = collapseKeyOf(stanza);
    const auto earlier =
        key.isEmpty() ? latestPresenceOf_.cend() : latestPresenceOf_.constFind(key);
    const bool replaces = earlier != latestPresenceOf_.cend();
    if (!replaces && size() >= capacity_)
        return false;
    // The latest presence goes where it arrived, behind what came between: a client that
    // replays the queue sees the states in an order that happened.
    if (replaces)
        held_.erase(*earlier);
    const quint64 seq = nextSeq_++;
    if (!key.isEmpty())
        latestPresenceOf_.insert(key, seq);
    held_.emplace(seq, Held{stanza, now.toUTC()});
    return true;
}

std::vector<Element> InactiveQueue::stamped(const QString &domain) const
{
    std::vector<Element> all;
    all.reserve(held_.size());
    for (const auto &[seq, held] : held_) {
        Element stanza = held.stanza;
        // An earlier delay (a room's history, the sender's server) is the truer time.
        if (!stanza.firstChild(u"delay", xmlns::delay)) {
            Element delay(QStringLiteral("delay"), xmlns::delay);
            delay.setAttribute(QStringLiteral("from"), domain);
            delay.setAttribute(QStringLiteral("stamp"), held.received.toString(Qt::ISODateWithMs));
            stanza.addChild(std::move(delay));
        }
        all.push_back(std::move(stanza));
    }
    return all;
}

std::vector<Element> InactiveQueue::takeAll(const QString &domain)
{
    std::vector<Element> all = stamped(domain);
    held_.clear();
    latestPresenceOf_.clear();
    return all;
}

} // namespace xbnc
