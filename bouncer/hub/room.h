#pragma once

#include "element.h"
#include "room_log.h"
#include "session_id.h"

#include <QDateTime>
#include <QString>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace xbnc {

// The account's state in one MUC room, and the rules of sharing it among sessions
// (docs/ROOMS.md): the account joins once upstream; each session that joins gets the join
// replayed from this state; room traffic goes to the sessions that joined. Pure: stanzas in,
// stanzas out through Output, no sockets.
class Room
{
public:
    enum class State
    {
        NotJoined,
        Joining,
        Joined
    };

    class Output
    {
    public:
        virtual ~Output() = default;
        virtual void roomToUpstream(const Element &stanza) = 0;
        // 'to' is the upstream address as the room sent it; the receiver rewrites it.
        virtual void roomToSession(SessionId session, const Element &stanza) = 0;
        // The same stanza to several sessions (fan-out: the receiver shares the work).
        virtual void roomToSessions(const std::set<SessionId> &sessions, const Element &stanza) = 0;
        // For persistence: the account entered or left the room; a message was logged.
        virtual void roomMembershipChanged(const Room &) {}
        virtual void roomMessageLogged(const Room &, const RoomLog::Entry &) {}
    };

    Room(QString jid, Output &output, std::function<QDateTime()> now, int logCapacity = 1000);

    const QString &jid() const { return jid_; }
    State state() const { return state_; }
    const QString &nick() const { return nick_; }
    const QString &password() const { return password_; }
    bool isJoined(SessionId session) const { return joined_.count(session) > 0; }
    const std::set<SessionId> &joinedSessions() const { return joined_; }
    bool isPersistent() const { return persistent_; }
    void setPersistent(bool persistent) { persistent_ = persistent; }
    void setPassword(const QString &password) { password_ = password; }
    RoomLog &log() { return log_; }
    const RoomLog &log() const { return log_; }

    // --- from sessions ---
    // Presence addressed to this room or one of its occupants ('from' already removed).
    void presenceFromSession(SessionId session, Element presence);
    // XEP-0410 self-ping to the account's occupant JID: the answer (result or error).
    Element answerSelfPing(SessionId session, const Element &iq) const;
    void sessionClosed(SessionId session);

    // --- from upstream ---
    void presenceFromUpstream(const Element &presence);
    void groupchatFromUpstream(const Element &message);

    // --- upstream connection ---
    // The connection dropped: the room must be joined again, sessions stay joined.
    void upstreamLost();
    // After a reconnect: the join to send (with history since the newest logged message), or
    // nothing when no session is joined and the room is not kept.
    std::optional<Element> rejoin();
    // Join the room with no session asking (an autojoin bookmark).
    void joinAsAccount(const QString &nick);
    // XEP-0410: the account asks the room whether it is still an occupant; the answer decides.
    std::optional<Element> selfPing(const QString &id) const;
    // The room's answer to selfPing: false means the account was dropped and must rejoin.
    bool selfPingAnswered(const Element &reply);
    // Leave upstream if no session is in the room (an autojoin bookmark was removed).
    void leaveAsAccount();
    // A room the account was in before xbnc restarted: rejoined when upstream comes online.
    void restore(const QString &nick, const QString &password, std::vector<RoomLog::Entry> log);
    bool isAccountIn() const { return accountIn_; }

    static const QString mucNs;
    static const QString mucUserNs;

private:
    struct Occupant
    {
        QString nick;
        Element presence;
    };

    void join(SessionId session, const QString &nick, Element presence);
    void leave(SessionId session, const Element &presence);
    void replayTo(SessionId session, const Element *mucX);
    Element selfPresenceFor(SessionId session) const;
    Element ownUnavailable() const;
    void selfPresenceFromUpstream(const Element &presence, const QSet<int> &codes);
    void occupantPresenceFromUpstream(const Element &presence, const QString &nick);
    void errorFromUpstream(const Element &presence);
    void fanOut(const Element &stanza);
    void clear();
    Occupant *findOccupant(const QString &nick);
    Element joinPresence(const std::optional<QDateTime> &historySince) const;

    QString jid_;
    Output &out_;
    std::function<QDateTime()> now_;
    State state_ = State::NotJoined;
    QString nick_;
    QString password_;
    bool persistent_ = false;
    std::vector<Occupant> occupants_; // in the order the room introduced them
    std::optional<Element> self_;
    std::optional<Element> subject_;
    RoomLog log_;
    std::set<SessionId> joined_;
    std::map<SessionId, QString> requestedNicks_;
    std::optional<SessionId> leaving_;       // whose explicit leave went upstream
    std::optional<SessionId> lastPresenter_; // who sent the room the last presence
    // Rejoining after a reconnect: occupants seen again, to tell sessions who left meanwhile.
    bool rejoining_ = false;
    bool complete_ = false; // the subject arrived: the join is over
    bool rejoinSubjectPending_ = false;
    // The account is (or, while upstream is away, should be) in the room: rejoin after a
    // reconnect or a restart. Cleared by the last explicit leave and by removal.
    bool accountIn_ = false;
    QSet<QString> seenOnRejoin_;
};

} // namespace xbnc
