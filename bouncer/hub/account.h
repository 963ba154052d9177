#pragma once

#include "bookmarks.h"
#include "contact_presences.h"
#include "device_cursors.h"
#include "element.h"
#include "inactive_queue.h"
#include "iq_router.h"
#include "jid.h"
#include "mam_queries.h"
#include "offline_messages.h"
#include "outbound_queue.h"
#include "own_caps.h"
#include "presence_aggregate.h"
#include "push_registrations.h"
#include "push_rules.h"
#include "room.h"
#include "roster_cache.h"
#include "server_caps.h"
#include "session_id.h"

#include <QHash>
#include <QSet>

#include <functional>
#include <map>
#include <memory>

namespace xbnc {

// The hub for one XMPP account: every stanza from the upstream connection and from each local
// session passes through here and is routed by addressing. Pure logic: no sockets; what it
// decides goes out through Output, so it is unit-tested with stanzas alone.
class Account : private Room::Output
{
public:
    class Output
    {
    public:
        virtual ~Output() = default;
        virtual void toUpstream(const Element &stanza) = 0;
        virtual void toSession(SessionId session, const Element &stanza) = 0;
        // The same stanza to several sessions: every session is bound to the same JID, so the
        // edge can serialise it once and share the bytes.
        virtual void toSessions(const std::vector<SessionId> &sessions, const Element &stanza)
        {
            for (SessionId session : sessions)
                toSession(session, stanza);
        }
        // Stanzas already serialised as Element::toXml() writes them, addressed, in order: a
        // room's cached occupants (Room::Output::roomToSessionSerialized). The default parses.
        virtual void toSessionSerialized(SessionId session, const QList<QByteArray> &stanzas)
        {
            for (const QByteArray &stanza : stanzas)
                toSession(session, Element::fromXml(stanza));
        }
        // A newer session bound the same resource: the edge ends this one (RFC 6120 §7.7.2.2,
        // a <conflict/> stream error) and hands back what its client was sent and never
        // acknowledged (XEP-0198), in order, so that the device gets it in its next session.
        virtual std::vector<Element> sessionReplaced(SessionId session) = 0;
        // Persistence of rooms (the wiring stores them; tests may ignore them).
        virtual void roomEntered(const Room &) {}
        virtual void roomLeft(const QString & /*roomJid*/) {}
        // The room removed the account (kick, ban, destroy, a final join error): kept across
        // restarts so that an autojoin bookmark does not bring the account back.
        virtual void roomRemovalChanged(const QString & /*roomJid*/, const QString & /*removal*/) {}
        virtual void roomMessageLogged(const QString & /*roomJid*/, const RoomLog::Entry &) {}
        // Persistence of what waits for the other side (account_offline.cpp). "Done" removes
        // every entry numbered up to and including throughSeq: sent, bounced or dropped.
        virtual void stanzaQueued(const OutboundQueue::Entry &) {}
        virtual void queuedStanzasDone(quint64 /*throughSeq*/) {}
        virtual void offlineMessageStored(const OfflineMessages::Entry &) {}
        virtual void offlineMessagesDone(quint64 /*throughSeq*/) {}
        // Per-device catch-up: a device's place in the log of OfflineMessages, a device not
        // seen for too long, and the highest entry any device has had (where new ones start).
        virtual void deviceCursorChanged(const QString & /*device*/, const DeviceCursors::Device &)
        {
        }
        virtual void deviceForgotten(const QString & /*device*/) {}
        virtual void deliveredThroughChanged(quint64 /*seq*/) {}
        // The roster cache changed (RosterCache::toElement), to keep it across restarts.
        virtual void rosterCacheChanged(const Element & /*saved*/) {}
        // A device's XEP-0357 registrations changed (empty: it has none left).
        virtual void pushRegistrationsChanged(const QString & /*device*/,
                                              const std::vector<PushRegistration> &)
        {
        }
        // The server route (docs/PUSH.md): the device went away, so the edge logs in upstream
        // as that device for a moment and enables the registration there, for the server's
        // own push module to publish from the account's domain.
        virtual void enableServerPush(const QString & /*device*/, const PushRegistration &) {}
    };

    Account(Jid accountJid, Output &output, PresenceAggregate::Idle idle = {},
            std::chrono::milliseconds iqTimeout = std::chrono::seconds(60));

