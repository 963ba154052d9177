#include "room.h"

#include "room_status.h"
#include "stanza_error.h"
#include "xmpp_ns.h"

// Keeping the account in the room: rejoining after an upstream reconnect, XEP-0410 self-pings
// after a silence, deadlines for joins, and retries with backoff when a rejoin fails.

namespace xbnc {

namespace room {

bool isTemporary(const ErrorInfo &error)
{
    // A full room (service-unavailable, XEP-0045 §7.2.9) or one behind a broken link
    // (remote-server-*) may take the account later; a ban or a wrong password will not.
    static const QSet<QString> passing = {
        QStringLiteral("remote-server-not-found"), QStringLiteral("remote-server-timeout"),
        QStringLiteral("service-unavailable"), QStringLiteral("resource-constraint")};
    return error.type == u"wait" || passing.contains(error.condition);
}

} // namespace room

void Room::upstreamLost()
{
    pingSent_.reset();
    relisted_.reset();
    switch (phase_) {
    case Phase::Out:
    case Phase::Away:
        return;
    case Phase::Joining:
        if (!self_)
            return; // no answer yet: rejoin() sends the same join again
        setPhase(Phase::Away);
        return;
    case Phase::Joined:
    case Phase::Rejoining:
    case Phase::Retrying:
        setPhase(Phase::Away);
        return;
    case Phase::Leaving:
        // The server takes the account out of its rooms with the connection.
        leaver_.reset();
        if (!joined_.empty()) {
            setPhase(Phase::Away); // sessions joined during the leave still want the room
            return;
        }
        clear();
        out_.roomMembershipChanged(*this);
        return;
    }
}

std::optional<Element> Room::rejoin()
{
    if (nick_.isEmpty())
        return std::nullopt;
    if (phase_ == Phase::Joining)
        return startJoin(Phase::Joining); // sent while upstream was down
    if (phase_ != Phase::Away)
        return std::nullopt;
    return startJoin(Phase::Rejoining);
}

void Room::joinAsAccount(const QString &nick)
{
    if (phase_ != Phase::Out && phase_ != Phase::Retrying)
        return;
    nick_ = nick;
    out_.roomToUpstream(startJoin(Phase::Joining));
}

void Room::restore(const QString &nick, const QString &password, std::vector<RoomLog::Entry> log)
{
    nick_ = nick;
    password_ = password;
    log_.restore(std::move(log));
    setPhase(Phase::Away);
}

void Room::tick(const QDateTime &now)
{
    if (phase_ == Phase::Joining || phase_ == Phase::Rejoining) {
        if (now < phaseSince_.addSecs(timing_.joinDeadline.count()))
            return;
        const bool answered = phase_ == Phase::Joining ? self_.has_value() : !relisted_;
        if (answered) // in the room, but the subject that ends a join never came
            return completeJoin();
        qCWarning(lcRoom) << "no answer from" << jid_ << "to the account's join";
        return joinFailed(QStringLiteral("remote-server-timeout"), true, nullptr);
    }
    if (phase_ == Phase::Retrying && now >= retryAt_) {
        qCInfo(lcRoom) << "joining" << jid_ << "again, try" << retries_ + 1;
        out_.roomToUpstream(startJoin(Phase::Joining));
    }
}

std::optional<Element> Room::selfPingIfDue(const QDateTime &now)
{
    if (phase_ != Phase::Joined || pingSent_)
        return std::nullopt;
    if (now < lastHeard_.addSecs(timing_.silence.count()))
        return std::nullopt; // the room spoke lately: the account is in it
    pingSent_ = now;
    pinged_ = jid_ + u'/' + nick_;
    Element iq(QStringLiteral("iq"), xmlns::client);
    iq.setAttribute(QStringLiteral("type"), QStringLiteral("get"));
    iq.setAttribute(QStringLiteral("to"), pinged_);
    iq.addChild(Element(QStringLiteral("ping"), xmlns::ping));
    return iq;
}

void Room::selfPingAnswered(const Element &reply)
{
    // After a nick change the answer still comes from the nick that was pinged.
    if (!pingSent_ || reply.attribute(u"from") != pinged_)
        return; // not an answer to this room's ping
    pingSent_.reset();
    lastHeard_ = now_();
    if (phase_ != Phase::Joined || reply.attribute(u"type") != u"error")
        return;
    // XEP-0410 §3.2: a client that does not do pings (service-unavailable,
    // feature-not-implemented) or a nick changed meanwhile (item-not-found) means the account
    // is joined. remote-server-* decide nothing and are taken as a timeout, which rejoins.
    static const QSet<QString> joined = {QStringLiteral("service-unavailable"),
                                         QStringLiteral("feature-not-implemented"),
                                         QStringLiteral("item-not-found")};
    const room::ErrorInfo error = room::errorOf(reply);
    if (joined.contains(error.condition))
        return;
    droppedFromRoom(error.condition.isEmpty() ? QStringLiteral("an error") : error.condition);
}

void Room::selfPingTimedOut()
{
    if (!pingSent_)
        return;
    pingSent_.reset();
    if (phase_ == Phase::Joined)
        droppedFromRoom(QStringLiteral("no answer"));
}

void Room::droppedFromRoom(const QString &why)
{
    qCWarning(lcRoom) << "self-ping of" << jid_ << "answered with" << why << "; rejoining";
    out_.roomToUpstream(startJoin(Phase::Rejoining));
}

void Room::joinFailed(const QString &condition, bool temporary, const Element *roomError)
{
    const bool rejoin = phase_ == Phase::Rejoining;
    // The account's own joins are retried or remembered; a session's first join is the
    // session's business, answered and forgotten.
    const bool accountsOwn = rejoin || persistent_ || retries_ > 0;
    if (rejoin) {
        // Sessions hold a room that looks joined from the cache: they are told they are out,
        // with the code a live removal of that kind would carry (docs/ROOMS.md).
        QList<int> codes = {110};
        if (condition == u"forbidden")
            codes.append(301);
        else if (condition == u"registration-required")
            codes.append(322);
        else
            codes.append(333);
        fanOut(
            ownUnavailable(codes, QStringLiteral("Rejoining the room failed: %1").arg(condition)));
    } else if (roomError) {
        fanOut(*roomError); // to the sessions that asked, as the room sent it
    } else {
        Element asked(QStringLiteral("presence"), xmlns::client);
        asked.setAttribute(QStringLiteral("to"), jid_ + u'/' + nick_);
        fanOut(stanza::error(asked, stanza::ErrorType::Wait, condition));
    }
    if (temporary && accountsOwn) {
        forgetSessionsAndCache();
        return retryLater(condition);
    }
    if (accountsOwn)
        qCWarning(lcRoom) << "joining" << jid_ << "failed:" << condition
                          << "; not trying again until a session joins";
    else
        qCInfo(lcRoom) << "join of" << jid_ << "failed:" << condition;
    clear();
    if (accountsOwn)
        removal_ = condition;
    out_.roomMembershipChanged(*this);
}

void Room::retryLater(const QString &why)
{
    const std::chrono::milliseconds delay =
        ReconnectBackoff(timing_.retry).delayFor(retries_++, random_());
    setPhase(Phase::Retrying);
    retryAt_ = now_().addMSecs(delay.count());
    qCInfo(lcRoom) << "will join" << jid_ << "again in" << delay.count() / 1000 << "s after" << why;
}

} // namespace xbnc
