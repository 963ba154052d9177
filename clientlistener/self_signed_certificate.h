#pragma once

#include <QString>

#include <optional>

namespace xbnc {

struct CertificatePaths
{
    QString certFile;
    QString keyFile;
};

// Clients check the listener's certificate against the JID's domain, so with no configured
// certificate xbnc makes its own: loads dataDir/xbnc-cert.pem + xbnc-key.pem, or generates them
// (EC P-256, SAN DNS:domain, 10 years) when absent, unreadable, not matching each other, close
// to expiry, or not covering domain. Creates dataDir (0700) if missing; the key file is 0600.
// Users pin the certificate (or its fingerprint) once, which is why a valid one is reused.
std::optional<CertificatePaths> ensureSelfSignedCertificate(const QString &dataDir,
                                                            const QString &domain, QString *error);

} // namespace xbnc
