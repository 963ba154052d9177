#include "data_dir.h"

#include <QDir>
#include <QFileInfo>
#include <QLockFile>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcDataDir, "xbnc.data_dir")

namespace xbnc {

namespace {

constexpr QFileDevice::Permissions ownerOnly =
    QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner;
constexpr QFileDevice::Permissions groupOrOthers =
    QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup |
    QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther;

} // namespace

bool ensureOwnerOnlyDirectory(const QString &path, QString *error)
{
    const QFileInfo info(path);
    if (!info.exists()) {
        const QString absolute = info.absoluteFilePath();
        const QString parent = QFileInfo(absolute).absolutePath();
        if (!QDir().mkpath(parent) || !QDir().mkdir(absolute, ownerOnly)) {
            *error = QStringLiteral("cannot create data_dir %1").arg(path);
            return false;
        }
        return true;
    }
    if (!info.isDir()) {
        *error = QStringLiteral("data_dir %1 is not a directory").arg(path);
        return false;
    }
    if (info.permissions() & groupOrOthers) {
        if (!QFile::setPermissions(path, ownerOnly)) {
            *error = QStringLiteral("data_dir %1 is open to group or others and cannot be made "
                                    "owner-only; run: chmod 700 %1")
                         .arg(path);
            return false;
        }
        qCWarning(lcDataDir, "data_dir %s was open to group or others; made it owner-only (0700)",
                  qPrintable(path));
    }
    return true;
}

DataDir::DataDir() = default;
DataDir::~DataDir() = default;

bool DataDir::open(const QString &path, QString *error)
{
    if (!ensureOwnerOnlyDirectory(path, error))
        return false;
    auto lock = std::make_unique<QLockFile>(QDir(path).filePath(QLatin1String(lockFileName)));
    // Held for the whole run, however long: never treat our own lock as stale by age. A lock
    // left by a crashed xbnc is still taken over, because its process is gone.
    lock->setStaleLockTime(0);
    if (lock->tryLock(0)) {
        lock_ = std::move(lock);
        return true;
    }
    qint64 pid = 0;
    QString host;
    QString application;
    if (lock->error() == QLockFile::LockFailedError && lock->getLockInfo(&pid, &host, &application))
        *error = QStringLiteral("data_dir %1 is in use by another xbnc (pid %2); two instances "
                                "must not share one data_dir")
                     .arg(path)
                     .arg(pid);
    else
        *error = QStringLiteral("cannot lock data_dir %1 (%2)")
                     .arg(path, QDir(path).filePath(QLatin1String(lockFileName)));
    return false;
}

} // namespace xbnc
