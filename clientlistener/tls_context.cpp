#include "tls_context.h"

#include <QSslCertificate>
#include <QSslKey>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>

namespace xbnc {

namespace {

constexpr unsigned char kXmppClient[] = "xmpp-client";
// The same as an ALPN protocol list: one length byte, then the name.
constexpr unsigned char kAlpnXmppClient[] = "\x0b"
                                            "xmpp-client";

struct X509Free
{
    void operator()(X509 *certificate) const { X509_free(certificate); }
};
struct KeyFree
{
    void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};
struct BioFree
{
    void operator()(BIO *bio) const { BIO_free(bio); }
};

QString openSslError()
{
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0)
        return QStringLiteral("unknown OpenSSL error");
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return QString::fromLatin1(text);
}

std::unique_ptr<X509, X509Free> toX509(const QSslCertificate &certificate)
{
    const QByteArray der = certificate.toDer();
    const auto *cursor = reinterpret_cast<const unsigned char *>(der.constData());
    return std::unique_ptr<X509, X509Free>(d2i_X509(nullptr, &cursor, long(der.size())));
}

std::unique_ptr<EVP_PKEY, KeyFree> toPrivateKey(const QSslKey &key)
{
    const QByteArray pem = key.toPem();
    const std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    return std::unique_ptr<EVP_PKEY, KeyFree>(
        bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

// XEP-0368: a client that names protocols gets xmpp-client if it offers it; otherwise the
// handshake goes on without ALPN, as it would with a client that names none.
int selectXmppClient(SSL *, const unsigned char **out, unsigned char *outLength,
                     const unsigned char *offered, unsigned int offeredLength, void *)
{
    for (unsigned int i = 0; i < offeredLength;) {
        const unsigned int length = offered[i];
        if (i + 1 + length > offeredLength)
            break;
        if (length == sizeof kXmppClient - 1 &&
            std::equal(kXmppClient, kXmppClient + length, offered + i + 1)) {
            *out = offered + i + 1;
            *outLength = static_cast<unsigned char>(length);
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + length;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

SSL_CTX *newContext(const SSL_METHOD *method)
{
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (!ctx)
        return nullptr;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    // The point of xbnc's own TLS: an idle session gives its record buffers back.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return ctx;
}

} // namespace

TlsContext::TlsContext(SSL_CTX *ctx) : ctx_(ctx)
{
}

TlsContext::~TlsContext()
{
    SSL_CTX_free(ctx_);
}

std::shared_ptr<const TlsContext> TlsContext::forServer(const QList<QSslCertificate> &chain,
                                                        const QSslKey &key, QString *error)
{
    ERR_clear_error();
    SSL_CTX *raw = newContext(TLS_server_method());
    if (!raw) {
        *error = openSslError();
        return nullptr;
    }
    std::shared_ptr<const TlsContext> context(new TlsContext(raw));
    if (chain.isEmpty()) {
        *error = QStringLiteral("no certificate");
        return nullptr;
    }
    const auto leaf = toX509(chain.first());
    const auto privateKey = toPrivateKey(key);
    if (!leaf || !privateKey || SSL_CTX_use_certificate(raw, leaf.get()) != 1 ||
        SSL_CTX_use_PrivateKey(raw, privateKey.get()) != 1 || SSL_CTX_check_private_key(raw) != 1) {
        *error = QStringLiteral("certificate or key unusable: ") + openSslError();
        return nullptr;
    }
    for (qsizetype i = 1; i < chain.size(); ++i) {
        const auto intermediate = toX509(chain[i]);
        if (!intermediate || SSL_CTX_add1_chain_cert(raw, intermediate.get()) != 1) {
            *error = QStringLiteral("certificate chain unusable: ") + openSslError();
            return nullptr;
        }
    }
    SSL_CTX_set_alpn_select_cb(raw, selectXmppClient, nullptr);
    // Clients log in again rather than resume TLS: no tickets or cache to keep per session.
    SSL_CTX_set_num_tickets(raw, 0);
    SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);
    return context;
}

std::shared_ptr<const TlsContext> TlsContext::forClient()
{
    SSL_CTX *raw = newContext(TLS_client_method());
    if (!raw)
        return nullptr;
    SSL_CTX_set_alpn_protos(raw, kAlpnXmppClient, sizeof kAlpnXmppClient - 1);
    return std::shared_ptr<const TlsContext>(new TlsContext(raw));
}

} // namespace xbnc
