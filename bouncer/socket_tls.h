#pragma once

#include <QString>

#include <gloox/tlsbase.h>

class QSslConfiguration;

namespace xbnc {

class SocketConnection;

// gloox's TLS hook, passing through to Qt: the handshake is QSslSocket's (TLS 1.2+, SNI, ALPN,
// the system CAs plus the configured one) and the socket encrypts, so encrypt()/decrypt() only
// hand the bytes on. A failed handshake becomes an ordinary ConnTlsFailed disconnect that the
// Upstream retries, instead of gloox's GnuTLS double free. Owned by gloox::Client
// (setEncryptionImpl), like the connection it works on, which it must not outlive: gloox
// deletes the connection first, and nothing here touches it after cleanup().
class SocketTls : public gloox::TLSBase
{
public:
    SocketTls(gloox::TLSHandler *handler, SocketConnection *connection, const QString &domain);

    // The client-side TLS settings for the upstream: TLS 1.2 or later, ALPN "xmpp-client",
    // peer verification against the system CAs plus caFile (PEM; a CA or the server's own
    // certificate). False with *error when caFile is given but holds no certificate.
    static bool clientConfiguration(const QString &caFile, QSslConfiguration *configuration,
                                    QString *error);

    bool init(const std::string &clientKey = gloox::EmptyString,
              const std::string &clientCerts = gloox::EmptyString,
              const gloox::StringList &cacerts = gloox::StringList()) override;
    bool encrypt(const std::string &data) override;
    int decrypt(const std::string &data) override;
    void cleanup() override;
    bool handshake() override;
    void setCACerts(const gloox::StringList &cacerts) override;
    void setClientCert(const std::string &clientKey, const std::string &clientCerts) override;

private:
    SocketConnection *connection_; // not owned
};

} // namespace xbnc
