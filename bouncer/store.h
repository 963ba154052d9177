#pragma once

#include <QDateTime>
#include <QSqlDatabase>
#include <QString>

namespace xbnc {

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

    // When the upstream connection last carried traffic: the point to resume room history from.
    QDateTime lastUpstreamActivity() const;
    void setLastUpstreamActivity(const QDateTime &when);

private:
    bool migrate(QString *error);
    QString connectionName_;
    QSqlDatabase db_;
};

} // namespace xbnc
