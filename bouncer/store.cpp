#include "store.h"

#include "data_dir.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QVariant>

#include <algorithm>

Q_LOGGING_CATEGORY(lcStore, "xbnc.store")

namespace xbnc {

namespace {

// SQLite's primary result codes (sqlite3.h), as Qt reports them in nativeErrorCode().
constexpr int sqliteBusy = 5;
constexpr int sqliteLocked = 6;
constexpr int sqliteCorrupt = 11;
constexpr int sqliteNotADatabase = 26;

// A database made by an older xbnc under a looser umask: it holds room passwords and history.
void tightenOlderFiles(const QString &file)
{
    const QFileDevice::Permissions loose = QFileDevice::ReadGroup | QFileDevice::WriteGroup |
                                           QFileDevice::ReadOther | QFileDevice::WriteOther;
    for (const char *suffix : {"", "-wal", "-shm"}) {
        const QString path = file + QLatin1String(suffix);
        if (QFileInfo::exists(path) && (QFile::permissions(path) & loose)) {
            QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
            qCWarning(lcStore, "%s was readable by group or others; made it owner-only (0600)",
                      qPrintable(path));
        }
    }
}

// Each entry moves the schema from version i to i+1. Append only.
const char *const migrations[] = {
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE rooms (jid TEXT PRIMARY KEY, nick TEXT NOT NULL, password TEXT NOT NULL,"
    " persistent INTEGER NOT NULL)",
    "CREATE TABLE room_log (id INTEGER PRIMARY KEY AUTOINCREMENT, room TEXT NOT NULL,"
    " time TEXT NOT NULL, stanza_id TEXT NOT NULL, xml BLOB NOT NULL)",
    "CREATE INDEX room_log_by_room ON room_log (room, id)",
    // For reading a room's log from a point in time (history since the newest logged message).
    // time is UTC ISO 8601 with milliseconds and Z, so text order is time order.
    "CREATE INDEX room_log_by_time ON room_log (room, time)",
    // seq is the hub's number (OutboundQueue::Entry::seq); rows go in order and leave as a prefix.
    "CREATE TABLE upstream_queue (seq INTEGER PRIMARY KEY, resource TEXT NOT NULL,"
    " queued TEXT NOT NULL, xml BLOB NOT NULL)",
    // AUTOINCREMENT although the hub gives the numbers: sqlite_sequence then remembers the highest
    // one after the rows are delivered and deleted, so numbers never repeat (per-device cursors).
    "CREATE TABLE offline_messages (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " received TEXT NOT NULL, xml BLOB NOT NULL)",
    // Rooms that removed the account (kick, ban, destroy): no autojoin back after a restart.
    "CREATE TABLE room_removals (jid TEXT PRIMARY KEY, removal TEXT NOT NULL)",
    // Per-device catch-up: each device's place in offline_messages (the resource it binds).
    "CREATE TABLE device_cursors (device TEXT PRIMARY KEY, cursor INTEGER NOT NULL,"
    " seen TEXT NOT NULL)",
    // Resumable sessions (XEP-0198) kept across a restart: counters, the hub's state, and the
    // stanzas not yet acknowledged, numbered by StreamManagement::State::serial.
    "CREATE TABLE saved_sessions (resume_id TEXT PRIMARY KEY, resource TEXT NOT NULL,"
    " bound_resource TEXT NOT NULL, resume_timeout INTEGER NOT NULL,"
    " hibernating_since TEXT NOT NULL, handled INTEGER NOT NULL, sent INTEGER NOT NULL,"
    " acked INTEGER NOT NULL, serial INTEGER NOT NULL, hub BLOB NOT NULL)",
    "CREATE TABLE saved_session_stanzas (resume_id TEXT NOT NULL, serial INTEGER NOT NULL,"
    " xml BLOB NOT NULL, PRIMARY KEY (resume_id, serial)) WITHOUT ROWID",
    // Who keeps the room's messages (Room::Archive): '' unknown, 'room' its own MAM, 'log' xbnc.
    "ALTER TABLE rooms ADD COLUMN archive TEXT NOT NULL DEFAULT ''",
    // XEP-0484 FAST tokens (store_fast_tokens.cpp): the SHA-256 of each, never the token.
    "CREATE TABLE fast_tokens (key BLOB PRIMARY KEY, device TEXT NOT NULL, issued TEXT NOT NULL,"
    " expires TEXT NOT NULL, last_count INTEGER NOT NULL, in_use INTEGER NOT NULL)",
    // XEP-0357 registrations per device (PushRegistrations::toElement), written whole.
    "CREATE TABLE push_registrations (device TEXT PRIMARY KEY, xml BLOB NOT NULL)",
};

// Qt binds a null QString as SQL NULL; the columns are NOT NULL and an empty value is meant.
QString text(const QString &value)
{
    return value.isNull() ? QStringLiteral("") : value;
}

// SQLite gives its -wal and -shm files the mode of the database file: made 0600 here, all three
// are owner-only whatever the umask.
bool createOwnerOnly(const QString &file, QString *error)
{
    if (QFileInfo::exists(file))
        return true;
    QFile created(file);
    if (!created.open(QIODevice::WriteOnly | QIODevice::NewOnly,
                      QFileDevice::ReadOwner | QFileDevice::WriteOwner)) {
        *error =
            QStringLiteral("cannot create the database %1: %2").arg(file, created.errorString());
        return false;
    }
    return true;
}

// An empty file is a new database to SQLite; anything else must start with its magic string.
bool hasSqliteHeader(const QString &file)
{
    QFile database(file);
    if (!database.open(QIODevice::ReadOnly))
        return true; // SQLite reports why it cannot be read
    static const QByteArray magic("SQLite format 3\0", 16);
    const QByteArray start = database.read(magic.size());
    return start.isEmpty() || start == magic;
}

// An offline message kept for one device only is stored inside this element, which names the
// device: such entries are rare, and the table keeps its shape.
const QString deviceWrapper = QStringLiteral("for-device");
const QString deviceWrapperNs = QStringLiteral("https://xbnc.invalid/catch-up");

QByteArray offlineXml(const OfflineMessages::Entry &entry)
{
    if (entry.device.isEmpty())
        return entry.stanza.toXml();
    Element wrapper(deviceWrapper, deviceWrapperNs);
    wrapper.setAttribute(QStringLiteral("device"), entry.device);
    wrapper.addChild(entry.stanza);
    return wrapper.toXml();
}

// The stanza and the device it is kept for (empty: every device).
std::pair<Element, QString> fromOfflineXml(const QByteArray &xml)
{
    Element stored = Element::fromXml(xml);
    if (stored.name() != deviceWrapper || stored.xmlns() != deviceWrapperNs)
        return {std::move(stored), QString()};
    const QString device = stored.attribute(u"device");
    for (Element &child : stored.children())
        if (!child.isText())
            return {std::move(child), device};
    return {Element(), device};
}

const QString deliveredThroughKey = QStringLiteral("catch_up/delivered_through");

QString archiveText(Room::Archive archive)
{
    switch (archive) {
    case Room::Archive::Room:
        return QStringLiteral("room");
    case Room::Archive::Log:
        return QStringLiteral("log");
    case Room::Archive::Unknown:
        break;
    }
    return QStringLiteral("");
}

// Anything else (a newer xbnc's value) is unknown: the next join asks the room again.
Room::Archive archiveFromText(const QString &text)
{
    if (text == u"room")
        return Room::Archive::Room;
    if (text == u"log")
        return Room::Archive::Log;
    return Room::Archive::Unknown;
}

} // namespace

Store::~Store()
{
    if (connectionName_.isEmpty())
        return;
    db_.close();
    db_ = QSqlDatabase();
    QSqlDatabase::removeDatabase(connectionName_);
}

bool Store::open(const QString &dataDir, QString *error)
{
    if (!ensureOwnerOnlyDirectory(dataDir, error))
        return false;
    const QString file = QDir(dataDir).filePath(QLatin1String(fileName));
    tightenOlderFiles(file);
    if (!createOwnerOnly(file, error))
        return false;
    connectionName_ = QStringLiteral("xbnc-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    db_ = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connectionName_);
    db_.setDatabaseName(file);
    db_.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(busyTimeout_.count()));
    // Garbage is recognised before SQLite opens the file: SQLite would read a -wal beside it and
    // delete it on close, and that journal may be what a recovery needs.
    Opening opening = Opening::Corrupt;
    if (hasSqliteHeader(file))
        opening = openFile(error);
    else
        *error = QStringLiteral("not an SQLite file");
    switch (opening) {
    case Opening::Ok:
        return migrate(error);
    case Opening::Failed:
        return false;
    case Opening::Corrupt:
        break;
    }
    const QString reason = *error;
    QString aside;
    if (!moveAsideCorrupt(&aside, error))
        return false;
    qCCritical(lcStore,
               "the database %s is damaged (%s); moved it aside to %s and starting with an empty "
               "one: rooms, room history and waiting stanzas from before are not restored",
               qPrintable(file), qPrintable(reason), qPrintable(aside));
    if (!createOwnerOnly(file, error) || openFile(error) != Opening::Ok)
        return false;
    return migrate(error);
}

Store::Opening Store::openFile(QString *error)
{
    const QString file = db_.databaseName();
    if (!db_.open()) {
        *error =
            QStringLiteral("cannot open the database %1: %2").arg(file, db_.lastError().text());
        return Opening::Failed;
    }
    // The first statements that read the file: one that is not a database fails here, not later.
    QSqlQuery query(db_);
    if (query.exec(QStringLiteral("SELECT count(*) FROM sqlite_master")) &&
        query.exec(QStringLiteral("PRAGMA journal_mode=WAL")) &&
        query.exec(QStringLiteral("PRAGMA synchronous=NORMAL")))
        return Opening::Ok;
    const QSqlError sqlError = query.lastError();
    const int code = sqlError.nativeErrorCode().toInt() & 0xff; // primary code of an extended one
    if (code == sqliteCorrupt || code == sqliteNotADatabase) {
        *error = sqlError.text();
        return Opening::Corrupt;
    }
    *error = code == sqliteBusy || code == sqliteLocked
                 ? QStringLiteral("the database %1 is locked by another process: %2")
                       .arg(file, sqlError.text())
                 : QStringLiteral("cannot read the database %1: %2").arg(file, sqlError.text());
    db_.close();
    return Opening::Failed;
}

bool Store::moveAsideCorrupt(QString *aside, QString *error)
{
    db_.close();
    const QString file = db_.databaseName();
    const QString stamp =
        QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMddTHHmmssZ"));
    *aside = file + QStringLiteral(".corrupt-") + stamp;
    for (int n = 2; QFileInfo::exists(*aside); ++n)
        *aside = file + QStringLiteral(".corrupt-") + stamp + u'-' + QString::number(n);
    // The -wal and -shm files go along: a journal left beside a fresh database would be replayed
    // into it. Named as SQLite pairs them, so the copy can be opened for recovery as it is.
    for (const char *suffix : {"", "-wal", "-shm"}) {
        const QString from = file + QLatin1String(suffix);
        const QString to = *aside + QLatin1String(suffix);
        if (QFileInfo::exists(from) && !QFile::rename(from, to)) {
            *error = QStringLiteral("the database %1 is damaged and cannot be moved aside to %2")
                         .arg(from, to);
            return false;
        }
    }
    return true;
}

bool Store::setPageLimit(int pages)
{
    QSqlQuery query(db_);
    return exec(query, QStringLiteral("PRAGMA max_page_count = %1").arg(pages));
}

bool Store::exec(QSqlQuery &query) const
{
    if (query.exec())
        return true;
    lastError_ = query.lastError().text();
    return false;
}

bool Store::exec(QSqlQuery &query, const QString &statement) const
{
    if (query.exec(statement))
        return true;
    lastError_ = query.lastError().text();
    return false;
}

// Commits what went well: a commit itself can fail on a full disk (the journal grows there).
bool Store::finish(bool ownTransaction, bool ok)
{
    if (!ownTransaction)
        return ok;
    if (ok && db_.commit())
        return true;
    if (ok)
        lastError_ = db_.lastError().text();
    db_.rollback();
    return false;
}

int Store::schemaVersion() const
{
    QSqlQuery query(db_);
    if (query.exec(QStringLiteral("PRAGMA user_version")) && query.next())
        return query.value(0).toInt();
    return -1;
}

bool Store::migrate(QString *error)
{
    const int current = schemaVersion();
    const int target = int(std::size(migrations));
    if (current > target) {
        *error = QStringLiteral("the database is from a newer xbnc (schema %1, this one knows %2)")
                     .arg(current)
                     .arg(target);
        return false;
    }
    for (int version = current; version < target; ++version) {
        db_.transaction();
        QSqlQuery query(db_);
        if (!query.exec(QString::fromLatin1(migrations[version])) ||
            !query.exec(QStringLiteral("PRAGMA user_version = %1").arg(version + 1))) {
            *error = QStringLiteral("database migration %1 failed: %2")
                         .arg(version + 1)
                         .arg(query.lastError().text());
            db_.rollback();
            return false;
        }
        db_.commit();
    }
    return true;
}

QString Store::value(const QString &key, const QString &fallback) const
{
    QSqlQuery query(db_);
    query.prepare(QStringLiteral("SELECT value FROM settings WHERE key = ?"));
    query.addBindValue(key);
    if (query.exec() && query.next())
        return query.value(0).toString();
    return fallback;
}

bool Store::setValue(const QString &key, const QString &value)
{
    QSqlQuery query(db_);
    query.prepare(QStringLiteral("INSERT INTO settings (key, value) VALUES (?, ?) "
                                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
    query.addBindValue(key);
    query.addBindValue(text(value));
    return exec(query);
}

std::vector<StoredRoom> Store::rooms() const
{
    std::vector<StoredRoom> result;
    QSqlQuery query(db_);
    if (!query.exec(QStringLiteral(
            "SELECT jid, nick, password, persistent, archive FROM rooms ORDER BY jid")))
        return result;
    while (query.next())
        result.push_back(StoredRoom{query.value(0).toString(), query.value(1).toString(),
                                    query.value(2).toString(), query.value(3).toBool(),
                                    archiveFromText(query.value(4).toString())});
    return result;
}

bool Store::saveRoom(const StoredRoom &room)
{
    QSqlQuery query(db_);
    query.prepare(QStringLiteral("INSERT INTO rooms (jid, nick, password, persistent, archive) "
                                 "VALUES (?, ?, ?, ?, ?) ON CONFLICT(jid) DO UPDATE SET "
                                 "nick = excluded.nick, password = excluded.password, "
                                 "persistent = excluded.persistent, archive = excluded.archive"));
    query.addBindValue(text(room.jid));
    query.addBindValue(text(room.nick));
    query.addBindValue(text(room.password));
    query.addBindValue(room.persistent ? 1 : 0);
    query.addBindValue(archiveText(room.archive));
    return exec(query);
}

bool Store::setRoomRemoval(const QString &jid, const QString &removal)
{
    QSqlQuery query(db_);
    if (removal.isEmpty()) {
        query.prepare(QStringLiteral("DELETE FROM room_removals WHERE jid = ?"));
        query.addBindValue(jid);
    } else {
        query.prepare(QStringLiteral("INSERT INTO room_removals (jid, removal) VALUES (?, ?) "
                                     "ON CONFLICT(jid) DO UPDATE SET removal = excluded.removal"));
        query.addBindValue(jid);
        query.addBindValue(removal);
    }
    return exec(query);
}

std::vector<std::pair<QString, QString>> Store::roomRemovals() const
{
    std::vector<std::pair<QString, QString>> result;
    QSqlQuery query(db_);
    if (!query.exec(QStringLiteral("SELECT jid, removal FROM room_removals ORDER BY jid")))
        return result;
    while (query.next())
        result.emplace_back(query.value(0).toString(), query.value(1).toString());
    return result;
}

bool Store::removeRoom(const QString &jid)
{
    // One transaction: a room must not survive without its log, nor a log without its room.
    const bool own = db_.transaction();
    QSqlQuery query(db_);
    query.prepare(QStringLiteral("DELETE FROM rooms WHERE jid = ?"));
    query.addBindValue(jid);
    QSqlQuery log(db_);
    log.prepare(QStringLiteral("DELETE FROM room_log WHERE room = ?"));
    log.addBindValue(jid);
    const bool ok = exec(query) && exec(log);
    return finish(own, ok);
}

bool Store::appendRoomMessage(const QString &roomJid, const RoomLog::Entry &entry, int capacity)
{
    return appendRoomMessages({{roomJid, entry}}, capacity);
}

bool Store::appendRoomMessages(const std::vector<std::pair<QString, RoomLog::Entry>> &messages,
                               int capacity)
{
    if (messages.empty())
        return true;
    // One transaction for the whole batch: a commit (a disk sync) per message would cap a busy
    // room at a few thousand messages per second. Each room is trimmed once, after its inserts;
    // through room_log_by_room the trim walks at most `capacity` index entries.
    const bool own = db_.transaction();
    QSqlQuery insert(db_);
    insert.prepare(
        QStringLiteral("INSERT INTO room_log (room, time, stanza_id, xml) VALUES (?, ?, ?, ?)"));
    bool ok = true;
    QSet<QString> rooms;
    for (const auto &[roomJid, entry] : messages) {
        insert.bindValue(0, text(roomJid));
        insert.bindValue(1, entry.time.toUTC().toString(Qt::ISODateWithMs));
        insert.bindValue(2, text(entry.stanzaId));
        insert.bindValue(3, entry.message.toXml());
        ok = ok && exec(insert);
        rooms.insert(roomJid);
    }
    QSqlQuery trim(db_);
    trim.prepare(QStringLiteral("DELETE FROM room_log WHERE room = ? AND id <= "
                                "(SELECT id FROM room_log WHERE room = ? ORDER BY id DESC "
                                "LIMIT 1 OFFSET ?)"));
    for (const QString &roomJid : std::as_const(rooms)) {
        trim.bindValue(0, text(roomJid));
        trim.bindValue(1, text(roomJid));
        trim.bindValue(2, std::max(0, capacity));
        ok = ok && exec(trim);
    }
    return finish(own, ok);
}

std::vector<RoomLog::Entry> Store::roomMessages(const QString &roomJid) const
{
    std::vector<RoomLog::Entry> result;
    QSqlQuery query(db_);
    query.prepare(
        QStringLiteral("SELECT time, stanza_id, xml FROM room_log WHERE room = ? ORDER BY id"));
    query.addBindValue(roomJid);
    if (!query.exec())
        return result;
    while (query.next()) {
        Element message = Element::fromXml(query.value(2).toByteArray());
        if (message.isNull())
            continue; // never written by xbnc; skip rather than fail the whole room
        result.push_back(RoomLog::Entry{
            std::move(message), QDateTime::fromString(query.value(0).toString(), Qt::ISODateWithMs),
            query.value(1).toString()});
    }
    return result;
}

// ---------------------------------------------------------------- nothing lost

bool Store::appendQueued(const OutboundQueue::Entry &entry)
{
    QSqlQuery query(db_);
    query.prepare(QStringLiteral(
        "INSERT INTO upstream_queue (seq, resource, queued, xml) VALUES (?, ?, ?, ?)"));
    query.addBindValue(qint64(entry.seq));
    query.addBindValue(text(entry.resource));
    query.addBindValue(entry.queued.toUTC().toString(Qt::ISODateWithMs));
    query.addBindValue(entry.stanza.toXml());
    return exec(query);
}

bool Store::removeQueued(quint64 throughSeq)
{
    QSqlQuery query(db_);
    query.prepare(QStringLiteral("DELETE FROM upstream_queue WHERE seq <= ?"));
    query.addBindValue(qint64(throughSeq));
    return exec(query);
}

std::vector<OutboundQueue::Entry> Store::queued() const
{
    std::vector<OutboundQueue::Entry> result;
    QSqlQuery query(db_);
    if (!query.exec(
            QStringLiteral("SELECT seq, resource, queued, xml FROM upstream_queue ORDER BY seq")))
        return result;
    while (query.next()) {
        Element stanza = Element::fromXml(query.value(3).toByteArray());
        if (stanza.isNull())
            continue;
        result.push_back(OutboundQueue::Entry{
            quint64(query.value(0).toLongLong()), query.value(1).toString(), std::move(stanza),
            QDateTime::fromString(query.value(2).toString(), Qt::ISODateWithMs)});
    }
    return result;
}

bool Store::appendOfflineMessage(const OfflineMessages::Entry &entry)
{
    QSqlQuery query(db_);
    query.prepare(
        QStringLiteral("INSERT INTO offline_messages (seq, received, xml) VALUES (?, ?, ?)"));
    query.addBindValue(qint64(entry.seq));
    query.addBindValue(entry.received.toUTC().toString(Qt::ISODateWithMs));
    query.addBindValue(offlineXml(entry));
    return exec(query);
}

bool Store::removeOfflineMessages(quint64 throughSeq)
{
    QSqlQuery query(db_);
    query.prepare(QStringLiteral("DELETE FROM offline_messages WHERE seq <= ?"));
    query.addBindValue(qint64(throughSeq));
    return exec(query);
}

std::vector<OfflineMessages::Entry> Store::offlineMessages() const
{
    std::vector<OfflineMessages::Entry> result;
    QSqlQuery query(db_);
    if (!query.exec(QStringLiteral("SELECT seq, received, xml FROM offline_messages ORDER BY seq")))
        return result;
    while (query.next()) {
        auto [stanza, device] = fromOfflineXml(query.value(2).toByteArray());
        if (stanza.isNull())
            continue;
        result.push_back(OfflineMessages::Entry{
            quint64(query.value(0).toLongLong()), std::move(stanza),
            QDateTime::fromString(query.value(1).toString(), Qt::ISODateWithMs), device});
    }
    return result;
}

quint64 Store::lastOfflineSeq() const
{
    QSqlQuery query(db_);
    if (query.exec(
            QStringLiteral("SELECT seq FROM sqlite_sequence WHERE name = 'offline_messages'")) &&
        query.next())
        return quint64(query.value(0).toLongLong());
    return 0;
}

bool Store::saveDeviceCursor(const QString &device, const DeviceCursors::Device &state)
{
    QSqlQuery query(db_);
    query.prepare(
        QStringLiteral("INSERT INTO device_cursors (device, cursor, seen) VALUES (?, ?, ?)"
                       " ON CONFLICT(device) DO UPDATE SET cursor = excluded.cursor,"
                       " seen = excluded.seen"));
    query.addBindValue(text(device));
    query.addBindValue(qint64(state.cursor));
    query.addBindValue(state.seen.toUTC().toString(Qt::ISODateWithMs));
    return exec(query);
}

bool Store::removeDeviceCursor(const QString &device)
{
    QSqlQuery query(db_);
    query.prepare(QStringLiteral("DELETE FROM device_cursors WHERE device = ?"));
    query.addBindValue(text(device));
    return exec(query);
}

std::map<QString, DeviceCursors::Device> Store::deviceCursors() const
{
    std::map<QString, DeviceCursors::Device> result;
    QSqlQuery query(db_);
    if (!query.exec(QStringLiteral("SELECT device, cursor, seen FROM device_cursors")))
        return result;
    while (query.next())
        result[query.value(0).toString()] = DeviceCursors::Device{
            quint64(query.value(1).toLongLong()),
            QDateTime::fromString(query.value(2).toString(), Qt::ISODateWithMs)};
    return result;
}

bool Store::setDeliveredThrough(quint64 seq)
{
    return setValue(deliveredThroughKey, QString::number(seq));
}

quint64 Store::deliveredThrough() const
{
    return value(deliveredThroughKey, QStringLiteral("0")).toULongLong();
}

} // namespace xbnc
