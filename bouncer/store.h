#pragma once

#include "device_cursors.h"
#include "fast_tokens.h"
#include "offline_messages.h"
#include "outbound_queue.h"
#include "push_registrations.h"
#include "room.h"
#include "room_log.h"
#include "saved_session.h"

#include <QDateTime>
#include <QSqlDatabase>
#include <QString>

#include <chrono>
#include <map>
#include <utility>
#include <vector>

class QSqlQuery;

namespace xbnc {

// A room the account is in, as kept across restarts.
struct StoredRoom
{
    QString jid;
    QString nick;
    QString password;
    bool persistent = false;
    Room::Archive archive = Room::Archive::Unknown; // whether xbnc answers its MAM queries
};

// A resumable session as saved for a restart (store_sessions.cpp): the listener's side and
// the hub's (Account::saveSession).
struct StoredSession
{
    SavedSession session; // session.sm.resumeId names it
    Element hub;
};

// What changed in the saved sessions since they were last written, written in one transaction.
struct SessionWrites
{
    struct Row
    {
        const SavedSession *session; // its counters; its unacknowledged stanzas go in `stanzas`
        QByteArray hub;
    };
    struct Stanza
    {
        QString resumeId;
        quint64 serial; // StreamManagement::State::serial numbering
        QByteArray xml;
    };
    std::vector<Row> rows;        // inserted or replaced
    std::vector<QString> rewrite; // sessions whose stanzas are all in `stanzas` (first write)
    std::vector<Stanza> stanzas;  // appended
    std::vector<std::pair<QString, quint64>> ackedThrough; // stanzas up to it are removed
    std::vector<QString> ended;                            // removed with their stanzas
};

// The one SQLite database in data_dir. Schema changes are numbered migrations applied at open,
// so an older data_dir upgrades in place.
class Store
{
public:
    Store() = default;
    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    // A database file that is not SQLite or is damaged at its start is renamed to
    // xbnc.sqlite.corrupt-<UTC time> (with its -wal/-shm), never overwritten, and a fresh one is
    // made in its place. False with *error when it cannot be opened at all (e.g. locked).
    bool open(const QString &dataDir, QString *error);
    // How long a statement waits for a lock another process holds before it fails; the event
    // loop waits with it, so short. Set before open().
    void setBusyTimeout(std::chrono::milliseconds timeout) { busyTimeout_ = timeout; }
    bool isOpen() const { return db_.isOpen(); }
    int schemaVersion() const;
    // SQLite's words for the last write that failed (disk full, I/O error…), for the log.
    QString lastError() const { return lastError_; }
    // Caps the file at `pages` pages (SQLite's max_page_count): writes beyond fail as on a full
    // disk. Tests use it to make a disk fill up on demand.
    bool setPageLimit(int pages);

    static constexpr const char *fileName = "xbnc.sqlite";

    QString value(const QString &key, const QString &fallback = {}) const;
    bool setValue(const QString &key, const QString &value);

    std::vector<StoredRoom> rooms() const;
    bool saveRoom(const StoredRoom &room);
    // The room's removal of the account (empty: none any more).
    bool setRoomRemoval(const QString &jid, const QString &removal);
    std::vector<std::pair<QString, QString>> roomRemovals() const; // jid, removal
    bool removeRoom(const QString &jid);                           // and its log
    // Keeps at most `capacity` newest messages of the room.
    bool appendRoomMessage(const QString &roomJid, const RoomLog::Entry &entry, int capacity);
    // Many at once, in one transaction (what the running bouncer does).
    bool appendRoomMessages(const std::vector<std::pair<QString, RoomLog::Entry>> &messages,
                            int capacity);
    std::vector<RoomLog::Entry> roomMessages(const QString &roomJid) const; // oldest first

    // What sessions sent while upstream was down (OutboundQueue), oldest first.
    bool appendQueued(const OutboundQueue::Entry &entry);
    bool removeQueued(quint64 throughSeq);
    std::vector<OutboundQueue::Entry> queued() const;

    // Messages kept for the next session (OfflineMessages), oldest first.
    bool appendOfflineMessage(const OfflineMessages::Entry &entry);
    bool removeOfflineMessages(quint64 throughSeq);
    std::vector<OfflineMessages::Entry> offlineMessages() const;
    // The highest number ever stored, even when those messages are gone since.
    quint64 lastOfflineSeq() const;
    // Each device's place in the offline messages (DeviceCursors), and the highest number any
    // device has had.
    bool saveDeviceCursor(const QString &device, const DeviceCursors::Device &state);
    bool removeDeviceCursor(const QString &device);
    std::map<QString, DeviceCursors::Device> deviceCursors() const;
    bool setDeliveredThrough(quint64 seq);
    quint64 deliveredThrough() const;

    // Each device's XEP-0357 registrations (store_push.cpp); an empty list removes the device.
    bool savePushRegistrations(const QString &device,
                               const std::vector<PushRegistration> &registrations);
    PushRegistrations::Devices pushRegistrations() const;

    // Resumable sessions kept across a restart (store_sessions.cpp).
    bool writeSessions(const SessionWrites &writes);
    std::vector<StoredSession> savedSessions() const;

    // XEP-0484 FAST tokens, hashed (store_fast_tokens.cpp; StoreFastTokens serves them).
    std::vector<FastToken> fastTokens(const QString &device) const;
    bool putFastToken(const FastToken &token);
    bool removeFastToken(const QByteArray &key);
    int removeAllFastTokens(); // how many, -1 on failure

private:
    enum class Opening
    {
        Ok,
        Corrupt,
        Failed
    };
    Opening openFile(QString *error);
    bool moveAsideCorrupt(QString *aside, QString *error);
    bool migrate(QString *error);
    bool exec(QSqlQuery &query) const;
    bool exec(QSqlQuery &query, const QString &statement) const;
    bool finish(bool ownTransaction, bool ok);
    QString connectionName_;
    mutable QString lastError_;
    std::chrono::milliseconds busyTimeout_{2000};
    QSqlDatabase db_;
};

} // namespace xbnc
