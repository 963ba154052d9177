#include "room.h"

#include "jid.h"
#include "xmpp_ns.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcRoom, "xbnc.room")

namespace xbnc {

const QString Room::mucNs = QStringLiteral("http://jabber.org/protocol/muc");
const QString Room::mucUserNs = QStringLiteral("http://jabber.org/protocol/muc#user");

namespace {

QSet<int> statusCodes(const Element &presence)
{
    QSet<int> codes;
    if (const Element *x = presence.firstChild(u"x", Room::mucUserNs))
        for (const Element &c : x->children())
            if (c.name() == u"status")
                codes.insert(c.attribute(u"code").toInt());
    return codes;
}

bool isRemoval(const Element &presence, const QSet<int> &codes)
{
    // XEP-0045 §9.2 (kick 307), §9.1 (ban 301), §9.x affiliation change (321), members-only
    // (322), system shutdown (332), technical error (333), and room destruction (§10.9).
    static const QSet<int> removal = {301, 307, 321, 322, 332, 333};
    if (codes.intersects(removal))
        return true;
    const Element *x = presence.firstChild(u"x", Room::mucUserNs);
    return x && x->firstChild(u"destroy", Room::mucUserNs);
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

} // namespace

Room::Room(QString jid, Output &output, std::function<QDateTime()> now, int logCapacity)
    : jid_(std::move(jid)), out_(output), now_(std::move(now)), log_(logCapacity)
{
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
    if (isJoin || !isJoined(session) || state_ == State::NotJoined)
        return join(session, to.resource(), std::move(presence));
    // A joined session's presence without <x/>: a nick change, or a status in the room.
    lastPresenter_ = session;
    if (!to.resource().isEmpty())
        requestedNicks_[session] = to.resource();
    out_.roomToUpstream(presence);
}

void Room::join(SessionId session, const QString &nick, Element presence)
{
    if (nick.isEmpty())
        return; // a join needs a nick; the room would answer jid-malformed to the account
    const Element *x = presence.firstChild(u"x", mucNs);
    if (x) {
        if (const Element *password = x->firstChild(u"password", mucNs))
            password_ = password->text();
    }
    requestedNicks_[session] = nick;
    lastPresenter_ = session;
    const bool resync = isJoined(session);
    joined_.insert(session);
    if (state_ == State::NotJoined && accountIn_ && self_) {
        // Upstream is away and will rejoin when it is back: answer from what is known now.
        replayTo(session, x);
        return;
    }
    if (state_ == State::NotJoined) {
        qCInfo(lcRoom) << "joining" << jid_ << "as" << nick;
        state_ = State::Joining;
        nick_ = nick;
        accountIn_ = true;
        if (!x)
            presence.addChild(Element(QStringLiteral("x"), mucNs));
        if (!password_.isEmpty() && x && !x->firstChild(u"password", mucNs))
            presence.firstChild(u"x", mucNs)
                ->addChild(Element(QStringLiteral("password"), mucNs))
                .setText(password_);
        out_.roomToUpstream(presence);
        return;
    }
    qCDebug(lcRoom) << (resync ? "resync of" : "replaying") << jid_ << "to session" << session;
    replayTo(session, x);
}

void Room::replayTo(SessionId session, const Element *mucX)
{
    // XEP-0045 §7.1 order: the others, then self, then history, then the subject.
    for (const Occupant &occupant : occupants_)
        out_.roomToSession(session, occupant.presence);
    if (!self_)
        return; // still joining upstream: the rest arrives live
    out_.roomToSession(session, selfPresenceFor(session));
    const HistoryRequest request = HistoryRequest::fromJoin(mucX);
    for (const Element &message : log_.replay(request, jid_, now_()))
        out_.roomToSession(session, message);
    if (!complete_)
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

Element Room::selfPresenceFor(SessionId session) const
{
    Element presence = *self_;
    QList<int> add = {110};
    const auto requested = requestedNicks_.find(session);
    if (requested != requestedNicks_.end() && requested->second != nick_)
        add.append(210); // XEP-0045 §7.2.9: the room (here, the account) assigned another nick
    // 201 "room created" happened once, for the first session; 210 is about this session's ask.
    setStatusCodes(presence, {201, 210}, add);
    return presence;
}

Element Room::ownUnavailable() const
{
    Element presence(QStringLiteral("presence"), xmlns::client);
    presence.setAttribute(QStringLiteral("from"), jid_ + u'/' + nick_);
    presence.setAttribute(QStringLiteral("type"), QStringLiteral("unavailable"));
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
    Element status(QStringLiteral("status"), mucUserNs);
    status.setAttribute(QStringLiteral("code"), QStringLiteral("110"));
    x.addChild(std::move(status));
    return presence;
}

void Room::leave(SessionId session, const Element &presence)
{
    if (nick_.isEmpty())
        nick_ = Jid(presence.attribute(u"to")).resource();
    const bool wasJoined = joined_.erase(session) > 0;
    requestedNicks_.erase(session);
    if (!wasJoined || !joined_.empty() || persistent_ || state_ == State::NotJoined) {
        // The account stays: only this session sees itself leave.
        out_.roomToSession(session, ownUnavailable());
        return;
    }
    qCInfo(lcRoom) << "leaving" << jid_ << "(last session left)";
    leaving_ = session;
    Element leave = presence;
    leave.setAttribute(QStringLiteral("to"), jid_ + u'/' + nick_);
    out_.roomToUpstream(leave);
}

Element Room::answerSelfPing(SessionId session, const Element &iq) const
{
    Element reply(QStringLiteral("iq"), xmlns::client);
    reply.setAttribute(QStringLiteral("id"), iq.attribute(u"id"));
    reply.setAttribute(QStringLiteral("from"), iq.attribute(u"to"));
    if (state_ != State::NotJoined && isJoined(session)) {
        reply.setAttribute(QStringLiteral("type"), QStringLiteral("result"));
        return reply;
    }
    // XEP-0410 §3.3: not-acceptable tells the client it is not an occupant and should rejoin.
    reply.setAttribute(QStringLiteral("type"), QStringLiteral("error"));
    Element &error = reply.addChild(Element(QStringLiteral("error"), xmlns::client));
    error.setAttribute(QStringLiteral("type"), QStringLiteral("cancel"));
    error.addChild(Element(QStringLiteral("not-acceptable"), xmlns::stanzas));
    return reply;
}

void Room::sessionClosed(SessionId session)
{
    // A disconnect is not a leave: the account stays in the room (DESIGN.md).
    joined_.erase(session);
    requestedNicks_.erase(session);
    if (leaving_ == session)
        leaving_.reset();
    if (lastPresenter_ == session)
        lastPresenter_.reset();
}

// ---------------------------------------------------------------- upstream

void Room::presenceFromUpstream(const Element &presence)
{
    const Jid from(presence.attribute(u"from"));
    const QString type = presence.attribute(u"type");
    if (type == u"error")
        return errorFromUpstream(presence);
    if (from.isBare()) {
        fanOut(presence);
        return;
    }
    const QSet<int> codes = statusCodes(presence);
    // Prosody marks every self-presence with 110; other servers may only use the nick.
    const bool self = codes.contains(110) || from.resource() == nick_;
    if (self)
        return selfPresenceFromUpstream(presence, codes);
    occupantPresenceFromUpstream(presence, from.resource());
}

void Room::selfPresenceFromUpstream(const Element &presence, const QSet<int> &codes)
{
    const bool unavailable = presence.attribute(u"type") == u"unavailable";
    if (!unavailable) {
        const bool changed = !self_ || self_->toXml() != presence.toXml();
        self_ = presence;
        nick_ = Jid(presence.attribute(u"from")).resource();
        const bool wasRejoin = rejoining_;
        const bool entered = state_ != State::Joined;
        if (codes.contains(201))
            complete_ = true; // a new, locked room: no history or subject until configured
        state_ = State::Joined;
        if (entered)
            out_.roomMembershipChanged(*this);
        if (wasRejoin) {
            rejoining_ = false;
            // Whoever was not introduced again left while xbnc was away.
            for (auto it = occupants_.begin(); it != occupants_.end();) {
                if (seenOnRejoin_.contains(it->nick)) {
                    ++it;
                    continue;
                }
                Element gone(QStringLiteral("presence"), xmlns::client);
                gone.setAttribute(QStringLiteral("from"), jid_ + u'/' + it->nick);
                gone.setAttribute(QStringLiteral("type"), QStringLiteral("unavailable"));
                fanOut(gone);
                it = occupants_.erase(it);
            }
            seenOnRejoin_.clear();
            if (!changed)
                return;
        }
        fanOut(presence);
        return;
    }
    if (codes.contains(303)) {
        // Nick change (XEP-0045 §7.6): the new self-presence follows.
        fanOut(presence);
        if (const Element *x = presence.firstChild(u"x", mucUserNs))
            if (const Element *item = x->firstChild(u"item", mucUserNs))
                if (item->hasAttribute(u"nick"))
                    nick_ = item->attribute(u"nick");
        return;
    }
    // Shutdown and technical errors are worth a rejoin after reconnecting; a kick, a ban, an
    // affiliation change or a destroyed room are the room's decision.
    static const QSet<int> transient = {332, 333};
    const bool rejoinLater = codes.intersects(transient);
    const bool removal = isRemoval(presence, codes);
    if (removal)
        qCInfo(lcRoom) << "removed from" << jid_ << "status" << codes.values();
    if (leaving_ && !removal && !joined_.empty()) {
        // Sessions joined while the last leave was on its way: the leave goes to its session,
        // and the account joins again for the newcomers.
        out_.roomToSession(*leaving_, presence);
        const std::set<SessionId> waiting = joined_;
        const std::map<SessionId, QString> nicks = requestedNicks_;
        clear();
        out_.roomMembershipChanged(*this);
        joined_ = waiting;
        requestedNicks_ = nicks;
        state_ = State::Joining;
        accountIn_ = true;
        out_.roomToUpstream(joinPresence(std::nullopt));
        return;
    }
    fanOut(presence);
    if (leaving_ && !joined_.count(*leaving_))
        out_.roomToSession(*leaving_, presence);
    clear();
    accountIn_ = rejoinLater;
    out_.roomMembershipChanged(*this);
}

void Room::occupantPresenceFromUpstream(const Element &presence, const QString &nick)
{
    const bool unavailable = presence.attribute(u"type") == u"unavailable";
    Occupant *known = findOccupant(nick);
    if (rejoining_) {
        seenOnRejoin_.insert(nick);
        if (!unavailable && known && known->presence.toXml() == presence.toXml())
            return; // nothing changed while xbnc was away
    }
    if (unavailable) {
        std::erase_if(occupants_, [&](const Occupant &o) { return o.nick == nick; });
    } else if (known) {
        known->presence = presence;
    } else {
        occupants_.push_back(Occupant{nick, presence});
    }
    fanOut(presence);
}

void Room::errorFromUpstream(const Element &presence)
{
    if (state_ == State::Joining && !rejoining_) {
        // A failed join goes to the sessions that asked, and the room is not joined.
        qCInfo(lcRoom) << "join of" << jid_ << "failed";
        fanOut(presence);
        clear();
        out_.roomMembershipChanged(*this);
        return;
    }
    // An error about one session's request (a nick change, a status) goes to that session.
    if (lastPresenter_ && isJoined(*lastPresenter_))
        out_.roomToSession(*lastPresenter_, presence);
    if (rejoining_) {
        qCWarning(lcRoom) << "rejoining" << jid_ << "failed";
        rejoining_ = false;
        state_ = State::NotJoined;
    }
}

void Room::groupchatFromUpstream(const Element &message)
{
    if (!accountIn_)
        return; // a straggler after leaving: not part of any join's history

    if (message.firstChild(u"subject") && !message.firstChild(u"body")) {
        const bool same = subject_ && subject_->toXml() == message.toXml();
        subject_ = message;
        complete_ = true;
        const bool endOfRejoin = rejoinSubjectPending_;
        rejoinSubjectPending_ = false;
        if (same && endOfRejoin)
            return; // the subject every join ends with; sessions have it
        fanOut(message);
        return;
    }
    if (message.firstChild(u"body")) {
        if (!log_.append(message, now_()))
            return; // the room's history repeating what sessions already have
        out_.roomMessageLogged(*this, log_.entries().back());
    }
    fanOut(message);
}

void Room::fanOut(const Element &stanza)
{
    if (!joined_.empty())
        out_.roomToSessions(joined_, stanza);
}

// ---------------------------------------------------------------- connection

void Room::upstreamLost()
{
    if (state_ == State::NotJoined)
        return;
    state_ = State::NotJoined;
}

std::optional<Element> Room::rejoin()
{
    // A join sent while upstream was down (Joining) is sent again as well.
    if (state_ == State::Joined || nick_.isEmpty() || !accountIn_)
        return std::nullopt;
    state_ = State::Joining;
    rejoining_ = true;
    rejoinSubjectPending_ = true;
    seenOnRejoin_.clear();
    return joinPresence(log_.newest());
}

void Room::joinAsAccount(const QString &nick)
{
    if (state_ != State::NotJoined)
        return;
    nick_ = nick;
    state_ = State::Joining;
    accountIn_ = true;
    out_.roomToUpstream(joinPresence(log_.newest()));
}

std::optional<Element> Room::selfPing(const QString &id) const
{
    if (state_ != State::Joined)
        return std::nullopt;
    Element iq(QStringLiteral("iq"), xmlns::client);
    iq.setAttribute(QStringLiteral("type"), QStringLiteral("get"));
    iq.setAttribute(QStringLiteral("id"), id);
    iq.setAttribute(QStringLiteral("to"), jid_ + u'/' + nick_);
    iq.addChild(Element(QStringLiteral("ping"), xmlns::ping));
    return iq;
}

bool Room::selfPingAnswered(const Element &reply)
{
    if (reply.attribute(u"type") != u"error" || state_ != State::Joined)
        return true;
    const Element *error = reply.firstChild(u"error");
    // XEP-0410 §3: these say "you are not in this room"; service-unavailable and
    // feature-not-implemented come from a joined client that does not do pings, and a remote
    // server error says nothing about the room.
    for (const char16_t *condition : {u"not-acceptable", u"item-not-found"}) {
        if (error && error->firstChild(condition, xmlns::stanzas)) {
            qCWarning(lcRoom) << "the account was dropped from" << jid_ << "; rejoining";
            state_ = State::NotJoined;
            return false;
        }
    }
    return true;
}

void Room::leaveAsAccount()
{
    if (!joined_.empty() || persistent_ || state_ == State::NotJoined)
        return;
    qCInfo(lcRoom) << "leaving" << jid_ << "(no longer bookmarked for autojoin)";
    Element leave(QStringLiteral("presence"), xmlns::client);
    leave.setAttribute(QStringLiteral("to"), jid_ + u'/' + nick_);
    leave.setAttribute(QStringLiteral("type"), QStringLiteral("unavailable"));
    out_.roomToUpstream(leave);
}

void Room::restore(const QString &nick, const QString &password, std::vector<RoomLog::Entry> log)
{
    nick_ = nick;
    password_ = password;
    accountIn_ = true;
    log_.restore(std::move(log));
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

void Room::clear()
{
    state_ = State::NotJoined;
    rejoining_ = false;
    rejoinSubjectPending_ = false;
    occupants_.clear();
    self_.reset();
    subject_.reset();
    joined_.clear();
    requestedNicks_.clear();
    leaving_.reset();
    lastPresenter_.reset();
    accountIn_ = false;
    complete_ = false;
    // The room sends its history again to the next join; a stale log would hide it.
    log_.clear();
}

Room::Occupant *Room::findOccupant(const QString &nick)
{
    for (Occupant &occupant : occupants_)
        if (occupant.nick == nick)
            return &occupant;
    return nullptr;
}

} // namespace xbnc