    // --- events ---
    // Bound afresh (a first login, or after upstreamOffline()). `unacknowledged`: what the
    // previous connection sent that its server never acknowledged (XEP-0198), oldest first;
    // what still means something is sent again (account_resume.cpp).
    void upstreamOnline(const Jid &boundJid, std::vector<Element> unacknowledged = {});
    void upstreamOffline();
    // The connection is lost but its stream may be resumed (XEP-0198): nothing fails, rooms stay
    // as they are, what sessions send waits. Followed by upstreamResumed(), or by
    // upstreamOffline() and later upstreamOnline() when the server refuses to resume.
    void upstreamInterrupted();
    // The stream was resumed: the server kept the account's presence and rooms, and resent what
    // it had not seen acknowledged; what waited is sent now.
    void upstreamResumed();
    void sessionBound(SessionId session, const QString &resource);
    // `undelivered`: what the session was sent and did not acknowledge (XEP-0198), in order;
    // its device gets those messages again in its next session.
    void sessionClosed(SessionId session, std::vector<Element> undelivered = {});
    void fromSession(SessionId session, Element stanza);
    void fromUpstream(Element stanza);
    void expireIqs(); // called from a timer
    // XEP-0352 (account_csi.cpp): an inactive session gets only what matters at once; the rest
    // waits in its InactiveQueue until something that matters comes, the client says
    // <active/>, or the client sends anything at all (sessionHeardFrom: called for every read,
    // so it costs a counter check while no session is inactive).
    void sessionActive(SessionId session, bool active);
    void sessionHeardFrom(SessionId session);
    // XEP-0198 (account_push.cpp): the session's connection is lost but the session lives on
    // (or was restored so after a restart), and a new connection took it over again. A
    // hibernating session's device is away: it is pushed for what matters (docs/PUSH.md).
    void sessionHibernating(SessionId session);
    void sessionResumed(SessionId session);
    // Stanzas held per inactive session before everything is delivered anyway; 0 holds none.
    void setCsiMaxHeld(int stanzas) { csiMaxHeld_ = stanzas; }

    // --- across a restart (account_saved_session.cpp) ---
    // A resumable session's state in the hub (presence, carbons, rooms, what CSI holds), for
    // a restarted xbnc to restore under the session's new id. Null for an unknown session.
    Element saveSession(SessionId session) const;
    // Restores a saved session as bound and available as it was, in the rooms it was in that
    // the account is still in; false (nothing restored) when `saved` is unreadable.
    bool restoreSession(SessionId session, const Element &saved);

    // --- state, for the wiring and tests ---
    bool isUpstreamOnline() const { return upstreamOnline_; }
    bool isUpstreamInterrupted() const { return upstreamInterrupted_; }
    // The JID every session is bound to: xbnc's upstream full JID, the one the world sees
    // (docs/ADDRESSING.md). Before upstream is first online, the resource xbnc will ask for.
    Jid boundJid() const;
    void setUpstreamResource(const QString &resource) { upstreamResource_ = resource; }
    qsizetype sessionCount() const { return sessions_.size(); }
    const IqRouter &iqRouter() const { return iqs_; }

    // Features xbnc itself provides, merged into the domain's disco#info.
    static QStringList ownFeatures();

    // --- what phones check (account_roster.cpp, account_caps.cpp) ---
    // The roster cache kept when xbnc stopped (RosterCache::toElement); false if unreadable.
    bool restoreRosterCache(const Element &saved);
    const RosterCache &rosterCache() const { return roster_; }
    // The server's <c/> for the stream features, once the domain's disco#info is known.
    std::optional<Element> serverCapsElement() const { return serverCaps_.element(); }

