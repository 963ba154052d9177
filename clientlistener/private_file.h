#pragma once

#include <QByteArray>
#include <QFileDevice>
#include <QString>

namespace xbnc {

inline constexpr QFileDevice::Permissions kOwnerOnly =
    QFileDevice::ReadOwner | QFileDevice::WriteOwner;

// Creates `dir` (and its parents) if missing; the last level is made owner-only from the start,
// since it holds keys and the database. False with *error when that fails.
bool ensurePrivateDirectory(const QString &dir, QString *error);

// Written beside `path` and renamed over it, so a crash never leaves half a PEM file; the
// temporary file is created with `permissions`, so a key is never readable by others.
bool replaceFile(const QString &path, const QByteArray &data, QFileDevice::Permissions permissions,
                 QString *error);

// The whole file, or empty when it cannot be read.
QByteArray readWholeFile(const QString &path);

} // namespace xbnc
