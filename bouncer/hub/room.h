#pragma once

#include "element.h"
#include "reconnect_backoff.h"
#include "room_log.h"
#include "room_occupants.h"
#include "session_id.h"

#include <QDateTime>
#include <QSet>
#include <QString>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace xbnc {

// The account's state in one MUC room, and the rules of sharing it among sessions
// (docs/ROOMS.md): the account joins once upstream; each session that joins gets the join
// replayed from this state; room traffic goes to the sessions that joined. Pure: stanzas in,
// stanzas out through Output, time from the clock it is given; no sockets, no timers.
//
// The concerns live in separate files joined at the seams named below: room.cpp (core and
// traffic), room_join.cpp (joins, replays, the room's answer), room_leave.cpp (leaving, removal,
// nick changes), room_health.cpp (self-ping, rejoin, deadlines, backoff).
class Room
{
public:
    // Where the account stands with the room upstream (docs/ROOMS.md "Phases").
    enum class Phase
    {
        Out,       // not in the room and not meaning to be
        Joining,   // a join is on its way; the room's answer streams live to joined sessions
        Joined,    // the join ended (subject received, or a new locked room)
        Away,      // meant to be in the room while upstream is offline: rejoined when it is back
        Rejoining, // a join after an interruption; sessions keep the cached room, see changes
        Retrying,  // a rejoin failed for a reason that may pass; the next one is due at retryAt
        Leaving,   // the last session's leave is on its way upstream
    };

    // Who keeps the room's messages for XEP-0313 (docs/ROOMS.md "Room archive"), as the
    // room's disco#info tells: until it is known, queries go to the room.
    enum class Archive
    {
        Unknown,
        Room, // the room has MAM: queries go to it, its stanza-ids pass unchanged
        Log,  // the room has none: xbnc stamps its own stanza-ids and answers from the RoomLog
    };

    struct Timing
    {
        // XEP-0410 §3.2 suggests a self-ping after about 15 minutes of silence from the room.
        std::chrono::seconds silence{15 * 60};
        // A join the room has not completed by then failed (no answer counts as a timeout).
        std::chrono::seconds joinDeadline{60};
        ReconnectPolicy retry{.base = std::chrono::seconds(30), .cap = std::chrono::minutes(15)};
    };

    class Output
    {
    public:
        virtual ~Output() = default;
        virtual void roomToUpstream(const Element &stanza) = 0;
        // 'to' is the upstream address as the room sent it; the receiver rewrites it.
        virtual void roomToSession(SessionId session, const Element &stanza) = 0;
        // Occupants' presences from the cache, in order, each as Element::toXml() wrote it,
        // 'to' included: the receiver sends the bytes on at once rather than tree by tree
        // (RoomOccupants). Parsed back here for a receiver that wants trees.
        virtual void roomToSessionSerialized(SessionId session, const QList<QByteArray> &stanzas)
        {
            for (const QByteArray &stanza : stanzas)
                roomToSession(session, Element::fromXml(stanza));
        }
        // The same stanza to several sessions (fan-out: the receiver shares the work).
        virtual void roomToSessions(const std::set<SessionId> &sessions, const Element &stanza) = 0;
        // For persistence: the account entered or left the room; a message was logged.
        virtual void roomMembershipChanged(const Room &) {}
        virtual void roomMessageLogged(const Room &, const RoomLog::Entry &) {}
        // The account's join (a first join, or a rejoin) ended: the account is in the room.
        virtual void roomJoinCompleted(const Room &) {}
    };

    Room(QString jid, Output &output, std::function<QDateTime()> now, int logCapacity = 1000);

    const QString &jid() const { return jid_; }
    Phase phase() const { return phase_; }
    const QString &nick() const { return nick_; }
    const QString &password() const { return password_; }
    bool isJoined(SessionId session) const { return joined_.count(session) > 0; }
    const std::set<SessionId> &joinedSessions() const { return joined_; }
    bool isPersistent() const { return persistent_; }
    void setPersistent(bool persistent) { persistent_ = persistent; }
    void setPassword(const QString &password) { password_ = password; }
    void setTiming(const Timing &timing) { timing_ = timing; }
    const Timing &timing() const { return timing_; }
    // Uniform in [0, 1): spreads the retries of many rooms (ReconnectBackoff's jitter).
    void setRandom(std::function<double()> random) { random_ = std::move(random); }
    RoomLog &log() { return log_; }
    Archive archive() const { return archive_; }
    // Entering Log gives the messages already logged without a stanza-id one of xbnc's.
    void setArchive(Archive archive);
    const RoomLog &log() const { return log_; }
    // The account is in the room upstream, or will be again by itself (persisted).
    bool isAccountIn() const { return phase_ != Phase::Out; }
    // Why the room removed the account (kick, ban, destroy, a final rejoin error); empty when
    // it did not. Autojoin does not bring the account back until a session joins or the
    // bookmark changes.
    const QString &removal() const { return removal_; }
    void forgetRemoval() { removal_.clear(); }
    // A removal remembered from before a restart.
    void restoreRemoval(const QString &removal) { removal_ = removal; }

