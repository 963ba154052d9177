#include "tls_channel_bindings.h"

#include "tls_session.h"

#include <QSslCertificate>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <memory>

namespace xbnc {

namespace {

struct X509Free
{
    void operator()(X509 *certificate) const { X509_free(certificate); }
};

} // namespace

QByteArray tlsServerEndPoint(const QSslCertificate &certificate)
{
    const QByteArray der = certificate.toDer();
    if (der.isEmpty())
        return {};
    const auto *cursor = reinterpret_cast<const unsigned char *>(der.constData());
    const std::unique_ptr<X509, X509Free> x509(d2i_X509(nullptr, &cursor, long(der.size())));
    int digestNid = NID_undef;
    // X509_get_signature_info also finds the hash inside RSA-PSS parameters.
    if (!x509 || X509_get_signature_info(x509.get(), &digestNid, nullptr, nullptr, nullptr) != 1 ||
        digestNid == NID_undef) {
        ERR_clear_error(); // nothing of this may surface in a later TLS call's error
        return {};
    }
    if (digestNid == NID_md5 || digestNid == NID_sha1)
        digestNid = NID_sha256;
    const EVP_MD *digest = EVP_get_digestbynid(digestNid);
    QByteArray hash(EVP_MAX_MD_SIZE, Qt::Uninitialized);
    unsigned int length = 0;
    if (!digest ||
        EVP_Digest(der.constData(), size_t(der.size()),
                   reinterpret_cast<unsigned char *>(hash.data()), &length, digest, nullptr) != 1) {
        ERR_clear_error();
        return {};
    }
    hash.truncate(int(length));
    return hash;
}

ChannelBindings tlsChannelBindings(const TlsSession &session)
{
    ChannelBindings bindings;
    if (session.state() != TlsSession::State::Established)
        return bindings;
    if (const QByteArray exporter = session.exporter(); !exporter.isEmpty())
        bindings.append({kTlsExporter.toString(), exporter});
    // The certificate this connection actually presented, whatever chose it.
    const QByteArray endPoint =
        tlsServerEndPoint(QSslCertificate(session.serverCertificateDer(), QSsl::Der));
    if (!endPoint.isEmpty())
        bindings.append({kTlsServerEndPoint.toString(), endPoint});
    return bindings;
}

} // namespace xbnc
