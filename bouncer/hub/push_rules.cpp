#include "push_rules.h"

#include "offline_messages.h"
#include "xmpp_ns.h"

namespace xbnc {

namespace push {

namespace {

// A groupchat message from someone else that names the nick somewhere in its body (as clients
// highlight mentions: a substring, case folded).
bool mentions(const Element &message, const QString &nick)
{
    // A delayed one is history the room replays on a (re)join: old news.
    if (nick.isEmpty() || message.firstChild(u"subject", xmlns::client) ||
        message.firstChild(u"delay", xmlns::delay))
        return false;
    if (Jid(message.attribute(u"from")).resource() == nick)
        return false; // the account's own message, reflected by the room
    const Element *body = message.firstChild(u"body", xmlns::client);
    return body && body->text().contains(nick, Qt::CaseInsensitive);
}

} // namespace

bool matters(const Element &message, const Jid &account, const QString &roomNick)
{
    if (message.attribute(u"type") == u"groupchat")
        return mentions(message, roomNick);
    if (!OfflineMessages::worthKeeping(message, account))
        return false;
    const Element *body = message.firstChild(u"body", xmlns::client);
    return (body && !body->text().isEmpty()) || OfflineMessages::isEncrypted(message);
}

} // namespace push

bool PushBursts::admit(const QString &device, const QDateTime &now)
{
    const auto it = lastMessage_.find(device);
    const bool push = it == lastMessage_.end() || it->second.secsTo(now) >= qint64(quiet_.count());
    lastMessage_[device] = now;
    return push;
}

} // namespace xbnc
