#include "own_certificate.h"

#include "dns_name.h"
#include "private_file.h"

#include <QDir>
#include <QFile>

#include <algorithm>

namespace xbnc {

namespace {

const QString kCaName = QStringLiteral("xbnc-ca.pem");
const QString kCaKeyName = QStringLiteral("xbnc-ca-key.pem");
const QString kLeafName = QStringLiteral("xbnc-leaf.pem");
const QString kLeafKeyName = QStringLiteral("xbnc-leaf-key.pem");

// An hour of slack for clients whose clock runs behind.
constexpr qint64 kClockSlackSeconds = 3600;

QStringList sortedLower(const QStringList &names)
{
    QStringList result;
    for (const QString &name : names)
        result.append(name.toLower());
    result.sort();
    result.removeDuplicates();
    return result;
}

bool caCovers(const CaFacts &ca, const QStringList &names)
{
    return std::all_of(names.cbegin(), names.cend(), [&](const QString &name) {
        return std::any_of(ca.permittedNames.cbegin(), ca.permittedNames.cend(),
                           [&](const QString &subtree) { return dnsSubtreeCovers(subtree, name); });
    });
}

bool needsRenewal(const QDateTime &notAfter, const QDateTime &now)
{
    return notAfter <= now.addDays(kOwnRenewBeforeDays);
}

// An older xbnc that ran under umask 022 left its files readable by others; they are ours to
// keep private, so they are tightened rather than merely reported.
void tightenIfLoose(const QString &path)
{
    const QFileDevice::Permissions others = QFileDevice::ReadGroup | QFileDevice::WriteGroup |
                                            QFileDevice::ReadOther | QFileDevice::WriteOther;
    if (QFile::exists(path) && (QFile::permissions(path) & others))
        QFile::setPermissions(path, kOwnerOnly);
}

PemPair readPair(const QString &certFile, const QString &keyFile)
{
    return PemPair{readWholeFile(certFile), readWholeFile(keyFile)};
}

} // namespace

OwnCertificateAction planOwnCertificate(const std::optional<CaFacts> &ca,
                                        const std::optional<LeafFacts> &leaf,
                                        const QStringList &names, const QDateTime &now)
{
    // A CA is kept while it permits every name: dropping a host name does not make devices
    // trust a new one, as a CA that permits one name too many still cannot sign for others.
    if (!ca || !caCovers(*ca, names) || needsRenewal(ca->notAfter, now))
        return OwnCertificateAction::NewCa;
    // The leaf names exactly what is configured, so a dropped host name leaves it at once.
    if (!leaf || sortedLower(leaf->names) != sortedLower(names) ||
        needsRenewal(leaf->notAfter, now) || leaf->notBefore > now.addSecs(kClockSlackSeconds))
        return OwnCertificateAction::NewLeaf;
    return OwnCertificateAction::Keep;
}

std::optional<OwnCertificate> ensureOwnCertificate(const OwnCertificateRequest &request,
                                                   QString *error)
{
    for (const QString &name : request.names) {
        if (name.isEmpty() || certificateDnsName(name) != name) {
            if (error)
                *error = QStringLiteral("not a valid DNS name for a certificate: %1").arg(name);
            return std::nullopt;
        }
    }
    if (request.names.isEmpty()) {
        if (error)
            *error = QStringLiteral("no name for the certificate");
        return std::nullopt;
    }
    if (!ensurePrivateDirectory(request.dataDir, error))
        return std::nullopt;

    const QDir dir(request.dataDir);
    OwnCertificate result{dir.filePath(kCaName), dir.filePath(kLeafName),
                          dir.filePath(kLeafKeyName)};
    const QString caKeyFile = dir.filePath(kCaKeyName);
    for (const QString &path : {result.caFile, caKeyFile, result.certFile, result.keyFile})
        tightenIfLoose(path);
    PemPair ca = readPair(result.caFile, caKeyFile);
    const std::optional<CaFacts> caFacts = readCertificateAuthority(ca);
    const PemPair leaf = readPair(result.certFile, result.keyFile);
    std::optional<LeafFacts> leafFacts = readServerCertificate(leaf, ca.cert);
    result.action = planOwnCertificate(caFacts, leafFacts, request.names, request.now);

    const QDateTime notBefore = request.now.addSecs(-kClockSlackSeconds);
    if (result.action == OwnCertificateAction::NewCa) {
        std::optional<PemPair> made = makeCertificateAuthority(
            request.names, notBefore, request.now.addDays(kOwnCaValidityDays), error);
        // Key first: a crash between the two writes leaves a mismatched pair, which the next
        // start replaces, never a certificate without its key.
        if (!made || !replaceFile(caKeyFile, made->key, kOwnerOnly, error) ||
            !replaceFile(result.caFile, made->cert, kOwnerOnly, error))
            return std::nullopt;
        result.replacedCa = caFacts.has_value();
        ca = *made;
    }
    if (result.action != OwnCertificateAction::Keep) {
        const std::optional<CaFacts> signer = readCertificateAuthority(ca);
        if (!signer) {
            if (error)
                *error = QStringLiteral("the CA in %1 cannot be used").arg(result.caFile);
            return std::nullopt;
        }
        // A leaf never outlives its CA.
        const QDateTime notAfter =
            std::min(request.now.addDays(kOwnLeafValidityDays), signer->notAfter);
        std::optional<PemPair> made =
            signServerCertificate(ca, request.names, notBefore, notAfter, error);
        if (!made || !replaceFile(result.keyFile, made->key, kOwnerOnly, error) ||
            !replaceFile(result.certFile, made->cert + ca.cert, kOwnerOnly, error))
            return std::nullopt;
        leafFacts = readServerCertificate(*made, ca.cert);
    }
    if (!leafFacts) {
        if (error)
            *error = QStringLiteral("the certificate made in %1 cannot be read back")
                         .arg(request.dataDir);
        return std::nullopt;
    }
    result.leafNotAfter = leafFacts->notAfter;
    return result;
}

} // namespace xbnc
