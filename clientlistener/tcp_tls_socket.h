#pragma once

#include "tls_session.h"

#include <QAbstractSocket>
#include <QByteArray>
#include <QObject>

#include <memory>

class QTcpSocket;

namespace xbnc {

class TlsContext;

// A TCP connection that turns to TLS on demand (STARTTLS, or at once for direct TLS), with
// xbnc's own TlsSession instead of QSslSocket: the TLS session can export keying material
// (RFC 9266) and frees its buffers while idle. Downstream's side is the server; tests use the
// client side.
class TcpTlsSocket : public QObject
{
    Q_OBJECT
public:
    explicit TcpTlsSocket(QObject *parent = nullptr);
    ~TcpTlsSocket() override;

    bool setSocketDescriptor(qintptr descriptor);
    void connectToHost(const QString &host, quint16 port);
    QTcpSocket &tcp() { return *tcp_; }
    const QTcpSocket &tcp() const { return *tcp_; }

    // From here on, everything read and written is TLS; encrypted() when the handshake is done.
    void startEncryption(std::shared_ptr<const TlsContext> context, TlsSession::Role role);
    bool isEncrypted() const;
    // Null before startEncryption().
    const TlsSession *tls() const { return tls_.get(); }

    qint64 bytesAvailable() const;
    QByteArray read(qint64 maxSize);
    QByteArray readAll() { return read(bytesAvailable()); }
    void write(const QByteArray &bytes);
    // What the peer has yet to take: clear text held for the handshake and ciphertext queued.
    qint64 bytesQueued() const;
    // 0: unlimited. Otherwise no more than about this much is read ahead of the caller.
    void setReadBufferSize(qint64 size);

    // TLS: close_notify first; the TCP connection closes once the queue is written.
    void disconnectFromHost();
    void abort();
    QAbstractSocket::SocketState state() const;
    QString errorString() const;

Q_SIGNALS:
    void readyRead();
    void bytesWritten(); // some of the queue went out
    void encrypted();
    void errorOccurred(QAbstractSocket::SocketError error);
    void disconnected();
    void connected();

private:
    void onTcpReadyRead();
    void pullCiphertext();
    QByteArray takeFromTcp(qint64 maxSize);
    void flush();
    void writeToTcp(const QByteArray &bytes);
    void onTlsTrouble();

    QTcpSocket *tcp_; // child
    std::unique_ptr<TlsSession> tls_;
    bool tlsFailed_ = false;
    bool handshakeDone_ = false;
    qint64 readBufferSize_ = 0;
    QString tlsError_;
};

} // namespace xbnc