    // --- rooms ---
    const Room *room(const QString &roomJid) const;
    // A kept room is not left upstream when its last session leaves.
    void setRoomPersistent(const QString &roomJid, bool persistent);
    void setAllRoomsPersistent(bool persistent) { allRoomsPersistent_ = persistent; }
    void setRoomLogSize(int messages) { roomLogSize_ = messages; }
    // A room the account was in when xbnc stopped; it is rejoined once upstream is online.
    // A room that removed the account before xbnc restarted: its autojoin bookmark stays off.
    void restoreRoomRemoval(const QString &roomJid, const QString &removal);
    void restoreRoom(const QString &roomJid, const QString &nick, const QString &password,
                     bool persistent, std::vector<RoomLog::Entry> log,
                     Room::Archive archive = Room::Archive::Unknown);
    // Called on a timer: the rooms' join deadlines and retries, and XEP-0410 self-pings of
    // rooms that have been silent (docs/ROOMS.md "Health").
    void roomsTick();
    void setRoomTiming(const Room::Timing &timing);
    // --- nothing lost while one side is away (account_offline.cpp) ---
    void setQueueLimits(OutboundQueue::Limits limits) { queue_.setLimits(limits); }
    void setOfflineLimits(OfflineMessages::Limits limits) { offline_.setLimits(limits); }
    // A device with no session for this long is forgotten: its cursor is removed.
    void setForgetDeviceAfter(std::chrono::seconds idle) { forgetDeviceAfter_ = idle; }
    // What was queued or stored when xbnc stopped.
    void restoreQueue(std::vector<OutboundQueue::Entry> entries);
    void restoreOfflineMessages(std::vector<OfflineMessages::Entry> entries, quint64 lastSeq);
    void restoreDeviceCursors(std::map<QString, DeviceCursors::Device> devices,
                              quint64 deliveredThrough);
    // Bounces queued stanzas older than the limit; called from a timer.
    void expireQueue();
    // Removes logged messages older than the limit and forgets idle devices; called from a timer.
    void expireOfflineMessages();
    const OutboundQueue &outboundQueue() const { return queue_; }
    const OfflineMessages &offlineMessages() const { return offline_; }
    const DeviceCursors &deviceCursors() const { return cursors_; }

    // --- XEP-0357 push (account_push.cpp, docs/PUSH.md) ---
    void setPushSettings(const PushSettings &settings)
    {
        pushSettings_ = settings;
        bursts_.setQuiet(settings.quiet);
    }
    void restorePushRegistrations(PushRegistrations::Devices devices);
    const PushRegistrations &pushRegistrations() const { return push_; }

    // The clock for history, the queue and offline storage (tests set it).
    void setNow(std::function<QDateTime()> now) { now_ = std::move(now); }

private:
    struct Session
    {
        QString resource; // what the client asked to bind: the key of per-device state
        bool initialPresenceSent = false;
        bool carbons = false;
        bool rosterRequested = false;
        bool blocklistRequested = false;
        // Logged messages it got live before its initial presence: its catch-up skips them.
        std::vector<quint64> receivedEarly;
        std::unique_ptr<InactiveQueue> held; // set while the client says it is inactive
        bool hibernating = false;            // XEP-0198: no connection, resumable
    };

    // What an address is to this account; the routing functions switch on it.
    enum class Address
    {
        Server,      // no address, the account's domain, or its bare JID for IQs
        AccountBare, // the account's bare JID
        Upstream,    // xbnc's own full JID, which every session is bound to
        OwnResource, // another resource of the account (a device connected to the server)
        Room,        // a room the account knows
        Occupant,    // an occupant of such a room
        Other,
    };
    Address classify(const Jid &jid) const;

    // Sessions → upstream (account_outbound.cpp)
    void messageFromSession(SessionId id, Session &session, Element &stanza);
    void presenceFromSession(SessionId id, Session &session, Element &stanza);
    void broadcastPresenceFromSession(SessionId id, Session &session, Element &stanza);
    void iqFromSession(SessionId id, Session &session, Element &stanza);
    bool answerLocalIq(SessionId id, Session &session, const Element &stanza);
    void relayReplyFromSession(SessionId id, Element &stanza);
    void noteConversation(SessionId id, const Jid &peer);
    // Upstream → sessions (account_inbound.cpp)
    void messageFromUpstream(Element &stanza);
    void presenceFromUpstream(Element &stanza);
    void iqFromUpstream(Element &stanza);
    void requestFromUpstream(Element &stanza);
    bool serverPush(const Element &stanza);
    void replyFromUpstream(Element &stanza);
    void ownReplyFromUpstream(const IqRouter::Outbound &request, const Element &reply);
    void relayedReplyFromUpstream(const IqRouter::Outbound &request, Element &reply);
    // A room's disco#info, asked by a session: whether the room has MAM (account_inbound.cpp).
    void roomDiscoAnswered(const QString &roomJid, Element &reply);
    // xbnc's own disco#info of a room it has joined (purpose RoomInfo).
    void roomInfoAnswered(const QString &roomJid, const Element &reply);
    // The room whose join (or rejoin) that stanza to upstream is, empty for anything else.
    QString joinedRoomOf(const Element &stanza) const;
    void askRoomInfo(const QString &roomJid);
    // A MAM query (or form request) to a room without MAM, answered from the room's log
    // (account_rooms.cpp); false when the room's archive is not xbnc's to answer from.
    bool answerFromRoomLog(SessionId id, const Element &iq);
    std::optional<SessionId> answeringSession(const QString &requester) const;
    // The roster and the server's caps, answered from what xbnc knows (account_roster.cpp,
    // account_caps.cpp).
    bool answerRoster(SessionId id, Session &session, const Element &stanza);
    void relayRosterRequest(SessionId id, Element &stanza);
    void rosterFetched(const Element &reply);
    void rosterRelayAnswered(const IqRouter::Outbound &request, const Element &reply);
    Element rosterPushed(const Element &push);
    void sendRosterAnswer(SessionId id, const Element &request, const RosterCache::Answer &answer);
    void saveRosterCache();
    bool answerServerCaps(SessionId id, const Element &stanza);
    void serverInfoFetched(const Element &reply);

