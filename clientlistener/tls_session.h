#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <memory>

using SSL = struct ssl_st;

namespace xbnc {

class TlsContext;

// One TLS connection driven through memory: the caller moves ciphertext between it and the
// network, so no OpenSSL buffer outlives a call. With SSL_MODE_RELEASE_BUFFERS (TlsContext)
// an idle session keeps only its keys, not the 2 x 16 KiB record buffers a socket BIO would.
class TlsSession
{
public:
    enum class Role
    {
        Server,
        Client
    };
    enum class State
    {
        Handshaking,
        Established,
        Closed, // the peer sent close_notify
        Failed  // see errorString(); nothing more is read or written
    };

    TlsSession(std::shared_ptr<const TlsContext> context, Role role);
    ~TlsSession();
    TlsSession(const TlsSession &) = delete;
    TlsSession &operator=(const TlsSession &) = delete;

    // Starts the handshake (a client's ClientHello goes to takeCiphertext()).
    void start();
    // Ciphertext from the peer: advances the handshake and decrypts what it can.
    void receive(QByteArrayView ciphertext);
    // Plaintext for the peer; held until the handshake completes.
    void send(QByteArrayView plaintext);
    // close_notify for the peer.
    void close();

    // What the peer sent, decrypted: all of it, or no more than maxSize bytes.
    QByteArray takePlaintext(qsizetype maxSize = -1);
    QByteArray takeCiphertext(); // what must go to the peer
    qsizetype plaintextSize() const { return plaintext_.size(); }
    // Plaintext given before the handshake completed, not yet encrypted.
    qsizetype heldSize() const { return held_.size(); }

    State state() const { return state_; }
    QString errorString() const { return error_; }
    QString protocolName() const;
    QString cipherName() const;
    // DER of the certificate this end presented (server) or was shown (client).
    QByteArray serverCertificateDer() const;
    // RFC 9266 tls-exporter: 32 bytes of exported keying material; empty where the RFC does not
    // allow it (TLS 1.2 without the extended master secret) or before the handshake completes.
    QByteArray exporter() const;

    // For the custom BIO (tls_session.cpp).
    int bioRead(char *out, int size);
    void bioWrite(const char *data, int size);

private:
    void advance();
    void fail(const QString &what);

    std::shared_ptr<const TlsContext> context_; // keeps the SSL_CTX alive
    SSL *ssl_ = nullptr;
    State state_ = State::Handshaking;
    QByteArray inbound_; // ciphertext given to receive(), consumed by OpenSSL
    qsizetype inboundRead_ = 0;
    QByteArray outbound_;  // ciphertext produced, until takeCiphertext()
    QByteArray plaintext_; // decrypted, until takePlaintext()
    QByteArray held_;      // plaintext waiting for the handshake
    QString error_;
};

} // namespace xbnc
