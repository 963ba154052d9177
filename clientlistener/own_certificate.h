#pragma once

#include "certificate_authority.h"

#include <QDateTime>
#include <QString>
#include <QStringList>

#include <optional>

namespace xbnc {

// xbnc's own certificates in data_dir, when no cert= is configured (docs/CERTIFICATES.md): a CA
// whose name constraints permit only the account's domain and the bouncer's host names, which
// a device trusts once, and a short-lived leaf it signs, which xbnc renews by itself.
struct OwnCertificateRequest
{
    QString dataDir;
    QStringList names; // the account's domain first, then [listener] hostnames
    QDateTime now;     // injected, so tests can step past the renewal point
};

enum class OwnCertificateAction
{
    Keep,
    NewLeaf, // signed by the CA already there
    NewCa,   // and a leaf from it: every device must trust the new CA
};

struct OwnCertificate
{
    QString caFile;   // the CA certificate, for --export-ca
    QString certFile; // the leaf followed by the CA
    QString keyFile;  // the leaf's key
    OwnCertificateAction action = OwnCertificateAction::Keep;
    bool replacedCa = false; // NewCa where a usable CA for other names was there before
    QDateTime leafNotAfter;
};

inline constexpr int kOwnLeafValidityDays = 820; // Apple refuses more than 825
inline constexpr int kOwnCaValidityDays = 3653;  // ten years: one trust step per device
inline constexpr int kOwnRenewBeforeDays = 30;   // renewed this long before it expires

// What to do, given what the files hold (nullopt: missing or unusable), the names and the time.
OwnCertificateAction planOwnCertificate(const std::optional<CaFacts> &ca,
                                        const std::optional<LeafFacts> &leaf,
                                        const QStringList &names, const QDateTime &now);

// Reads data_dir's files, does what planOwnCertificate says, and returns the files to serve.
// The names must already be valid (certificateDnsName); creates data_dir owner-only if missing.
std::optional<OwnCertificate> ensureOwnCertificate(const OwnCertificateRequest &request,
                                                   QString *error);

} // namespace xbnc
