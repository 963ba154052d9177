#include "account.h"

#include "xmpp_ns.h"

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcAccount)

// A session's place in the hub, saved when xbnc stops and restored when it starts again, so that
// a client resuming its stream (XEP-0198) across the restart finds everything as it left it.

namespace xbnc {

namespace {

const QString savedNs = QStringLiteral("urn:xbnc:saved-session");

QString flag(bool on)
{
    return on ? QStringLiteral("1") : QStringLiteral("0");
}

} // namespace

Element Account::saveSession(SessionId id) const
{
    const auto it = sessions_.find(id);
    if (it == sessions_.end())
        return {};
    const Session &session = it->second;
    Element saved(QStringLiteral("session"), savedNs);
    saved.setAttribute(QStringLiteral("resource"), session.resource);
    saved.setAttribute(QStringLiteral("carbons"), flag(session.carbons));
    saved.setAttribute(QStringLiteral("roster"), flag(session.rosterRequested));
    saved.setAttribute(QStringLiteral("blocklist"), flag(session.blocklistRequested));
    saved.setAttribute(QStringLiteral("inactive"), flag(session.held != nullptr));
    if (session.initialPresenceSent && presence_.has(id)) {
        Element &presence = saved.addChild(Element(QStringLiteral("presence"), savedNs));
        presence.addChild(presence_.presenceOf(id));
    }
    for (const auto &[jid, room] : rooms_) {
        if (!room->isJoined(id))
            continue;
        Element &joined = saved.addChild(Element(QStringLiteral("room"), savedNs));
        joined.setAttribute(QStringLiteral("jid"), jid);
        joined.setAttribute(QStringLiteral("nick"), room->requestedNick(id));
    }
    if (session.held && !session.held->isEmpty()) {
        Element &held = saved.addChild(Element(QStringLiteral("held"), savedNs));
        for (Element &stanza : session.held->stamped(account_.domain()))
            held.addChild(std::move(stanza));
    }
    return saved;
}

bool Account::restoreSession(SessionId id, const Element &saved)
{
    const QString resource = saved.attribute(u"resource");
    if (saved.name() != u"session" || saved.xmlns() != savedNs || resource.isEmpty() ||
        sessions_.count(id))
        return false;
    Session &session = sessions_[id];
    session.resource = resource;
    session.carbons = saved.attribute(u"carbons") == u"1";
    session.rosterRequested = saved.attribute(u"roster") == u"1";
    session.blocklistRequested = saved.attribute(u"blocklist") == u"1";
    if (saved.attribute(u"inactive") == u"1" && csiMaxHeld_ > 0) {
        session.held = std::make_unique<InactiveQueue>(csiMaxHeld_);
        ++inactiveSessions_;
    }
    for (const Element &child : saved.children()) {
        if (child.isText() || child.xmlns() != savedNs)
            continue;
        if (child.name() == u"presence" && child.firstChild(u"presence", xmlns::client)) {
            // Available as before: the account's presence upstream is this session's again.
            const Element &presence = *child.firstChild(u"presence", xmlns::client);
            session.initialPresenceSent = true;
            presence_.update(id, presence);
            // Its caps count in the account's again (asked anew: what xbnc learnt is gone).
            learnSessionCaps(id, presence);
        } else if (child.name() == u"room") {
            // A room left or lost while xbnc was down is not the session's any more.
            if (Room *room = existingRoom(Jid(child.attribute(u"jid")));
                room && room->isAccountIn())
                room->restoreSession(id, child.attribute(u"nick"));
        } else if (child.name() == u"held" && session.held) {
            // Held again as before; what no longer fits (csi_max_held shrank) goes out.
            for (const Element &stanza : child.children())
                if (!stanza.isText())
                    sendToInactive(id, session, stanza);
        }
    }
    cursors_.touch(resource, now_());
    out_.deviceCursorChanged(resource, *cursors_.find(resource));
    qCInfo(lcAccount) << "session" << id << "of resource" << resource << "restored";
    return true;
}

} // namespace xbnc
