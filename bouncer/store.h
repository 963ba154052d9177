#pragma once

#include "offline_messages.h"
#include "outbound_queue.h"
#include "room_log.h"

#include <QDateTime>
#include <QSqlDatabase>
#include <QString>

#include <utility>
#include <vector>

namespace xbnc {

// A room the account is in, as kept across restarts.
struct StoredRoom
{
    QString jid;
    QString nick;
    QString password;
    bool persistent = false;
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

    bool open(const QString &dataDir, QString *error);
    bool isOpen() const { return db_.isOpen(); }
    int schemaVersion() const;

    QString value(const QString &key, const QString &fallback = {}) const;
    bool setValue(const QString &key, const QString &value);

    std::vector<StoredRoom> rooms() const;
    bool saveRoom(const StoredRoom &room);
    bool removeRoom(const QString &jid); // and its log
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

private:
    bool migrate(QString *error);
    QString connectionName_;
    QSqlDatabase db_;
};

} // namespace xbnc