    // --- from sessions (room_join.cpp, room_leave.cpp) ---
    // Presence addressed to this room or one of its occupants ('from' already removed).
    void presenceFromSession(SessionId session, Element presence);
    // A type='groupchat' message to the room: upstream, or not-acceptable when the session is
    // not in the room (XEP-0045 §7.4).
    void groupchatFromSession(SessionId session, const Element &message);
    // XEP-0410 self-ping to the account's occupant JID: the answer (result or error).
    Element answerSelfPing(SessionId session, const Element &iq) const;
    void sessionClosed(SessionId session);
    // A session that was in the room when xbnc stopped, restored with the nick it asked for:
    // it shares the account's rejoin as any joined session does.
    void restoreSession(SessionId session, const QString &requestedNick);
    // The nick `session` asked for when it joined (the account's nick if it asked for none).
    QString requestedNick(SessionId session) const;

    // --- from upstream (room.cpp) ---
    void presenceFromUpstream(const Element &presence);
    void groupchatFromUpstream(const Element &message);

    // --- upstream connection and the account's own joins (room_health.cpp) ---
    // The connection dropped: the room must be joined again, sessions stay joined.
    void upstreamLost();
    // After a reconnect: the join to send (history since the room's newest stamp), or nothing
    // when the account is not meant to be in the room.
    std::optional<Element> rejoin();
    // Join the room with no session asking (an autojoin bookmark).
    void joinAsAccount(const QString &nick);
    // Leave upstream if no session is in the room (an autojoin bookmark was removed).
    void leaveAsAccount();
    // A room the account was in before xbnc restarted: rejoined when upstream comes online.
    void restore(const QString &nick, const QString &password, std::vector<RoomLog::Entry> log);
    // Deadlines: a join not completed in time fails, a due retry is sent. Called on a timer.
    void tick(const QDateTime &now);

    // --- XEP-0410 self-ping by the account (room_health.cpp) ---
    // The ping to send after `timing().silence` without a stanza from the room, without an id
    // (the caller tracks it in IqRouter, with its deadline); nothing while one is outstanding
    // or the room is not joined.
    std::optional<Element> selfPingIfDue(const QDateTime &now);
    std::optional<QDateTime> selfPingSentAt() const { return pingSent_; }
    // The room's answer, read as XEP-0410 §3.2 lists them; "not joined" rejoins.
    void selfPingAnswered(const Element &reply);
    // No answer: the room is unreachable or dropped the account; rejoin (docs/ROOMS.md).
    void selfPingTimedOut();

    static const QString mucNs;
    static const QString mucUserNs;

private:
    // room_join.cpp
    void join(SessionId session, const QString &nick, Element presence);
    void replayTo(SessionId session, const Element *mucX);
    void replayOccupantsTo(SessionId session);
    Element selfPresenceFor(SessionId session) const;
    void selfPresenceFromUpstream(const Element &presence, const QSet<int> &codes);
    void selfAvailable(const Element &presence, const QSet<int> &codes);
    void occupantPresenceFromUpstream(const Element &presence, const QString &nick);
    void errorFromUpstream(const Element &presence);
    void completeJoin();
    Element joinPresence(const std::optional<QDateTime> &historySince) const;
    // Enters `phase` (Joining or Rejoining) and makes the join to send.
    Element startJoin(Phase phase);
    // room_leave.cpp
    void leave(SessionId session, const Element &presence);
    void selfUnavailable(const Element &presence, const QSet<int> &codes);
    Element ownUnavailable(const QList<int> &codes = {110}, const QString &status = {}) const;
    // room_health.cpp
    void joinFailed(const QString &condition, bool temporary, const Element *roomError);
    void retryLater(const QString &why);
    void droppedFromRoom(const QString &why);
    // room.cpp
    void setPhase(Phase phase);
    void fanOut(const Element &stanza);
    void forgetSessionsAndCache();
    void clear();

    QString jid_;
    Output &out_;
    std::function<QDateTime()> now_;
    std::function<double()> random_ = [] { return 0.5; };
    Timing timing_;
    Phase phase_ = Phase::Out;
    QDateTime phaseSince_;
    QString nick_;
    QString password_;
    bool persistent_ = false;
    RoomOccupants occupants_;
    std::optional<Element> self_;
    std::optional<Element> subject_;
    RoomLog log_;
    Archive archive_ = Archive::Unknown;
    std::set<SessionId> joined_;
    std::map<SessionId, QString> requestedNicks_;
    std::optional<SessionId> leaver_;        // Leaving: whose explicit leave went upstream
    std::optional<SessionId> lastPresenter_; // who sent the room the last presence
    // Rejoining, until the self-presence: the occupants the room listed again; whoever it did
    // not list left while xbnc was away.
    std::optional<QSet<QString>> relisted_;
    QDateTime lastHeard_; // the newest stanza from the room, for the silence before a self-ping
    std::optional<QDateTime> pingSent_;
    QString pinged_;  // the occupant JID the outstanding ping went to, the only one to answer
    int retries_ = 0; // failed rejoins in a row, for the backoff
    QDateTime retryAt_;
    QString removal_;
};

} // namespace xbnc
