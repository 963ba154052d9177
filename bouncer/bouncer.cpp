#include "bouncer.h"

#include "client_listener.h"
#include "server_push_login.h"
#include "upstream.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcBouncer, "xbnc.bouncer")

namespace xbnc {

namespace {
bool fastTimers()
{
    return qEnvironmentVariableIntValue("XBNC_TEST_FAST_TIMERS") == 1;
}
} // namespace

Bouncer::Bouncer(Config config, QObject *parent) : QObject(parent), config_(std::move(config))
{
    Account::Output &output = *this;
    account_ = std::make_unique<Account>(Jid(config_.upstream.jid), output, config_.idle);
    account_->setAllRoomsPersistent(config_.roomsPersistent);
    account_->setRoomLogSize(config_.roomLogSize);
    account_->setUpstreamResource(config_.upstream.resource);
    account_->setQueueLimits(config_.queue);
    account_->setOfflineLimits({config_.offlineMessages, config_.offlineMaxAge});
    account_->setForgetDeviceAfter(config_.forgetDeviceAfter);
    account_->setCsiMaxHeld(config_.csiMaxHeld);
    account_->setPushSettings(config_.push);
    for (const QString &room : std::as_const(config_.keptRooms))
        account_->setRoomPersistent(room, true);
    iqExpiry_.setInterval(fastTimers() ? 200 : 5000);
    connect(&iqExpiry_, &QTimer::timeout, this, [this] {
        account_->expireIqs();
        account_->expireQueue();
        account_->expireOfflineMessages();
    });
    // Rooms drop occupants silently (a restart, a lost s2s link): a self-ping after a silence
    // finds out; joins have deadlines and failed rejoins are retried. One clock drives them all.
    if (fastTimers()) {
        using namespace std::chrono_literals;
        account_->setRoomTiming(Room::Timing{
            .silence = 1s, .joinDeadline = 5s, .retry = ReconnectBackoff::fastTestPolicy()});
    }
    roomPing_.setInterval(fastTimers() ? 200 : 5000);
    connect(&roomPing_, &QTimer::timeout, this, [this] { account_->roomsTick(); });
    logFlush_.setSingleShot(true);
    logFlush_.setInterval(250);
    connect(&logFlush_, &QTimer::timeout, this, &Bouncer::flushRoomLog);
    // What a crash costs a resuming client: at most this much of its session's progress.
    sessionSave_.setInterval(fastTimers() ? 100 : 1000);
    connect(&sessionSave_, &QTimer::timeout, this, &Bouncer::saveSessions);
}

Bouncer::~Bouncer()
{
    flushRoomLog();
}

bool Bouncer::start(QString *error)
{
    if (fastTimers())
        store_.setBusyTimeout(std::chrono::milliseconds(200));
    if (!dataDir_.open(config_.dataDir, error) || !store_.open(config_.dataDir, error))
        return false;
    if (const int pages = qEnvironmentVariableIntValue("XBNC_TEST_STORE_MAX_PAGES"); pages > 0)
        store_.setPageLimit(pages);
    // The rooms the account was in when xbnc last stopped: rejoined once upstream is online,
    // with their logs so that history replay to sessions keeps working.
    for (const StoredRoom &room : store_.rooms()) {
        qCInfo(lcBouncer, "will rejoin %s as %s", qPrintable(room.jid), qPrintable(room.nick));
        account_->restoreRoom(room.jid, room.nick, room.password, room.persistent,
                              store_.roomMessages(room.jid), room.archive);
    }
    for (const auto &[room, removal] : store_.roomRemovals()) {
        qCInfo(lcBouncer, "%s removed the account (%s): its autojoin bookmark stays off",
               qPrintable(room), qPrintable(removal));
        account_->restoreRoomRemoval(room, removal);
    }
    restoreWaitingStanzas();
    restoreRosterCache();
    if (const int revoked = fastTokens_.revokeIfPasswordChanged(config_.listener.password);
        revoked > 0)
        qCInfo(lcBouncer, "the account password changed: %d FAST tokens revoked", revoked);
    else if (revoked < 0)
        qCWarning(lcBouncer, "could not check FAST tokens against the password: %s",
                  qPrintable(store_.lastError()));
    account_->restorePushRegistrations(store_.pushRegistrations());

    listener_ = new ClientListener(config_.listener, this);
    if (!listener_->listen(error))
        return false;
    const QString address = config_.listener.address.toString();
    qCInfo(lcBouncer, "listening for clients on %s port %u", qPrintable(address),
           listener_->port());
    if (listener_->directTlsPort())
        qCInfo(lcBouncer, "listening for direct TLS clients on %s port %u", qPrintable(address),
               listener_->directTlsPort());
    if (listener_->hostPort())
        qCInfo(lcBouncer, "listening for host certificate clients on %s port %u",
               qPrintable(address), listener_->hostPort());
    qCInfo(lcBouncer, "certificate SHA-256 fingerprint: %s",
           qPrintable(listener_->certificateFingerprint()));
    connect(listener_, &ClientListener::sessionBound, this, &Bouncer::onSessionBound);
    connect(listener_, &ClientListener::sessionResumed, this, &Bouncer::onSessionResumed);
    listener_->setFastTokens(fastTokens_);
    listener_->setBoundResource([this] { return account_->boundJid().resource(); });
    listener_->setServerCaps([this] { return account_->serverCapsElement(); });

    upstream_ = new Upstream(config_.upstream, this);
    connect(upstream_, &Upstream::online, this, [this] {
        qCInfo(lcBouncer, "upstream online as %s", qPrintable(upstream_->jid().toString()));
        account_->upstreamOnline(upstream_->jid(), upstream_->takeUnacknowledged());
    });
    connect(upstream_, &Upstream::interrupted, this, [this](const QString &reason) {
        qCWarning(lcBouncer, "upstream interrupted: %s; resuming", qPrintable(reason));
        account_->upstreamInterrupted();
    });
    connect(upstream_, &Upstream::resumed, this, [this] {
        qCInfo(lcBouncer, "upstream resumed");
        account_->upstreamResumed();
    });
    connect(upstream_, &Upstream::offline, this, [this](const QString &reason) {
        qCWarning(lcBouncer, "upstream offline: %s", qPrintable(reason));
        account_->upstreamOffline();
    });
    connect(upstream_, &Upstream::authenticationFailed, this, [this](const QString &reason) {
        qCCritical(lcBouncer,
                   "upstream login failed: %s — check [upstream] jid and password; not retrying",
                   qPrintable(reason));
        account_->upstreamOffline();
    });
    connect(upstream_, &Upstream::stanzaReceived, this,
            [this](const Element &stanza) { account_->fromUpstream(stanza); });
    connect(upstream_, &Upstream::stopped, this, &Bouncer::finishStopping);
    restoreSessions();
    sessionSave_.start();
    iqExpiry_.start();
    roomPing_.start();
    upstream_->start();
    return true;
}

void Bouncer::stop()
{
    if (stopping_)
        return;
    stopping_ = true;
    qCInfo(lcBouncer, "shutting down");
    flushRoomLog();
    // A session its client may resume is kept for after the restart: its connection goes as
    // if the network dropped, and the client resumes once xbnc is back (saved when upstream
    // has closed, with whatever still arrived).
    for (const QPointer<Downstream> &session : std::as_const(sessions_)) {
        if (session && session->canBeResumed())
            session->suspend();
        else if (session)
            session->closeWithError(Downstream::StreamError::SystemShutdown);
    }
    if (upstream_ && upstream_->isOnline())
        upstream_->stop();
    else
        QMetaObject::invokeMethod(this, &Bouncer::finishStopping, Qt::QueuedConnection);
}

void Bouncer::finishStopping()
{
    sessionSave_.stop();
    saveSessions();
    Q_EMIT stopped();
}

bool Bouncer::reloadCertificates(QString *error)
{
    return listener_ && listener_->reloadCertificate(error);
}

QString Bouncer::certificateFingerprint() const
{
    return listener_ ? listener_->certificateFingerprint() : QString();
}

void Bouncer::onSessionBound(Downstream *session)
{
    const SessionId id = session->id();
    sessions_.insert(id, session);
    qCInfo(lcBouncer, "session %llu bound as resource %s", id, qPrintable(session->resource()));
    follow(session);
    account_->sessionBound(id, session->resource());
}

// The hub keeps the session; from now on its stanzas come from and go to the new connection.
void Bouncer::onSessionResumed(Downstream *session)
{
    const SessionId id = session->id();
    sessions_.insert(id, session);
    qCInfo(lcBouncer, "session %llu resumed as resource %s", id, qPrintable(session->resource()));
    follow(session);
    account_->sessionResumed(id);
}

void Bouncer::follow(Downstream *session)
{
    const SessionId id = session->id();
    connect(session, &Downstream::stanzaReceived, this,
            [this, id](const Element &stanza) { account_->fromSession(id, stanza); });
    connect(session, &Downstream::clientStateIndicated, this,
            [this, id](bool active) { account_->sessionActive(id, active); });
    connect(session, &Downstream::heardFrom, this, [this, id] { account_->sessionHeardFrom(id); });
    connect(session, &Downstream::hibernated, this, [this, id] {
        account_->sessionHibernating(id); // its device is away: push (docs/PUSH.md)
    });
    connect(session, &Downstream::closed, this, [this, id, session] {
        qCInfo(lcBouncer, "session %llu closed", id);
        sessions_.remove(id);
        account_->sessionClosed(id, session->takeUndelivered());
    });
}

void Bouncer::toUpstream(const Element &stanza)
{
    if (upstream_)
        upstream_->send(stanza);
}

void Bouncer::toSession(SessionId id, const Element &stanza)
{
    if (const QPointer<Downstream> session = sessions_.value(id))
        session->send(stanza);
}

void Bouncer::toSessions(const std::vector<SessionId> &ids, const Element &stanza)
{
    // One serialisation for every recipient: they are all bound to the same JID.
    QByteArray bytes;
    stanza.appendXml(bytes);
    for (SessionId id : ids)
        if (const QPointer<Downstream> session = sessions_.value(id))
            session->sendSerialized(bytes);
}

void Bouncer::toSessionSerialized(SessionId id, const QList<QByteArray> &stanzas)
{
    if (const QPointer<Downstream> session = sessions_.value(id))
        session->sendSerialized(stanzas);
}

// The older session's closed() comes later (queued) and finds the hub done with it.
std::vector<Element> Bouncer::sessionReplaced(SessionId id)
{
    const QPointer<Downstream> session = sessions_.take(id);
    if (!session)
        return {};
    qCInfo(lcBouncer, "session %llu replaced by a newer one of resource %s", id,
           qPrintable(session->resource()));
    session->closeWithError(Downstream::StreamError::Conflict);
    return session->takeUndelivered();
}

void Bouncer::roomEntered(const Room &room)
{
    if (!store_.saveRoom(StoredRoom{room.jid(), room.nick(), room.password(), room.isPersistent(),
                                    room.archive()}))
        qCWarning(lcBouncer, "could not store room %s; it is not rejoined after a restart: %s",
                  qPrintable(room.jid()), qPrintable(store_.lastError()));
}

void Bouncer::roomRemovalChanged(const QString &roomJid, const QString &removal)
{
    if (!store_.setRoomRemoval(roomJid, removal))
        qCWarning(lcBouncer, "could not store the removal from %s: %s", qPrintable(roomJid),
                  qPrintable(store_.lastError()));
}

void Bouncer::roomLeft(const QString &roomJid)
{
    std::erase_if(pendingLog_, [&](const auto &pending) { return pending.first == roomJid; });
    if (!store_.removeRoom(roomJid))
        qCWarning(lcBouncer, "could not remove room %s from the store: %s", qPrintable(roomJid),
                  qPrintable(store_.lastError()));
}

void Bouncer::roomMessageLogged(const QString &roomJid, const RoomLog::Entry &entry)
{
    pendingLog_.emplace_back(roomJid, entry);
    if (pendingLog_.size() >= 512)
        flushRoomLog();
    else if (!logFlush_.isActive())
        logFlush_.start();
}

// The roster cache is one small document rewritten whole: rosters change rarely, and a phone
// reconnecting after a restart then still gets an empty result for its roster version.
void Bouncer::rosterCacheChanged(const Element &saved)
{
    if (!store_.setValue(QStringLiteral("roster_cache"), QString::fromUtf8(saved.toXml())))
        qCWarning(lcBouncer, "could not keep the roster cache: %s", qPrintable(store_.lastError()));
}

void Bouncer::restoreRosterCache()
{
    const QString saved = store_.value(QStringLiteral("roster_cache"));
    if (saved.isEmpty())
        return;
    if (!account_->restoreRosterCache(Element::fromXml(saved.toUtf8())))
        qCWarning(lcBouncer, "the stored roster cache is unreadable; it is fetched again");
}

void Bouncer::saveSessions()
{
    if (!listener_ || !store_.isOpen())
        return;
    std::vector<SessionSaver::Live> live;
    for (Downstream *session : listener_->resumableSessions())
        live.push_back({session->saved(), account_->saveSession(session->id())});
    if (!sessionSaver_.save(live))
        qCWarning(lcBouncer,
                  "could not save the resumable sessions; a client resuming after a restart may "
                  "miss what they got since the last save: %s",
                  qPrintable(store_.lastError()));
}

// Sessions saved when xbnc stopped (or last saved before a crash) hibernate again, each under
// its resume id, with its place in the hub as it was: rooms, presence, what CSI held.
void Bouncer::restoreSessions()
{
    for (const StoredSession &stored : sessionSaver_.load()) {
        Downstream *session = listener_->restoreSession(stored.session);
        const SessionId id = session->id();
        sessions_.insert(id, session);
        follow(session);
        if (!account_->restoreSession(id, stored.hub)) {
            qCWarning(lcBouncer,
                      "the hub's state of saved session %s is unreadable; it resumes "
                      "without its rooms and presence",
                      qPrintable(stored.session.resource));
            account_->sessionBound(id, stored.session.resource);
        }
        account_->sessionHibernating(id);
    }
}

void Bouncer::restoreWaitingStanzas()
{
    std::vector<OutboundQueue::Entry> queued = store_.queued();
    if (!queued.empty())
        qCInfo(lcBouncer, "%zu stanzas wait for upstream since before the restart", queued.size());
    account_->restoreQueue(std::move(queued));
    std::vector<OfflineMessages::Entry> stored = store_.offlineMessages();
    std::map<QString, DeviceCursors::Device> devices = store_.deviceCursors();
    if (!stored.empty())
        qCInfo(lcBouncer, "catch-up log restored: %zu messages, %zu devices", stored.size(),
               devices.size());
    account_->restoreOfflineMessages(std::move(stored), store_.lastOfflineSeq());
    account_->restoreDeviceCursors(std::move(devices), store_.deliveredThrough());
}

// Written at once, each in its own statement: queued stanzas are rare (only while upstream is
// away), logged ones are 1:1 messages, and each is one the user would otherwise lose in a crash.
void Bouncer::stanzaQueued(const OutboundQueue::Entry &entry)
{
    if (!store_.appendQueued(entry))
        qCWarning(lcBouncer,
                  "could not store a queued %s; it waits in memory only (lost if xbnc stops "
                  "first; bounced to its sender if it expires): %s",
                  qPrintable(entry.stanza.name()), qPrintable(store_.lastError()));
}

void Bouncer::queuedStanzasDone(quint64 throughSeq)
{
    if (!store_.removeQueued(throughSeq))
        qCWarning(lcBouncer, "could not remove sent stanzas from the stored queue: %s",
                  qPrintable(store_.lastError()));
}

void Bouncer::offlineMessageStored(const OfflineMessages::Entry &entry)
{
    if (!store_.appendOfflineMessage(entry))
        qCWarning(lcBouncer,
                  "could not store an offline message; it waits in memory only (lost if xbnc "
                  "stops first): %s",
                  qPrintable(store_.lastError()));
}

void Bouncer::offlineMessagesDone(quint64 throughSeq)
{
    if (!store_.removeOfflineMessages(throughSeq))
        qCWarning(lcBouncer, "could not remove delivered offline messages from the store: %s",
                  qPrintable(store_.lastError()));
}

void Bouncer::deviceCursorChanged(const QString &device, const DeviceCursors::Device &state)
{
    // Failing costs at most a second copy of what the device already had, after a restart.
    if (!store_.saveDeviceCursor(device, state))
        qCWarning(lcBouncer, "could not store where device %s is in the catch-up log: %s",
                  qPrintable(device), qPrintable(store_.lastError()));
}

void Bouncer::deviceForgotten(const QString &device)
{
    if (!store_.removeDeviceCursor(device))
        qCWarning(lcBouncer, "could not remove forgotten device %s from the store: %s",
                  qPrintable(device), qPrintable(store_.lastError()));
}

void Bouncer::deliveredThroughChanged(quint64 seq)
{
    if (!store_.setDeliveredThrough(seq))
        qCWarning(lcBouncer, "could not store how far devices have had the catch-up log: %s",
                  qPrintable(store_.lastError()));
}

void Bouncer::pushRegistrationsChanged(const QString &device,
                                       const std::vector<PushRegistration> &registrations)
{
    if (!store_.savePushRegistrations(device, registrations))
        qCWarning(lcBouncer,
                  "could not store the push registrations of device %s; they hold until xbnc "
                  "stops: %s",
                  qPrintable(device), qPrintable(store_.lastError()));
}

void Bouncer::enableServerPush(const QString &device, const PushRegistration &registration)
{
    if (stopping_)
        return;
    // One login per device and registration: both would bind the same resource, and the
    // server would end the first with a conflict. The one under way enables the same thing.
    for (const ServerPushLogin *running : findChildren<ServerPushLogin *>())
        if (running->device() == device && running->registration() == registration)
            return;
    auto *login = new ServerPushLogin(config_.upstream, device, registration, this);
    login->start();
}

void Bouncer::flushRoomLog()
{
    logFlush_.stop();
    if (pendingLog_.empty() || !store_.isOpen())
        return;
    // What is already stored stays (the batch is one transaction); the messages that failed are
    // still in the rooms' history in memory, for replay until xbnc restarts.
    if (!store_.appendRoomMessages(pendingLog_, config_.roomLogSize))
        qCWarning(lcBouncer, "could not store %zu room messages; they stay in memory only: %s",
                  pendingLog_.size(), qPrintable(store_.lastError()));
    pendingLog_.clear();
}

} // namespace xbnc
