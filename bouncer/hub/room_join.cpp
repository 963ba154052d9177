#include "room.h"

#include "jid.h"
#include "room_status.h"
#include "xmpp_ns.h"

// Joins: a session's join (upstream when the account is not in the room, else a replay from the
// cache), the room's answer to the account's join, and how a join ends or fails.

namespace xbnc {

void Room::join(SessionId session, const QString &nick, Element presence)
{
    if (nick.isEmpty())
        return; // a join needs a nick; the room would answer jid-malformed to the account
    const Element *x = presence.firstChild(u"x", mucNs);
    if (x) {
        if (const Element *password = x->firstChild(u"password", mucNs))
            password_ = password->text();
    }
    removal_.clear(); // someone wants the account in the room again
    requestedNicks_[session] = nick;
    lastPresenter_ = session;
    const bool resync = isJoined(session);
    joined_.insert(session);
    if (phase_ == Phase::Away) {
        // Upstream is away and the account rejoins when it is back: answer from what is known.
        if (self_)
            replayTo(session, x);
        return;
    }
    if (phase_ == Phase::Out || phase_ == Phase::Retrying) {
        qCInfo(lcRoom) << "joining" << jid_ << "as" << nick;
        nick_ = nick;
        if (!x)
            presence.addChild(Element(QStringLiteral("x"), mucNs));
        if (!password_.isEmpty() && x && !x->firstChild(u"password", mucNs))
            presence.firstChild(u"x", mucNs)
                ->addChild(Element(QStringLiteral("password"), mucNs))
                .setText(password_);
        setPhase(Phase::Joining);
        out_.roomToUpstream(presence);
        return;
    }
    qCDebug(lcRoom) << (resync ? "resync of" : "replaying") << jid_ << "to session" << session;
    replayTo(session, x);
}

void Room::replayTo(SessionId session, const Element *mucX)
{
    // XEP-0045 §7.1 order: the others, then self, then history, then the subject.
    replayOccupantsTo(session);
    if (!self_)
        return; // still joining upstream: the rest arrives live
    out_.roomToSession(session, selfPresenceFor(session));
    const HistoryRequest request = HistoryRequest::fromJoin(mucX);
    for (const Element &message : log_.replay(request, jid_, now_()))
        out_.roomToSession(session, message);
    if (phase_ == Phase::Joining)
        return; // the subject ends the join; it will come live
    if (subject_) {
        out_.roomToSession(session, *subject_);
    } else {
        Element subject(QStringLiteral("message"), xmlns::client);
        subject.setAttribute(QStringLiteral("from"), jid_);
        subject.setAttribute(QStringLiteral("type"), QStringLiteral("groupchat"));
        subject.addChild(Element(QStringLiteral("subject"), xmlns::client));
        out_.roomToSession(session, subject);
    }
}

void Room::replayOccupantsTo(SessionId session)
{
    QList<QByteArray> addressed;
    addressed.reserve(occupants_.size());
    for (const RoomOccupants::Occupant &occupant : occupants_) {
        if (occupant.addressed) {
            addressed.append(occupant.presence); // shared, not copied
            continue;
        }
        // Without a 'to' the receiver addresses it, as it does a live presence.
        if (!addressed.isEmpty())
            out_.roomToSessionSerialized(session, std::exchange(addressed, {}));
        out_.roomToSession(session, Element::fromXml(occupant.presence));
    }
    if (!addressed.isEmpty())
        out_.roomToSessionSerialized(session, addressed);
}

Element Room::selfPresenceFor(SessionId session) const
{
    Element presence = *self_;
    QList<int> add = {110};
    const auto requested = requestedNicks_.find(session);
    if (requested != requestedNicks_.end() && requested->second != nick_)
        add.append(210); // XEP-0045 §7.2.9: the room (here, the account) assigned another nick
    // 201 "room created" happened once, for the first session; 210 is about this session's ask.
    room::setStatusCodes(presence, {201, 210}, add);
    return presence;
}

void Room::selfPresenceFromUpstream(const Element &presence, const QSet<int> &codes)
{
    if (presence.attribute(u"type") == u"unavailable")
        return selfUnavailable(presence, codes);
    selfAvailable(presence, codes);
}

void Room::selfAvailable(const Element &presence, const QSet<int> &codes)
{
    const bool changed = !self_ || self_->toXml() != presence.toXml();
    const QString asked = nick_; // the nick the join upstream asked for
    const Phase was = phase_;
    self_ = presence;
    nick_ = Jid(presence.attribute(u"from")).resource();
    if (was == Phase::Joining || was == Phase::Rejoining)
        out_.roomMembershipChanged(*this);
    if (relisted_) {
        // Whoever was not introduced again left while xbnc was away.
        occupants_.removeIf(
            [this](const RoomOccupants::Occupant &o) { return !relisted_->contains(o.nick); },
            [this](const RoomOccupants::Occupant &o) {
                Element gone(QStringLiteral("presence"), xmlns::client);
                gone.setAttribute(QStringLiteral("from"), jid_ + u'/' + o.nick);
                gone.setAttribute(QStringLiteral("type"), QStringLiteral("unavailable"));
                fanOut(gone);
            });
        relisted_.reset();
    }
    if (was == Phase::Rejoining && !changed)
        return;
    if (was != Phase::Joining)
        return fanOut(presence);
    // The room answered the nick that went upstream; sessions that joined meanwhile with
    // another nick get their self-presence as a replay would give it (210, no 201).
    std::set<SessionId> asAnswered;
    for (SessionId session : joined_) {
        const auto requested = requestedNicks_.find(session);
        if (requested == requestedNicks_.end() || requested->second == asked)
            asAnswered.insert(session);
        else
            out_.roomToSession(session, selfPresenceFor(session));
    }
    if (!asAnswered.empty())
        out_.roomToSessions(asAnswered, presence);
    if (codes.contains(201))
        completeJoin(); // a new, locked room: no history or subject until configured
}

void Room::errorFromUpstream(const Element &presence)
{
    const bool awaitingSelf =
        (phase_ == Phase::Joining && !self_) || (phase_ == Phase::Rejoining && relisted_);
    if (awaitingSelf) {
        const room::ErrorInfo error = room::errorOf(presence);
        const QString condition =
            error.condition.isEmpty() ? QStringLiteral("undefined-condition") : error.condition;
        return joinFailed(condition, room::isTemporary(error), &presence);
    }
    // An error about one session's request (a nick change, a status) goes to that session.
    if (lastPresenter_ && isJoined(*lastPresenter_))
        out_.roomToSession(*lastPresenter_, presence);
}

void Room::completeJoin()
{
    setPhase(Phase::Joined);
    retries_ = 0;
    relisted_.reset();
    out_.roomJoinCompleted(*this);
}

Element Room::startJoin(Phase phase)
{
    setPhase(phase);
    if (phase == Phase::Rejoining)
        relisted_.emplace();
    pingSent_.reset();
    // XEP-0045 §7.2.14 'since' on the room's own clock (docs/ROOMS.md "Health").
    std::optional<QDateTime> since = log_.newestRoomStamp();
    if (!since)
        since = log_.newest();
    return joinPresence(since);
}

Element Room::joinPresence(const std::optional<QDateTime> &historySince) const
{
    Element presence(QStringLiteral("presence"), xmlns::client);
    presence.setAttribute(QStringLiteral("to"), jid_ + u'/' + nick_);
    Element &x = presence.addChild(Element(QStringLiteral("x"), mucNs));
    Element history(QStringLiteral("history"), mucNs);
    if (historySince)
        history.setAttribute(QStringLiteral("since"),
                             historySince->toUTC().toString(Qt::ISODateWithMs));
    else
        history.setAttribute(QStringLiteral("maxstanzas"), QStringLiteral("20"));
    x.addChild(std::move(history));
    if (!password_.isEmpty())
        x.addChild(Element(QStringLiteral("password"), mucNs)).setText(password_);
    return presence;
}

} // namespace xbnc
