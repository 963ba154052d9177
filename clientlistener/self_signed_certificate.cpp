#include "self_signed_certificate.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QSslCertificate>
#include <QSslKey>
#include <QUrl>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <filesystem>
#include <memory>

namespace xbnc {

namespace {

const QString kCertName = QStringLiteral("xbnc-cert.pem");
const QString kKeyName = QStringLiteral("xbnc-key.pem");
constexpr int kValidityDays = 3653; // ten years, leap days included
// Regenerate this long before expiry, so a restart never lands on an expired certificate.
constexpr int kRenewBeforeDays = 30;

template <auto Free> struct OpenSslDeleter
{
    template <typename T> void operator()(T *p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpenSslDeleter<GENERAL_NAME_free>>;
using Ia5Ptr = std::unique_ptr<ASN1_IA5STRING, OpenSslDeleter<ASN1_IA5STRING_free>>;
using BasicConstraintsPtr =
    std::unique_ptr<BASIC_CONSTRAINTS, OpenSslDeleter<BASIC_CONSTRAINTS_free>>;
using KeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, OpenSslDeleter<EXTENDED_KEY_USAGE_free>>;

// Sets *error (when asked for) to what failed plus OpenSSL's most recent reason, and clears
// the rest of OpenSSL's thread-local error queue so it does not leak into later TLS calls.
void setError(QString *error, const QString &what)
{
    char reason[256] = {};
    const unsigned long code = ERR_get_error();
    if (code != 0)
        ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    if (error)
        *error = code != 0 ? what + QStringLiteral(": ") + QString::fromLatin1(reason) : what;
}

// The name as it must appear in a DNS SAN: IDNs as A-labels (RFC 6125 §6.4.2), lower case.
// Anything but LDH and dots is refused so that no odd string ends up inside a certificate.
QString dnsName(const QString &domain)
{
    const QString ace = QString::fromLatin1(QUrl::toAce(domain)).toLower();
    if (ace.isEmpty() || ace.startsWith(u'.') || ace.endsWith(u'.'))
        return {};
    for (const QChar c : ace) {
        if (!(c.isDigit() || (c >= u'a' && c <= u'z') || c == u'-' || c == u'.'))
            return {};
    }
    return ace;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

BioPtr memoryBio(const QByteArray &data)
{
    return BioPtr(BIO_new_mem_buf(data.constData(), int(data.size())));
}

QByteArray bioContents(BIO *bio)
{
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return size > 0 ? QByteArray(data, size) : QByteArray();
}

// Whether the private key belongs to the certificate; Qt has no API for this, OpenSSL does.
bool keyMatchesCertificate(const QByteArray &certPem, const QByteArray &keyPem)
{
    BioPtr certBio = memoryBio(certPem);
    BioPtr keyBio = memoryBio(keyPem);
    if (!certBio || !keyBio)
        return false;
    X509Ptr cert(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr));
    PkeyPtr key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
    const bool matches = cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
    ERR_clear_error();
    return matches;
}

// The existing pair is reused only if the listener can load it exactly as it will at
// start-up (through Qt), it names the domain, and it has time left.
bool usable(const QString &certFile, const QString &keyFile, const QString &name)
{
    const QByteArray certPem = readFile(certFile);
    const QByteArray keyPem = readFile(keyFile);
    if (certPem.isEmpty() || keyPem.isEmpty())
        return false;
    const QSslCertificate cert(certPem, QSsl::Pem);
    if (cert.isNull() || QSslKey(keyPem, QSsl::Ec, QSsl::Pem, QSsl::PrivateKey).isNull())
        return false;
    const QDateTime renewAt = QDateTime::currentDateTimeUtc().addDays(kRenewBeforeDays);
    if (cert.expiryDate() <= renewAt)
        return false;
    const QStringList names = cert.subjectAlternativeNames().values(QSsl::DnsEntry);
    const bool covered = std::any_of(names.cbegin(), names.cend(), [&](const QString &san) {
        return san.compare(name, Qt::CaseInsensitive) == 0;
    });
    return covered && keyMatchesCertificate(certPem, keyPem);
}

// A random positive 159-bit serial (RFC 5280 §4.1.2.2: positive, at most 20 octets), so two
// generated certificates never share issuer + serial in a client's pinning store.
bool setRandomSerial(X509 *cert)
{
    unsigned char bytes[20];
    QRandomGenerator::system()->generate(std::begin(bytes), std::end(bytes));
    bytes[0] = (bytes[0] & 0x7f) | 0x40; // positive, and never zero
    BignumPtr serial(BN_bin2bn(bytes, sizeof bytes, nullptr));
    return serial && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr;
}

bool addExtensions(X509 *cert, const QByteArray &name)
{
    GeneralNamesPtr names(GENERAL_NAMES_new());
    GeneralNamePtr dns(GENERAL_NAME_new());
    Ia5Ptr value(ASN1_IA5STRING_new());
    if (!names || !dns || !value || !ASN1_STRING_set(value.get(), name.constData(), name.size()))
        return false;
    GENERAL_NAME_set0_value(dns.get(), GEN_DNS, value.release());
    if (!sk_GENERAL_NAME_push(names.get(), dns.get()))
        return false;
    dns.release(); // now owned by names
    if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1)
        return false;

    // Critical, as RFC 5280 §4.2.1.9 asks: this key must never sign other certificates.
    BasicConstraintsPtr constraints(BASIC_CONSTRAINTS_new());
    if (!constraints)
        return false;
    constraints->ca = 0;
    if (X509_add1_ext_i2d(cert, NID_basic_constraints, constraints.get(), 1, X509V3_ADD_DEFAULT) !=
        1)
        return false;

    KeyUsagePtr usage(sk_ASN1_OBJECT_new_null());
    if (!usage || !sk_ASN1_OBJECT_push(usage.get(), OBJ_nid2obj(NID_server_auth)))
        return false;
    return X509_add1_ext_i2d(cert, NID_ext_key_usage, usage.get(), 0, X509V3_ADD_DEFAULT) == 1;
}

struct PemPair
{
    QByteArray cert;
    QByteArray key;
};

std::optional<PemPair> generate(const QString &name, QString *error)
{
    // P-256: small, fast, and accepted by every TLS stack xbnc's clients use.
    PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    X509Ptr cert(X509_new());
    if (!key || !cert) {
        setError(error, QStringLiteral("cannot generate a key"));
        return std::nullopt;
    }
    const QByteArray ascii = name.toLatin1();
    X509_NAME *subject = X509_get_subject_name(cert.get());
    // An hour of slack for clients whose clock runs behind.
    const bool built =
        X509_set_version(cert.get(), X509_VERSION_3) == 1 && setRandomSerial(cert.get()) &&
        X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
        X509_time_adj_ex(X509_getm_notAfter(cert.get()), kValidityDays, 0, nullptr) != nullptr &&
        X509_set_pubkey(cert.get(), key.get()) == 1 &&
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char *>(ascii.constData()),
                                   int(ascii.size()), -1, 0) == 1 &&
        X509_set_issuer_name(cert.get(), subject) == 1 && addExtensions(cert.get(), ascii) &&
        X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
    if (!built) {
        setError(error, QStringLiteral("cannot build the certificate"));
        return std::nullopt;
    }

    BioPtr certBio(BIO_new(BIO_s_mem()));
    BioPtr keyBio(BIO_new(BIO_s_mem()));
    if (!certBio || !keyBio || PEM_write_bio_X509(certBio.get(), cert.get()) != 1 ||
        PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
            1) {
        setError(error, QStringLiteral("cannot encode the certificate"));
        return std::nullopt;
    }
    return PemPair{bioContents(certBio.get()), bioContents(keyBio.get())};
}

// Written beside the target and renamed over it, so a crash never leaves half a PEM file; the
// temporary file is created with its final permissions, so the key is never readable by others.
bool writeFile(const QString &path, const QByteArray &data, QFileDevice::Permissions permissions,
               QString *error)
{
    const QString temporary = path + QStringLiteral(".tmp");
    QFile::remove(temporary);
    QFile file(temporary);
    if (!file.open(QIODevice::WriteOnly | QIODevice::NewOnly, permissions) ||
        file.write(data) != data.size() || !file.flush()) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(temporary, file.errorString());
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

constexpr QFileDevice::Permissions kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;

} // namespace

std::optional<CertificatePaths> ensureSelfSignedCertificate(const QString &dataDir,
                                                            const QString &domain, QString *error)
{
    const QString name = dnsName(domain);
    if (name.isEmpty()) {
        if (error)
            *error = QStringLiteral("not a valid domain for a certificate: %1").arg(domain);
        return std::nullopt;
    }
    if (!QFileInfo(dataDir).isDir()) {
        // Only the owner may list the data dir: it holds the key and the database. Made with
        // that mode, so there is no moment in which it is open to others.
        const QString absolute = QFileInfo(dataDir).absoluteFilePath();
        if (!QDir().mkpath(QFileInfo(absolute).absolutePath()) ||
            !QDir().mkdir(absolute, kOwnerOnly | QFileDevice::ExeOwner)) {
            if (error)
                *error = QStringLiteral("cannot create data directory %1").arg(dataDir);
            return std::nullopt;
        }
    }

    const QDir dir(dataDir);
    const CertificatePaths paths{dir.filePath(kCertName), dir.filePath(kKeyName)};
    if (usable(paths.certFile, paths.keyFile, name)) {
        // Tighten a key file someone loosened; it is ours to keep private.
        const QFileDevice::Permissions others = QFileDevice::ReadGroup | QFileDevice::WriteGroup |
                                                QFileDevice::ReadOther | QFileDevice::WriteOther;
        if (QFile::permissions(paths.keyFile) & others)
            QFile::setPermissions(paths.keyFile, kOwnerOnly);
        return paths;
    }

    const std::optional<PemPair> pem = generate(name, error);
    // Key first: a crash between the two writes leaves a mismatched pair, which the next start
    // detects and replaces, never a certificate without its key.
    if (!pem || !writeFile(paths.keyFile, pem->key, kOwnerOnly, error) ||
        !writeFile(paths.certFile, pem->cert,
                   kOwnerOnly | QFileDevice::ReadGroup | QFileDevice::ReadOther, error))
        return std::nullopt;
    if (!usable(paths.certFile, paths.keyFile, name)) {
        if (error)
            *error =
                QStringLiteral("the generated certificate in %1 cannot be loaded").arg(dataDir);
        return std::nullopt;
    }
    return paths;
}

} // namespace xbnc
