#include "store.h"

#include <QDir>
#include <QFile>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QVariant>

namespace xbnc {

namespace {

// Each entry moves the schema from version i to i+1. Append only.
const char *const migrations[] = {
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
};

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
    if (!QDir().mkpath(dataDir)) {
        *error = QStringLiteral("cannot create data_dir %1").arg(dataDir);
        return false;
    }
    QFile::setPermissions(dataDir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    connectionName_ = QStringLiteral("xbnc-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    db_ = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connectionName_);
    db_.setDatabaseName(QDir(dataDir).filePath(QStringLiteral("xbnc.sqlite")));
    if (!db_.open()) {
        *error = QStringLiteral("cannot open the database in %1: %2")
                     .arg(dataDir, db_.lastError().text());
        return false;
    }
    QSqlQuery pragma(db_);
    pragma.exec(QStringLiteral("PRAGMA journal_mode=WAL"));
    pragma.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
    return migrate(error);
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
    query.addBindValue(value);
    return query.exec();
}

QDateTime Store::lastUpstreamActivity() const
{
    return QDateTime::fromString(value(QStringLiteral("upstream.last_activity")),
                                 Qt::ISODateWithMs);
}

void Store::setLastUpstreamActivity(const QDateTime &when)
{
    setValue(QStringLiteral("upstream.last_activity"), when.toUTC().toString(Qt::ISODateWithMs));
}

} // namespace xbnc
