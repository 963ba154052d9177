#pragma once

#include "jid.h"
#include "session_id.h"

#include <QDeadlineTimer>
#include <QHash>
#include <QString>

#include <optional>
#include <vector>

namespace xbnc {

// Every IQ request that crosses the one upstream connection and waits for an answer.
//
// Outbound: a request a session relays, or one xbnc makes itself, goes upstream under a fresh,
// unpredictable id; the entry says what the answer is for (its purpose), who may give it (the
// entity the request went to) and until when. Inbound: a request from the outside world that a
// session answers gets a fresh id too, so the reply can go back under the original one, and the
// requester is told when no session answers.
class IqRouter
{
public:
    enum class Purpose
    {
        Relay,           // a session's request; the reply goes back to it
        DomainDisco,     // a session's disco#info of the domain; xbnc merges its own features
        RoomDisco,       // a session's disco#info of a bare JID that may be a room: xbnc learns
                         // whether it has MAM and adds its own archive's features if not
        Carbons,         // xbnc enabling carbons upstream
        Bookmarks,       // xbnc fetching XEP-0402 bookmarks
        LegacyBookmarks, // xbnc fetching XEP-0048 bookmarks (no XEP-0402 on the server)
        SelfPing,        // XEP-0410 self-ping of the room in `context`
        SessionCaps,     // xbnc asking a session disco#info for the caps ver in `context`
        Roster,          // xbnc fetching the roster for its RosterCache
        RosterRelay,     // a session's roster get before the cache is filled; fills it
        ServerInfo,      // xbnc fetching the domain's disco#info for the server's caps
        RoomInfo,        // xbnc asking the room in `context` its disco#info once joined:
                         // whether it has MAM, when no session asked (RoomDisco)
        AccountDisco,    // a session's disco#info of the account's bare JID; xbnc adds
                         // XEP-0357 push, which it provides itself
        Push,            // xbnc publishing a XEP-0357 notification; `context` names the
                         // registration, which an error removes
        ServerPushOff,   // xbnc disabling on the server a registration of the server route
                         // while its device is connected
    };

    struct Outbound
    {
        Purpose purpose = Purpose::Relay;
        SessionId session =
            0; // the asking session, for Relay, DomainDisco, RoomDisco, AccountDisco, RosterRelay
        QString originalId; // the session's own id
        QString to;         // where the request went; empty: the account's server
        QString context;    // what the purpose needs to act on the reply
        QDeadlineTimer deadline;
    };
    struct Inbound
    {
        SessionId session = 0;
        QString originalId;
        QString requester; // the 'from' of the request, the 'to' of the reply
        QDeadlineTimer deadline;
        Purpose purpose = Purpose::Relay; // not Relay: xbnc's own request, nobody upstream waits
        QString context;
    };

    explicit IqRouter(std::chrono::milliseconds timeout = std::chrono::seconds(60));
    // Replies from the account's server come from its bare JID, its domain, or with no 'from'.
    void setAccount(const Jid &account) { account_ = account.bare(); }

    // Records a request; returns the id to send it under.
    QString track(Outbound entry);
    QString trackRelay(SessionId session, const QString &originalId, const QString &to,
                       Purpose purpose = Purpose::Relay);
    // The request a reply answers, if the reply came from where the request went; a reply with a
    // known id from anyone else is refused (and the request stays pending).
    std::optional<Outbound> takeReply(const QString &id, const QString &from);

    QString trackInbound(SessionId session, const QString &originalId, const QString &requester);
    // The request a session's reply answers, if that session was asked.
    std::optional<Inbound> takeInbound(const QString &id, SessionId session);
    // A request of xbnc's own to a session; its reply stays in the hub.
    QString trackToSession(SessionId session, Purpose purpose, const QString &context);

    // A closed session can answer nothing: its outbound entries go, its inbound ones are
    // returned so that the requesters get an error.
    std::vector<Inbound> dropSession(SessionId session);
    // Entries past their deadline, removed; the caller tells whoever waits.
    std::vector<Outbound> takeExpiredOutbound();
    std::vector<Inbound> takeExpiredInbound();
    // Upstream went away: every outbound entry fails, inbound ones can no longer be answered.
    std::vector<Outbound> takeAllOutbound();
    void clearInbound();

    std::chrono::milliseconds timeout() const { return timeout_; }
    qsizetype outboundCount() const { return outbound_.size(); }
    qsizetype inboundCount() const { return inbound_.size(); }

private:
    QString freshId();
    bool isServer(const Jid &jid) const;

    std::chrono::milliseconds timeout_;
    Jid account_;
    QHash<QString, Outbound> outbound_;
    QHash<QString, Inbound> inbound_;
};

} // namespace xbnc
