#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

#include <optional>

namespace xbnc {

// A certificate and its private key, both PEM.
struct PemPair
{
    QByteArray cert;
    QByteArray key;
};

// What xbnc needs to know of an existing CA to decide whether to keep it.
struct CaFacts
{
    QStringList permittedNames; // its name constraints' permitted DNS subtrees
    QDateTime notAfter;
};

// What xbnc needs to know of an existing leaf to decide whether to renew it.
struct LeafFacts
{
    QStringList names; // DNS SANs
    QDateTime notBefore;
    QDateTime notAfter;
};

// The X.509 work of xbnc's own certificates, with OpenSSL. Every key is ECDSA P-256 and every
// signature SHA-256: SCRAM's tls-server-end-point channel binding hashes the certificate with
// its signature's hash, which then stays SHA-256.

// A CA that may sign server certificates for `names` (DNS names, see certificateDnsName) and
// their subdomains only: critical name constraints, IP addresses excluded, pathlen 0.
std::optional<PemPair> makeCertificateAuthority(const QStringList &names,
                                                const QDateTime &notBefore,
                                                const QDateTime &notAfter, QString *error);

// A TLS server certificate for exactly `names` signed by `ca`. Does not check the names
// against the CA's constraints: verifiers do (and a test relies on this to make a bad leaf).
std::optional<PemPair> signServerCertificate(const PemPair &ca, const QStringList &names,
                                             const QDateTime &notBefore, const QDateTime &notAfter,
                                             QString *error);

// Facts of a CA whose key matches and which can sign; nullopt when it is unusable.
std::optional<CaFacts> readCertificateAuthority(const PemPair &ca);

// Facts of a leaf whose key matches and that `caCert` signed; nullopt otherwise. `leaf.cert` may
// hold the chain after the leaf.
std::optional<LeafFacts> readServerCertificate(const PemPair &leaf, const QByteArray &caCert);

// Whether a name constraint's permitted DNS subtree covers `name` (RFC 5280 §4.2.1.10).
bool dnsSubtreeCovers(const QString &subtree, const QString &name);

} // namespace xbnc
