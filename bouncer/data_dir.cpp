#include "data_dir.h"

#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

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

DataDir::~DataDir()
{
    if (lockFd_ >= 0)
        ::close(lockFd_); // releases the lock; the file stays, an unlink could race a new start
}

bool DataDir::open(const QString &path, QString *error)
{
    if (!ensureOwnerOnlyDirectory(path, error))
        return false;
    const QString lockPath = QDir(path).filePath(QLatin1String(lockFileName));
    const int fd = ::open(QFile::encodeName(lockPath).constData(), O_RDWR | O_CREAT | O_CLOEXEC,
                          S_IRUSR | S_IWUSR);
    if (fd < 0) {
        *error = QStringLiteral("cannot open %1: %2")
                     .arg(lockPath, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int reason = errno;
        char holder[32] = {};
        const ssize_t n = ::pread(fd, holder, sizeof holder - 1, 0);
        ::close(fd);
        const QString pid = QString::fromLatin1(holder, std::max<ssize_t>(n, 0)).trimmed();
        if (reason == EWOULDBLOCK)
            *error = QStringLiteral("data_dir %1 is in use by another xbnc (pid %2); two "
                                    "instances must not share one data_dir")
                         .arg(path, pid.isEmpty() ? QStringLiteral("unknown") : pid);
        else
            *error = QStringLiteral("cannot lock %1: %2")
                         .arg(lockPath, QString::fromLocal8Bit(std::strerror(reason)));
        return false;
    }
    // For the message a second instance prints, and for a person looking at the directory.
    const QByteArray pid = QByteArray::number(qint64(::getpid())) + '\n';
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.constData(), size_t(pid.size()), 0) < 0)
        qCWarning(lcDataDir, "cannot write the pid into %s: %s", qPrintable(lockPath),
                  std::strerror(errno));
    lockFd_ = fd;
    return true;
}

} // namespace xbnc