    // xbnc's own requests upstream, tracked by purpose.
    void request(Element iq, IqRouter::Purpose purpose, const QString &context = {});
    void requestExpired(const IqRouter::Outbound &request);
    void failRelay(const IqRouter::Outbound &request);
    void failInbound(const IqRouter::Inbound &request, const QString &condition);
    // account_offline.cpp
    void queueForUpstream(const Session &session, const Element &stanza);
    void flushQueue();
    void bounceToSender(const QString &resource, const Element &stanza, const QString &why);
    bool anySessionAvailable() const;
    quint64 keepForLater(const Element &stanza, const QString &device = {});
    void logAndDeliver(const Element &stanza, const std::set<SessionId> *onlyTo = nullptr);
    void markDelivered(quint64 seq, const std::set<SessionId> *onlyTo);
    void advanceDevice(const QString &device, quint64 seq);
    void offlineEntriesGone(const std::vector<OfflineMessages::Entry> &gone, const char *why);
    void tellUntoldLosses(const QDateTime &now);
    void catchUp(SessionId id, Session &session);
    // A session's own 1:1 message: logged as a <sent> carbon, copied live to the other
    // sessions with carbons; every device with it (or not wanting it) moves past it.
    void logSent(SessionId sender, const Element &message);
    // A <sent> carbon from the server (another device of the account wrote).
    void logSentCarbon(const Element &carbon);
    std::set<SessionId> sessionsWithCarbons() const;
    void keepUndelivered(const Session &session, std::vector<Element> undelivered);
    void sendAggregatePresence();
    // account_push.cpp
    bool answerPush(SessionId id, Session &session, const Element &stanza);
    bool deviceAway(const QString &device) const;
    // A message for the account: the devices away get a push if it matters.
    void pushFor(const Element &message, const QString &roomNick = {});
    void pushAnswered(const IqRouter::Outbound &request, const Element &reply);
    // The device's session hibernates or ended / it is connected again: the server route's
    // registrations are enabled on the server / disabled there.
    void deviceLeft(const QString &device);
    void deviceBack(const QString &device);
    void disableOnServer(const QString &device, const std::vector<PushRegistration> &registrations);
    // The account's bare JID's disco#info as the server answers it (AccountDisco).
    void accountInfoAnswered(Element &query);
    // account_resume.cpp
    void resendUnacknowledged(const std::vector<Element> &unacknowledged);
    void sendHeldStanzas();
    // XEP-0115 caps of the account (account_caps.cpp)
    Element aggregatePresence();
    void learnSessionCaps(SessionId id, const Element &presence);
    void sessionCapsAnswered(const IqRouter::Inbound &request, const Element &reply);
    bool answerOwnCaps(const Element &request);
    std::optional<Element> ownCapsReply(const Element &request) const;
    Room *existingRoom(const Jid &jid) const;
    // Where a bookmark list comes from: the list fetched at start; a PEP notification (which
    // the server also sends with the current items whenever xbnc comes online); or a session
    // publishing through xbnc, the user's own hand, which alone undoes a remembered removal.
    enum class BookmarkSource
    {
        List,
        Notification,
        SessionPublish,
    };
    void applyBookmarks(const Element &items, BookmarkSource source);
    void followBookmarkChange(const Element &pubsubPayload);
    void applyBookmark(const Bookmark &bookmark, BookmarkSource source);
    void selfPingAnswered(const QString &roomJid, const Element *reply);
    Room &roomFor(const QString &roomJid);
    void roomToUpstream(const Element &stanza) override;
    void roomToSession(SessionId session, const Element &stanza) override;
    void roomToSessionSerialized(SessionId session, const QList<QByteArray> &stanzas) override;
    void roomToSessions(const std::set<SessionId> &sessions, const Element &stanza) override;
    void roomMembershipChanged(const Room &room) override;
    void roomMessageLogged(const Room &room, const RoomLog::Entry &entry) override;
    void roomJoinCompleted(const Room &room) override;
    void sendToSession(SessionId id, const Element &stanza);
    // account_csi.cpp: the way out to a session that said it is inactive.
    void sendToInactive(SessionId id, Session &session, const Element &stanza);
    void releaseHeld(SessionId id, Session &session);
    // To every session `wanted(id, session)` accepts, in connection order.
    template <typename Wanted> void sendToSessions(const Element &stanza, Wanted wanted);
    void broadcastToSessions(const Element &stanza, bool onlyWithPresence);
    void copyAsCarbon(SessionId from, const Element &message, const Room *room = nullptr);
    // XEP-0280 <sent> carbon of a message a session sends, as the other sessions get it.
    Element sentCarbon(const Element &message) const;
    void replyError(SessionId id, const Element &request, const QString &condition);
    std::optional<SessionId> sessionByResource(const QString &resource) const;

