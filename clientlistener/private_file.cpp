#include "private_file.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <filesystem>

namespace xbnc {

bool ensurePrivateDirectory(const QString &dir, QString *error)
{
    if (QFileInfo(dir).isDir())
        return true;
    const QString absolute = QFileInfo(dir).absoluteFilePath();
    if (QDir().mkpath(QFileInfo(absolute).absolutePath()) &&
        QDir().mkdir(absolute, kOwnerOnly | QFileDevice::ExeOwner))
        return true;
    if (error)
        *error = QStringLiteral("cannot create data directory %1").arg(dir);
    return false;
}

bool replaceFile(const QString &path, const QByteArray &data, QFileDevice::Permissions permissions,
                 QString *error)
{
    const QString temporary = path + QStringLiteral(".tmp");
    QFile::remove(temporary);
    QFile file(temporary);
    if (!file.open(QIODevice::WriteOnly | QIODevice::NewOnly, permissions) ||
        file.write(data) != data.size() || !file.flush()) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        file.remove();
        return false;
    }
    file.close();
    std::error_code code;
    std::filesystem::rename(QFile::encodeName(temporary).toStdString(),
                            QFile::encodeName(path).toStdString(), code);
    if (code) {
        if (error)
            *error = QStringLiteral("cannot replace %1: %2")
                         .arg(path, QString::fromStdString(code.message()));
        QFile::remove(temporary);
        return false;
    }
    return true;
}

QByteArray readWholeFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

} // namespace xbnc
