#pragma once

#include <QString>
#include <QStringList>

// A fresh self-signed certificate (EC P-256, two days) for `names` (the first one also as CN),
// written as PEM to certificatePath and keyPath. Each one is unique, so a verified handshake
// against it proves which server answered. On failure *error has openssl's output.
bool makeTestCertificate(const QStringList &names, const QString &certificatePath,
                         const QString &keyPath, QString *error);
