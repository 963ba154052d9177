#include "push_rules.h"

#include "offline_messages.h"
#include "xmpp_ns.h"

namespace xbnc {

namespace xep0357 {

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

bool viaServer(PushSettings::Route route, const Element &form, bool serverHasPush)
{
    if (route != PushSettings::Route::Auto)
        return route == PushSettings::Route::Server;
    // Conversations' and Cheogram's app server checks `secret` and accepts a publish only from
    // the account's domain; fpush (Monal) and Tigase's (Siskin) send no `secret`.
    if (!serverHasPush || form.isNull())
        return false;
    for (const Element &field : form.children())
        if (field.name() == u"field" && field.attribute(u"var") == u"secret")
            return true;
    return false;
}

} // namespace xep0357

bool PushBursts::admit(const QString &device, const QDateTime &now)
{
    const auto it = lastMessage_.find(device);
    const bool push = it == lastMessage_.end() || it->second.secsTo(now) >= qint64(quiet_.count());
    lastMessage_[device] = now;
    return push;
}

} // namespace xbnc
