#include "certificate_authority.h"

#include <QRandomGenerator>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

namespace xbnc {

namespace {

template <auto Free> struct OpenSslDeleter
{
    template <typename T> void operator()(T *p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES_free>>;
using NameConstraintsPtr = std::unique_ptr<NAME_CONSTRAINTS, OpenSslDeleter<NAME_CONSTRAINTS_free>>;

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

X509Ptr readCertificate(const QByteArray &pem)
{
    BioPtr bio = memoryBio(pem);
    return X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

PkeyPtr readKey(const QByteArray &pem)
{
    BioPtr bio = memoryBio(pem);
    return PkeyPtr(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

std::optional<PemPair> encode(X509 *cert, EVP_PKEY *key, QString *error)
{
    BioPtr certBio(BIO_new(BIO_s_mem()));
    BioPtr keyBio(BIO_new(BIO_s_mem()));
    if (!certBio || !keyBio || PEM_write_bio_X509(certBio.get(), cert) != 1 ||
        PEM_write_bio_PrivateKey(keyBio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        setError(error, QStringLiteral("cannot encode the certificate"));
        return std::nullopt;
    }
    return PemPair{bioContents(certBio.get()), bioContents(keyBio.get())};
}

QDateTime fromAsn1(const ASN1_TIME *time)
{
    std::tm tm{};
    if (!time || ASN1_TIME_to_tm(time, &tm) != 1)
        return {};
    return QDateTime(QDate(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday),
                     QTime(tm.tm_hour, tm.tm_min, tm.tm_sec), Qt::UTC);
}

// A random positive 159-bit serial (RFC 5280 §4.1.2.2: positive, at most 20 octets), so two
// generated certificates never share issuer + serial in a client's trust or pinning store.
bool setRandomSerial(X509 *cert)
{
    unsigned char bytes[20];
    QRandomGenerator::system()->generate(std::begin(bytes), std::end(bytes));
    bytes[0] = (bytes[0] & 0x7f) | 0x40; // positive, and never zero
    BignumPtr serial(BN_bin2bn(bytes, sizeof bytes, nullptr));
    return serial && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr;
}

bool setText(X509_NAME *name, const char *field, const QString &value)
{
    const QByteArray utf8 = value.toUtf8();
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char *>(utf8.constData()),
                                      int(utf8.size()), -1, 0) == 1;
}

// The common fields of every certificate xbnc makes. An issuer of nullptr means self-signed.
bool setBasics(X509 *cert, EVP_PKEY *key, const QString &commonName, const X509 *issuer,
               const QDateTime &notBefore, const QDateTime &notAfter)
{
    X509_NAME *subject = X509_get_subject_name(cert);
    return X509_set_version(cert, X509_VERSION_3) == 1 && setRandomSerial(cert) &&
           ASN1_TIME_set(X509_getm_notBefore(cert), time_t(notBefore.toSecsSinceEpoch())) &&
           ASN1_TIME_set(X509_getm_notAfter(cert), time_t(notAfter.toSecsSinceEpoch())) &&
           X509_set_pubkey(cert, key) == 1 && setText(subject, "O", QStringLiteral("xbnc")) &&
           setText(subject, "CN", commonName) &&
           X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : subject) == 1;
}

// One extension in OpenSSL's configuration syntax. Every value is built from constants and
// names that passed certificateDnsName(), so no syntax of OpenSSL's can sneak in.
bool addExtension(X509 *cert, X509V3_CTX *context, int nid, const QString &value)
{
    const QByteArray text = value.toLatin1();
    ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, context, nid, text.constData()));
    return extension && X509_add_ext(cert, extension.get(), -1) == 1;
}

QString joined(const QStringList &names, const QString &prefix)
{
    QStringList parts;
    for (const QString &name : names)
        parts.append(prefix + name);
    return parts.join(u',');
}

PkeyPtr newKey()
{
    // P-256: small, fast, and accepted by every TLS stack xbnc's clients use.
    return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

// A dNSName's text, or empty for any other kind of name.
QString dnsName(const GENERAL_NAME *name)
{
    if (name->type != GEN_DNS)
        return {};
    return QString::fromLatin1(
        reinterpret_cast<const char *>(ASN1_STRING_get0_data(name->d.dNSName)),
        ASN1_STRING_length(name->d.dNSName));
}

bool keyMatches(X509 *cert, const QByteArray &keyPem)
{
    PkeyPtr key = readKey(keyPem);
    const bool matches = cert && key && X509_check_private_key(cert, key.get()) == 1;
    ERR_clear_error();
    return matches;
}

} // namespace

std::optional<PemPair> makeCertificateAuthority(const QStringList &names,
                                                const QDateTime &notBefore,
                                                const QDateTime &notAfter, QString *error)
{
    PkeyPtr key = newKey();
    X509Ptr cert(X509_new());
    if (!key || !cert || names.isEmpty()) {
        setError(error, QStringLiteral("cannot generate a key"));
        return std::nullopt;
    }
    // The date in the name tells a replaced CA from its successor in a device's trust list.
    const QString commonName = QStringLiteral("xbnc CA for %1, %2")
                                   .arg(names.first(), notBefore.date().toString(Qt::ISODate));
    X509V3_CTX context;
    X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
    // Name constraints are what make this CA safe to trust: even with its key, nobody can
    // sign a certificate another site would accept. IP addresses are excluded, as no
    // permitted subtree of type IP would otherwise mean "any address".
    const QString constraints = QStringLiteral("critical,") +
                                joined(names, QStringLiteral("permitted;DNS:")) +
                                QStringLiteral(",excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:::/::");
    const bool built =
        setBasics(cert.get(), key.get(), commonName, nullptr, notBefore, notAfter) &&
        addExtension(cert.get(), &context, NID_basic_constraints,
                     QStringLiteral("critical,CA:TRUE,pathlen:0")) &&
        addExtension(cert.get(), &context, NID_key_usage,
                     QStringLiteral("critical,keyCertSign,cRLSign")) &&
        addExtension(cert.get(), &context, NID_subject_key_identifier, QStringLiteral("hash")) &&
        addExtension(cert.get(), &context, NID_name_constraints, constraints) &&
        X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
    if (!built) {
        setError(error, QStringLiteral("cannot build the CA certificate"));
        return std::nullopt;
    }
    return encode(cert.get(), key.get(), error);
}

std::optional<PemPair> signServerCertificate(const PemPair &ca, const QStringList &names,
                                             const QDateTime &notBefore, const QDateTime &notAfter,
                                             QString *error)
{
    X509Ptr caCert = readCertificate(ca.cert);
    PkeyPtr caKey = readKey(ca.key);
    PkeyPtr key = newKey();
    X509Ptr cert(X509_new());
    if (!caCert || !caKey || !key || !cert || names.isEmpty()) {
        setError(error, QStringLiteral("cannot read the CA or generate a key"));
        return std::nullopt;
    }
    X509V3_CTX context;
    X509V3_set_ctx(&context, caCert.get(), cert.get(), nullptr, nullptr, 0);
    const bool built =
        setBasics(cert.get(), key.get(), names.first(), caCert.get(), notBefore, notAfter) &&
        addExtension(cert.get(), &context, NID_basic_constraints,
                     QStringLiteral("critical,CA:FALSE")) &&
        addExtension(cert.get(), &context, NID_key_usage,
                     QStringLiteral("critical,digitalSignature")) &&
        addExtension(cert.get(), &context, NID_ext_key_usage, QStringLiteral("serverAuth")) &&
        addExtension(cert.get(), &context, NID_subject_alt_name,
                     joined(names, QStringLiteral("DNS:"))) &&
        addExtension(cert.get(), &context, NID_subject_key_identifier, QStringLiteral("hash")) &&
        addExtension(cert.get(), &context, NID_authority_key_identifier,
                     QStringLiteral("keyid:always")) &&
        X509_sign(cert.get(), caKey.get(), EVP_sha256()) > 0;
    if (!built) {
        setError(error, QStringLiteral("cannot build the server certificate"));
        return std::nullopt;
    }
    return encode(cert.get(), key.get(), error);
}

std::optional<CaFacts> readCertificateAuthority(const PemPair &ca)
{
    X509Ptr cert = readCertificate(ca.cert);
    if (!cert || !keyMatches(cert.get(), ca.key) || X509_check_ca(cert.get()) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    NameConstraintsPtr constraints(static_cast<NAME_CONSTRAINTS *>(
        X509_get_ext_d2i(cert.get(), NID_name_constraints, nullptr, nullptr)));
    CaFacts facts;
    facts.notAfter = fromAsn1(X509_get0_notAfter(cert.get()));
    if (constraints) {
        const auto *permitted = constraints->permittedSubtrees;
        for (int i = 0; i < sk_GENERAL_SUBTREE_num(permitted); ++i) {
            if (QString name = dnsName(sk_GENERAL_SUBTREE_value(permitted, i)->base);
                !name.isEmpty())
                facts.permittedNames.append(name);
        }
    }
    ERR_clear_error();
    // A CA without constraints is not one xbnc made, and trusting it would be unsafe.
    if (facts.permittedNames.isEmpty() || !facts.notAfter.isValid())
        return std::nullopt;
    return facts;
}

std::optional<LeafFacts> readServerCertificate(const PemPair &leaf, const QByteArray &caCert)
{
    X509Ptr cert = readCertificate(leaf.cert);
    X509Ptr issuer = readCertificate(caCert);
    const bool signedByCa = cert && issuer &&
                            X509_check_issued(issuer.get(), cert.get()) == X509_V_OK &&
                            X509_verify(cert.get(), X509_get0_pubkey(issuer.get())) == 1;
    if (!signedByCa || !keyMatches(cert.get(), leaf.key)) {
        ERR_clear_error();
        return std::nullopt;
    }
    GeneralNamesPtr names(static_cast<GENERAL_NAMES *>(
        X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
    ERR_clear_error();
    LeafFacts facts{
        {}, fromAsn1(X509_get0_notBefore(cert.get())), fromAsn1(X509_get0_notAfter(cert.get()))};
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
        if (QString name = dnsName(sk_GENERAL_NAME_value(names.get(), i)); !name.isEmpty())
            facts.names.append(name);
    }
    if (facts.names.isEmpty() || !facts.notBefore.isValid() || !facts.notAfter.isValid())
        return std::nullopt;
    return facts;
}

bool dnsSubtreeCovers(const QString &subtree, const QString &name)
{
    return name.compare(subtree, Qt::CaseInsensitive) == 0 ||
           name.endsWith(u'.' + subtree, Qt::CaseInsensitive);
}

} // namespace xbnc
