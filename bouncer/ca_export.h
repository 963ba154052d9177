#pragma once

#include "listener_config.h"

#include <QByteArray>
#include <QSslCertificate>
#include <QString>

#include <optional>

namespace xbnc {

// `xbnc --export-ca FILE`: what a device needs to trust xbnc's own CA (docs/CERTIFICATES.md).
struct ExportedCa
{
    QString pemFile;
    QString profileFile;
    QString fingerprint; // SHA-256 of the CA, "AB:CD:…"
};

// Where the profile goes beside `pemFile`: its .pem/.crt/.cer ending replaced by
// .mobileconfig, or .mobileconfig added.
QString profilePathFor(const QString &pemFile);

// An Apple configuration profile (plist XML) with one com.apple.security.root payload holding
// `ca`, for iOS and macOS. Its UUIDs derive from the CA's fingerprint, so exporting the same CA
// twice gives the same profile, and a device sees a new CA as a new profile.
QByteArray appleTrustProfile(const QSslCertificate &ca, const QString &displayName);

// Makes sure the own CA exists (as a start of xbnc would), then writes it as PEM to `pemFile`
// and the profile beside it, both readable by all: a CA certificate holds nothing secret.
std::optional<ExportedCa> exportOwnCa(const ListenerConfig &listener, const QString &pemFile,
                                      QString *error);

} // namespace xbnc
