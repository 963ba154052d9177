#include "ca_export.h"

#include "own_certificate.h"
#include "private_file.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QRegularExpression>
#include <QUuid>

namespace xbnc {

namespace {

constexpr QFileDevice::Permissions kReadableByAll =
    kOwnerOnly | QFileDevice::ReadGroup | QFileDevice::ReadOther;

// The namespace of every UUID in xbnc's profiles (RFC 4122 §4.3, name-based with SHA-1).
const QUuid kProfileNamespace = QUuid::createUuidV5(QUuid(), QByteArrayLiteral("xbnc CA profile"));

QString uuidFor(const QByteArray &fingerprint, const char *role)
{
    return QUuid::createUuidV5(kProfileNamespace, fingerprint + '/' + role)
        .toString(QUuid::WithoutBraces)
        .toUpper();
}

QString entry(const QString &key, const QString &type, const QString &value)
{
    return QStringLiteral("<key>%1</key><%2>%3</%2>\n").arg(key, type, value.toHtmlEscaped());
}

bool writeReadableFile(const QString &path, const QByteArray &data, QString *error)
{
    // The process's umask is 077 (main.cpp), which open() applies; set the mode afterwards.
    if (!replaceFile(path, data, kReadableByAll, error))
        return false;
    QFile::setPermissions(path, kReadableByAll);
    return true;
}

} // namespace

QString profilePathFor(const QString &pemFile)
{
    static const QRegularExpression certificateSuffix(QStringLiteral("\\.(pem|crt|cer)$"),
                                                      QRegularExpression::CaseInsensitiveOption);
    QString path = pemFile;
    path.remove(certificateSuffix);
    return path + QStringLiteral(".mobileconfig");
}

QByteArray appleTrustProfile(const QSslCertificate &ca, const QString &displayName)
{
    const QByteArray fingerprint = ca.digest(QCryptographicHash::Sha256).toHex();
    const QString identifier =
        QStringLiteral("xbnc.ca.") + QString::fromLatin1(fingerprint.left(16));
    const QString payload =
        entry(QStringLiteral("PayloadCertificateFileName"), QStringLiteral("string"),
              QStringLiteral("xbnc-ca.cer")) +
        entry(QStringLiteral("PayloadContent"), QStringLiteral("data"),
              QString::fromLatin1(ca.toDer().toBase64())) +
        entry(QStringLiteral("PayloadDescription"), QStringLiteral("string"),
              QStringLiteral("Trusts xbnc's CA, which may only vouch for the names it was made "
                             "for (X.509 name constraints).")) +
        entry(QStringLiteral("PayloadDisplayName"), QStringLiteral("string"), displayName) +
        entry(QStringLiteral("PayloadIdentifier"), QStringLiteral("string"),
              identifier + QStringLiteral(".root")) +
        entry(QStringLiteral("PayloadType"), QStringLiteral("string"),
              QStringLiteral("com.apple.security.root")) +
        entry(QStringLiteral("PayloadUUID"), QStringLiteral("string"),
              uuidFor(fingerprint, "root")) +
        entry(QStringLiteral("PayloadVersion"), QStringLiteral("integer"), QStringLiteral("1"));
    const QString profile =
        QStringLiteral("<key>PayloadContent</key>\n<array>\n<dict>\n") + payload +
        QStringLiteral("</dict>\n</array>\n") +
        entry(QStringLiteral("PayloadDisplayName"), QStringLiteral("string"), displayName) +
        entry(QStringLiteral("PayloadIdentifier"), QStringLiteral("string"), identifier) +
        entry(QStringLiteral("PayloadType"), QStringLiteral("string"),
              QStringLiteral("Configuration")) +
        entry(QStringLiteral("PayloadUUID"), QStringLiteral("string"),
              uuidFor(fingerprint, "profile")) +
        entry(QStringLiteral("PayloadVersion"), QStringLiteral("integer"), QStringLiteral("1"));
    return QByteArrayLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                             "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
                             "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
                             "<plist version=\"1.0\">\n<dict>\n") +
           profile.toUtf8() + QByteArrayLiteral("</dict>\n</plist>\n");
}

std::optional<ExportedCa> exportOwnCa(const ListenerConfig &listener, const QString &pemFile,
                                      QString *error)
{
    const std::optional<OwnCertificate> own = ensureOwnCertificate(
        {listener.dataDir, listener.certificateNames(), QDateTime::currentDateTimeUtc()}, error);
    if (!own)
        return std::nullopt;
    const QByteArray pem = readWholeFile(own->caFile);
    const QSslCertificate ca(pem, QSsl::Pem);
    if (ca.isNull()) {
        *error = QStringLiteral("cannot read the CA in %1").arg(own->caFile);
        return std::nullopt;
    }
    ExportedCa exported{
        pemFile, profilePathFor(pemFile),
        QString::fromLatin1(ca.digest(QCryptographicHash::Sha256).toHex(':').toUpper())};
    const QString displayName = QStringLiteral("xbnc CA for %1").arg(listener.domain);
    if (!writeReadableFile(exported.pemFile, pem, error) ||
        !writeReadableFile(exported.profileFile, appleTrustProfile(ca, displayName), error))
        return std::nullopt;
    return exported;
}

} // namespace xbnc
