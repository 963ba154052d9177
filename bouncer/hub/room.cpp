#include "room.h"

#include "jid.h"
#include "room_archive.h"
#include "room_status.h"
#include "stanza_error.h"
#include "xmpp_ns.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcRoom, "xbnc.room")

// The core of a Room: what a stanza is (join, leave, traffic), the occupant cache, the fan-out
// to joined sessions, and the phase. Joins, leaves and health live in room_*.cpp.

namespace xbnc {

const QString Room::mucNs = QStringLiteral("http://jabber.org/protocol/muc");
const QString Room::mucUserNs = QStringLiteral("http://jabber.org/protocol/muc#user");

namespace room {

QSet<int> statusCodes(const Element &presence)
{
    QSet<int> codes;
    if (const Element *x = presence.firstChild(u"x", Room::mucUserNs))
        for (const Element &c : x->children())
            if (c.name() == u"status")
                codes.insert(c.attribute(u"code").toInt());
    return codes;
}

void setStatusCodes(Element &presence, const QSet<int> &remove, const QList<int> &add)
{
    Element *x = presence.firstChild(u"x", Room::mucUserNs);
    if (!x)
        x = &presence.addChild(Element(QStringLiteral("x"), Room::mucUserNs));
    auto &children = x->children();
    QSet<int> present;
    std::erase_if(children, [&](const Element &c) {
        if (c.name() != u"status")
            return false;
        const int code = c.attribute(u"code").toInt();
        if (remove.contains(code))
            return true;
        present.insert(code);
        return false;
    });
    for (int code : add) {
        if (present.contains(code))
            continue;
        Element status(QStringLiteral("status"), Room::mucUserNs);
        status.setAttribute(QStringLiteral("code"), QString::number(code));
        x->addChild(std::move(status));
    }
}

ErrorInfo errorOf(const Element &stanza)
{
    const Element *error = stanza.firstChild(u"error");
    if (!error)
        return {};
    const Element *condition = error->firstChildNs(xmlns::stanzas);
    return {error->attribute(u"type"), condition ? condition->name() : QString()};
}

} // namespace room

Room::Room(QString jid, Output &output, std::function<QDateTime()> now, int logCapacity)
    : jid_(std::move(jid)), out_(output), now_(std::move(now)), log_(logCapacity)
{
}

void Room::setArchive(Archive archive)
{
    if (archive == Archive::Log && archive_ != Archive::Log)
        log_.identifyAll(
            [this](const Element &message) { return RoomArchive::withOwnStanzaId(message, jid_); });
    archive_ = archive;
}

void Room::setPhase(Phase phase)
{
    phase_ = phase;
    phaseSince_ = now_();
}

// ---------------------------------------------------------------- sessions

void Room::presenceFromSession(SessionId session, Element presence)
{
    const Jid to(presence.attribute(u"to"));
    const QString type = presence.attribute(u"type");
    if (type == u"unavailable")
        return leave(session, presence);
    if (!type.isEmpty()) {
        out_.roomToUpstream(presence); // subscription-type presences are the room's business
        return;
    }
    const bool isJoin = presence.firstChild(u"x", mucNs) != nullptr;
    const bool upstreamIn =
        phase_ != Phase::Out && phase_ != Phase::Away && phase_ != Phase::Retrying;
    if (isJoin || !isJoined(session) || !upstreamIn)
        return join(session, to.resource(), std::move(presence));
    // A joined session's presence without <x/>: a nick change, or a status in the room.
    lastPresenter_ = session;
    if (!to.resource().isEmpty())
        requestedNicks_[session] = to.resource();
    out_.roomToUpstream(presence);
}

void Room::groupchatFromSession(SessionId session, const Element &message)
{
    // The room would refuse it too (XEP-0045 §7.4), but as the account, which is in the room:
    // the message would reach the room on behalf of a session that never joined it.
    if (!isJoined(session))
        return out_.roomToSession(session, stanza::error(message, stanza::ErrorType::Modify,
                                                         QStringLiteral("not-acceptable")));
    out_.roomToUpstream(message);
}

Element Room::answerSelfPing(SessionId session, const Element &iq) const
{
    const bool upstreamIn = phase_ == Phase::Joining || phase_ == Phase::Joined ||
                            phase_ == Phase::Rejoining || phase_ == Phase::Leaving;
    if (upstreamIn && isJoined(session))
        return stanza::iqResult(iq);
    // XEP-0410 §3.2: not-acceptable tells the client it is not an occupant and should rejoin.
    return stanza::error(iq, stanza::ErrorType::Cancel, QStringLiteral("not-acceptable"));
}

// ---------------------------------------------------------------- upstream

void Room::presenceFromUpstream(const Element &presence)
{
    lastHeard_ = now_();
    const Jid from(presence.attribute(u"from"));
    const QString type = presence.attribute(u"type");
    if (type == u"error")
        return errorFromUpstream(presence);
    if (from.isBare()) {
        fanOut(presence);
        return;
    }
    const QSet<int> codes = room::statusCodes(presence);
    // Prosody marks every self-presence with 110; other servers may only use the nick.
    const bool self = codes.contains(110) || from.resource() == nick_;
    if (self)
        return selfPresenceFromUpstream(presence, codes);
    occupantPresenceFromUpstream(presence, from.resource());
}

void Room::occupantPresenceFromUpstream(const Element &presence, const QString &nick)
{
    const bool unavailable = presence.attribute(u"type") == u"unavailable";
    if (relisted_) {
        relisted_->insert(nick);
        const RoomOccupants::Occupant *known = occupants_.find(nick);
        if (!unavailable && known && known->presence == RoomOccupants::serialized(presence))
            return; // nothing changed while xbnc was away
    }
    if (unavailable)
        occupants_.remove(nick);
    else
        occupants_.set(nick, presence);
    fanOut(presence);
}

void Room::groupchatFromUpstream(const Element &message)
{
    if (phase_ == Phase::Out || phase_ == Phase::Retrying || phase_ == Phase::Away)
        return; // a straggler after leaving: not part of any join's history
    lastHeard_ = now_();
    if (message.firstChild(u"subject") && !message.firstChild(u"body")) {
        const bool same = subject_ && subject_->toXml() == message.toXml();
        const bool endsRejoin = phase_ == Phase::Rejoining;
        const bool endsJoin = phase_ == Phase::Joining || phase_ == Phase::Rejoining;
        subject_ = message;
        // The sessions get the subject before the join's end is announced (Output).
        if (!same || !endsRejoin) // else the subject every join ends with; sessions have it
            fanOut(message);
        if (endsJoin)
            completeJoin(); // the subject ends a join (XEP-0045 §7.2.15)
        return;
    }
    if (!message.firstChild(u"body"))
        return fanOut(message);
    // Without a room archive xbnc is the archive: its stanza-id goes into the log, the live
    // copy and every later replay or MAM result alike.
    const Element stamped =
        archive_ == Archive::Log ? RoomArchive::withOwnStanzaId(message, jid_) : Element();
    const Element &logged = stamped.isNull() ? message : stamped;
    if (log_.append(logged, now_()))
        out_.roomMessageLogged(*this, log_.entries().back());
    else if (phase_ != Phase::Joining)
        return; // the room's history repeating what sessions already have
    fanOut(logged);
}

void Room::fanOut(const Element &stanza)
{
    if (!joined_.empty())
        out_.roomToSessions(joined_, stanza);
}

void Room::forgetSessionsAndCache()
{
    occupants_.clear();
    self_.reset();
    subject_.reset();
    joined_.clear();
    requestedNicks_.clear();
    leaver_.reset();
    lastPresenter_.reset();
    relisted_.reset();
    pingSent_.reset();
}

void Room::clear()
{
    forgetSessionsAndCache();
    setPhase(Phase::Out);
    retries_ = 0;
    // The room sends its history again to the next join; a stale log would hide it.
    log_.clear();
}

} // namespace xbnc
