#pragma once

#include <QList>
#include <QString>

#include <memory>

class QSslCertificate;
class QSslKey;
using SSL_CTX = struct ssl_ctx_st;

namespace xbnc {

// The OpenSSL SSL_CTX of one listening port: its certificate chain and key, TLS 1.2 or later,
// no renegotiation, no client certificates, ALPN "xmpp-client" (XEP-0368) when a client
// offers it. Shared by the port's connections, which keep it alive; a certificate reload makes
// a new one for later connections.
class TlsContext
{
public:
    // Null with *error when the chain or key cannot be used.
    static std::shared_ptr<const TlsContext> forServer(const QList<QSslCertificate> &chain,
                                                       const QSslKey &key, QString *error);
    // Verifies nothing: tests check the server's certificate themselves.
    static std::shared_ptr<const TlsContext> forClient();

    ~TlsContext();
    TlsContext(const TlsContext &) = delete;
    TlsContext &operator=(const TlsContext &) = delete;

    SSL_CTX *handle() const { return ctx_; }

private:
    explicit TlsContext(SSL_CTX *ctx);
    SSL_CTX *ctx_;
};

} // namespace xbnc