    Jid account_;
    Output &out_;
    Jid upstreamJid_;
    QString upstreamResource_ = QStringLiteral("xbnc");
    bool upstreamOnline_ = false;
    bool upstreamInterrupted_ = false;
    // What rooms sent upstream while the stream was interrupted (joins, leaves, groupchat) and
    // sessions' answers to peers' requests, in order, for the resumed stream; after a refused
    // resumption the presences are dropped (the rooms rejoin) and the rest is still due.
    std::vector<Element> heldStanzas_;
    std::map<SessionId, Session> sessions_; // ordered: fan-out in connection order
    IqRouter iqs_;
    MamQueries mam_;
    // Peer full JID → the session that last wrote to it: its requests go to that session.
    QHash<QString, SessionId> conversations_;
    PresenceAggregate presence_;
    OwnCaps ownCaps_;
    ServerCaps serverCaps_;
    RosterCache roster_;
    ContactPresences contacts_;
    QByteArray lastSentPresence_;
    std::map<QString, std::unique_ptr<Room>> rooms_; // by bare room JID
    QHash<QString, Room::Archive> roomArchives_;     // learned from rooms' disco#info
    QSet<QString> roomInfoAsked_; // rooms whose disco#info went up with their join
    OutboundQueue queue_;
    OfflineMessages offline_;
    DeviceCursors cursors_;
    // A device away while the catch-up log is full loses a message with every new one: the
    // first loss is logged at once, the ones after it once a minute, summed up.
    struct UntoldLosses
    {
        qsizetype removed = 0;
        qsizetype neverDelivered = 0;
    };
    UntoldLosses untoldLosses_;
    QDateTime lastLossWarning_;
    std::chrono::seconds forgetDeviceAfter_ = std::chrono::hours(24 * 90);
    bool allRoomsPersistent_ = false;
    int roomLogSize_ = 1000;
    Room::Timing roomTiming_;
    int inactiveSessions_ = 0;
    int csiMaxHeld_ = 256;
    PushRegistrations push_;
    PushBursts bursts_;
    bool serverHasPush_ = false; // urn:xmpp:push:0 on the bare JID, learned from AccountDisco
    bool rebinding_ = false;     // a newer session of the same device replaces an older one
    PushSettings pushSettings_;
    std::function<QDateTime()> now_ = [] { return QDateTime::currentDateTimeUtc(); };
};

template <typename Wanted> inline void Account::sendToSessions(const Element &stanza, Wanted wanted)
{
    // The hot path of every fanned-out stanza. Every session is bound to the same JID, so all
    // recipients get the same stanza and the edge serialises it once.
    // An inactive session (XEP-0352) costs the others one pointer test.
    std::vector<SessionId> recipients;
    std::vector<SessionId> inactive;
    for (const auto &[id, session] : sessions_)
        if (wanted(id, session))
            (session.held ? inactive : recipients).push_back(id);
    if (recipients.empty() && inactive.empty())
        return;
    Element readdressed;
    if (!stanza.hasAttribute(u"to")) {
        readdressed = stanza;
        readdressed.setAttribute(QStringLiteral("to"), boundJid().toString());
    }
    const Element &addressed = readdressed.isNull() ? stanza : readdressed;
    if (!recipients.empty())
        out_.toSessions(recipients, addressed);
    for (SessionId id : inactive)
        sendToInactive(id, sessions_.at(id), addressed);
}

} // namespace xbnc
