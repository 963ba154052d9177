#pragma once

#include "account.h"
#include "config.h"
#include "data_dir.h"
#include "downstream.h"
#include "session_saver.h"
#include "store.h"
#include "store_fast_tokens.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <memory>
#include <utility>
#include <vector>

namespace xbnc {

class ClientListener;
class Upstream;

// The running bouncer for one account: the wiring between the upstream connection, the local
// listener's sessions and the Account hub, which alone decides where stanzas go.
class Bouncer : public QObject, private Account::Output
{
    Q_OBJECT
public:
    explicit Bouncer(Config config, QObject *parent = nullptr);
    ~Bouncer() override;

    bool start(QString *error);
    void stop(); // graceful; emits stopped() when the upstream stream is closed
    bool reloadCertificates(QString *error);
    QString certificateFingerprint() const;

Q_SIGNALS:
    void stopped();

private:
    void toUpstream(const Element &stanza) override;
    void toSession(SessionId session, const Element &stanza) override;
    void toSessions(const std::vector<SessionId> &sessions, const Element &stanza) override;
    void toSessionSerialized(SessionId id, const QList<QByteArray> &stanzas) override;
    std::vector<Element> sessionReplaced(SessionId session) override;
    void roomEntered(const Room &room) override;
    void roomLeft(const QString &roomJid) override;
    void roomRemovalChanged(const QString &roomJid, const QString &removal) override;
    void roomMessageLogged(const QString &roomJid, const RoomLog::Entry &entry) override;
    void stanzaQueued(const OutboundQueue::Entry &entry) override;
    void queuedStanzasDone(quint64 throughSeq) override;
    void offlineMessageStored(const OfflineMessages::Entry &entry) override;
    void offlineMessagesDone(quint64 throughSeq) override;
    void deviceCursorChanged(const QString &device, const DeviceCursors::Device &state) override;
    void deviceForgotten(const QString &device) override;
    void deliveredThroughChanged(quint64 seq) override;
    void pushRegistrationsChanged(const QString &device,
                                  const std::vector<PushRegistration> &registrations) override;
    void enableServerPush(const QString &device, const PushRegistration &registration) override;
    void rosterCacheChanged(const Element &saved) override;
    void restoreWaitingStanzas();
    void restoreRosterCache();
    void restoreSessions();
    void saveSessions();
    void finishStopping();
    void onSessionBound(Downstream *session);
    void onSessionResumed(Downstream *session);
    void follow(Downstream *session);
    void flushRoomLog();

    Config config_;
    DataDir dataDir_; // locked before the store opens and released after it closes
    Store store_;
    SessionSaver sessionSaver_{store_};
    StoreFastTokens fastTokens_{store_};
    ClientListener *listener_ = nullptr; // children
    Upstream *upstream_ = nullptr;
    std::unique_ptr<Account> account_;
    QHash<SessionId, QPointer<Downstream>> sessions_;
    QTimer iqExpiry_;
    QTimer roomPing_;
    // Logged room messages wait here briefly and go to SQLite in one transaction.
    std::vector<std::pair<QString, RoomLog::Entry>> pendingLog_;
    QTimer logFlush_;
    QTimer sessionSave_; // resumable sessions to the store, for a restart (or a crash)
    bool stopping_ = false;
};

} // namespace xbnc
