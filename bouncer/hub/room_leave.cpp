#include "room.h"

#include "jid.h"
#include "room_status.h"
#include "xmpp_ns.h"

// Leaving: a session's explicit leave (upstream only for the last one), the room's confirmation,
// removal by the room (kick, ban, destroy…), nick changes, and sessions that disconnect.

namespace xbnc {

namespace {

// XEP-0045 §9.1 ban 301, §9.2 kick 307, affiliation change 321, members-only 322, shutdown 332,
// technical error 333, and destruction (§10.9): the room put the account out.
QString removalReason(const Element &presence, const QSet<int> &codes)
{
    const Element *x = presence.firstChild(u"x", Room::mucUserNs);
    if (x && x->firstChild(u"destroy", Room::mucUserNs))
        return QStringLiteral("destroyed");
    static const std::pair<int, const char *> reasons[] = {
        {333, "technical error"}, {332, "shutdown"},           {301, "banned"},
        {307, "kicked"},          {321, "affiliation change"}, {322, "members-only"}};
    for (const auto &[code, reason] : reasons)
        if (codes.contains(code))
            return QString::fromLatin1(reason);
    return {};
}

} // namespace

void Room::leave(SessionId session, const Element &presence)
{
    if (nick_.isEmpty())
        nick_ = Jid(presence.attribute(u"to")).resource();
    const bool wasJoined = joined_.erase(session) > 0;
    requestedNicks_.erase(session);
    const bool last = wasJoined && joined_.empty() && !persistent_;
    if (last && (phase_ == Phase::Away || phase_ == Phase::Retrying)) {
        // Not in the room upstream right now, and nobody wants it back.
        out_.roomToSession(session, ownUnavailable());
        clear();
        out_.roomMembershipChanged(*this);
        return;
    }
    const bool upstreamIn =
        phase_ == Phase::Joining || phase_ == Phase::Joined || phase_ == Phase::Rejoining;
    if (!last || !upstreamIn) {
        // The account stays: only this session sees itself leave.
        out_.roomToSession(session, ownUnavailable());
        return;
    }
    qCInfo(lcRoom) << "leaving" << jid_ << "(last session left)";
    leaver_ = session;
    setPhase(Phase::Leaving);
    Element leave = presence;
    leave.setAttribute(QStringLiteral("to"), jid_ + u'/' + nick_);
    out_.roomToUpstream(leave);
}

void Room::leaveAsAccount()
{
    if (!joined_.empty() || persistent_)
        return;
    if (phase_ == Phase::Away || phase_ == Phase::Retrying) {
        clear(); // not in the room upstream: nothing to leave, nothing to come back to
        out_.roomMembershipChanged(*this);
        return;
    }
    if (phase_ != Phase::Joined && phase_ != Phase::Joining && phase_ != Phase::Rejoining)
        return;
    qCInfo(lcRoom) << "leaving" << jid_ << "(no longer bookmarked for autojoin)";
    Element leave(QStringLiteral("presence"), xmlns::client);
    leave.setAttribute(QStringLiteral("to"), jid_ + u'/' + nick_);
    leave.setAttribute(QStringLiteral("type"), QStringLiteral("unavailable"));
    leaver_.reset();
    setPhase(Phase::Leaving);
    out_.roomToUpstream(leave);
}

void Room::sessionClosed(SessionId session)
{
    // A disconnect is not a leave: the account stays in the room (DESIGN.md).
    joined_.erase(session);
    requestedNicks_.erase(session);
    if (leaver_ == session)
        leaver_.reset();
    if (lastPresenter_ == session)
        lastPresenter_.reset();
}

void Room::restoreSession(SessionId session, const QString &requestedNick)
{
    joined_.insert(session);
    requestedNicks_[session] = requestedNick.isEmpty() ? nick_ : requestedNick;
}

QString Room::requestedNick(SessionId session) const
{
    const auto requested = requestedNicks_.find(session);
    return requested == requestedNicks_.end() ? nick_ : requested->second;
}

void Room::selfUnavailable(const Element &presence, const QSet<int> &codes)
{
    if (codes.contains(303)) {
        // Nick change (XEP-0045 §7.6): the new self-presence follows.
        fanOut(presence);
        if (const Element *x = presence.firstChild(u"x", mucUserNs))
            if (const Element *item = x->firstChild(u"item", mucUserNs))
                if (item->hasAttribute(u"nick"))
                    nick_ = item->attribute(u"nick");
        return;
    }
    const QString removal = removalReason(presence, codes);
    if (phase_ == Phase::Leaving && removal.isEmpty() && !joined_.empty()) {
        // Sessions joined while the last leave was on its way: the leave goes to its session,
        // and the account joins again for the newcomers.
        if (leaver_)
            out_.roomToSession(*leaver_, presence);
        const std::set<SessionId> waiting = joined_;
        const std::map<SessionId, QString> nicks = requestedNicks_;
        clear();
        out_.roomMembershipChanged(*this);
        joined_ = waiting;
        requestedNicks_ = nicks;
        out_.roomToUpstream(startJoin(Phase::Joining));
        return;
    }
    fanOut(presence);
    if (leaver_ && !isJoined(*leaver_))
        out_.roomToSession(*leaver_, presence);
    if ((codes.contains(332) || codes.contains(333)) && phase_ != Phase::Leaving) {
        // Shutdown and technical errors pass (XEP-0045 says to ignore a 307 next to 333).
        qCInfo(lcRoom) << "removed from" << jid_ << "by a" << removal << "; will rejoin";
        forgetSessionsAndCache();
        retryLater(removal);
        return;
    }
    if (!removal.isEmpty())
        qCWarning(lcRoom) << "removed from" << jid_ << ":" << removal
                          << "; not rejoining until a session joins";
    clear();
    removal_ = removal;
    out_.roomMembershipChanged(*this);
}

Element Room::ownUnavailable(const QList<int> &codes, const QString &status) const
{
    Element presence(QStringLiteral("presence"), xmlns::client);
    presence.setAttribute(QStringLiteral("from"), jid_ + u'/' + nick_);
    presence.setAttribute(QStringLiteral("type"), QStringLiteral("unavailable"));
    if (!status.isEmpty())
        presence.addChild(Element(QStringLiteral("status"), xmlns::client)).setText(status);
    Element &x = presence.addChild(Element(QStringLiteral("x"), mucUserNs));
    Element item(QStringLiteral("item"), mucUserNs);
    QString affiliation = QStringLiteral("none");
    if (self_)
        if (const Element *selfX = self_->firstChild(u"x", mucUserNs))
            if (const Element *selfItem = selfX->firstChild(u"item", mucUserNs))
                affiliation = selfItem->attribute(u"affiliation");
    item.setAttribute(QStringLiteral("affiliation"), affiliation);
    item.setAttribute(QStringLiteral("role"), QStringLiteral("none"));
    x.addChild(std::move(item));
    for (int code : codes) {
        Element c(QStringLiteral("status"), mucUserNs);
        c.setAttribute(QStringLiteral("code"), QString::number(code));
        x.addChild(std::move(c));
    }
    return presence;
}

} // namespace xbnc
