#include "tcp_tls_socket.h"

#include "tls_context.h"

#include <QTcpSocket>

#include <sys/socket.h>

namespace xbnc {

namespace {

// Ciphertext is decrypted ahead of the reader up to this much (or the read buffer size), so
// that a flood is taken from the socket as the reader asks for it, not all at once.
constexpr qint64 kReadAhead = 64 * 1024;
constexpr qint64 kCiphertextChunk = 16 * 1024 + 512; // one TLS record and its overhead

} // namespace

TcpTlsSocket::TcpTlsSocket(QObject *parent) : QObject(parent), tcp_(new QTcpSocket(this))
{
    connect(tcp_, &QTcpSocket::readyRead, this, &TcpTlsSocket::onTcpReadyRead);
    connect(tcp_, &QTcpSocket::bytesWritten, this, &TcpTlsSocket::bytesWritten);
    connect(tcp_, &QTcpSocket::errorOccurred, this, &TcpTlsSocket::errorOccurred);
    connect(tcp_, &QTcpSocket::disconnected, this, &TcpTlsSocket::disconnected);
    connect(tcp_, &QTcpSocket::connected, this, &TcpTlsSocket::connected);
}

TcpTlsSocket::~TcpTlsSocket() = default;

bool TcpTlsSocket::setSocketDescriptor(qintptr descriptor)
{
    return tcp_->setSocketDescriptor(descriptor);
}

void TcpTlsSocket::connectToHost(const QString &host, quint16 port)
{
    tcp_->connectToHost(host, port);
}

void TcpTlsSocket::startEncryption(std::shared_ptr<const TlsContext> context, TlsSession::Role role)
{
    tls_ = std::make_unique<TlsSession>(std::move(context), role);
    tls_->start();
    flush();
    // A client may have sent its ClientHello right behind <starttls/>: it is already buffered.
    if (tcp_->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &TcpTlsSocket::onTcpReadyRead, Qt::QueuedConnection);
}

bool TcpTlsSocket::isEncrypted() const
{
    return tls_ && (tls_->state() == TlsSession::State::Established ||
                    tls_->state() == TlsSession::State::Closed);
}

qint64 TcpTlsSocket::bytesAvailable() const
{
    return tls_ ? tls_->plaintextSize() : tcp_->bytesAvailable();
}

QByteArray TcpTlsSocket::read(qint64 maxSize)
{
    if (!tls_)
        return takeFromTcp(maxSize);
    QByteArray bytes = tls_->takePlaintext(maxSize);
    pullCiphertext();
    flush();
    if (tls_->state() == TlsSession::State::Failed && !tlsFailed_)
        QMetaObject::invokeMethod(this, &TcpTlsSocket::onTlsTrouble, Qt::QueuedConnection);
    return bytes;
}

void TcpTlsSocket::write(const QByteArray &bytes)
{
    if (!tls_) {
        writeToTcp(bytes);
        return;
    }
    tls_->send(bytes);
    flush();
    if (tls_->state() == TlsSession::State::Failed && !tlsFailed_)
        QMetaObject::invokeMethod(this, &TcpTlsSocket::onTlsTrouble, Qt::QueuedConnection);
}

qint64 TcpTlsSocket::bytesQueued() const
{
    return tcp_->bytesToWrite() + (tls_ ? tls_->heldSize() : 0);
}

void TcpTlsSocket::setReadBufferSize(qint64 size)
{
    readBufferSize_ = size;
    tcp_->setReadBufferSize(size);
}

void TcpTlsSocket::disconnectFromHost()
{
    if (tls_) {
        tls_->close();
        flush();
    }
    tcp_->disconnectFromHost();
}

void TcpTlsSocket::abort()
{
    tcp_->abort();
}

QAbstractSocket::SocketState TcpTlsSocket::state() const
{
    return tcp_->state();
}

QString TcpTlsSocket::errorString() const
{
    return tlsError_.isEmpty() ? tcp_->errorString() : tlsError_;
}

void TcpTlsSocket::onTcpReadyRead()
{
    if (!tls_) {
        Q_EMIT readyRead();
        return;
    }
    if (tlsFailed_)
        return;
    const bool wasHandshaking = tls_->state() == TlsSession::State::Handshaking;
    pullCiphertext();
    flush();
    switch (tls_->state()) {
    case TlsSession::State::Failed:
        return onTlsTrouble();
    case TlsSession::State::Handshaking:
        return;
    case TlsSession::State::Established:
    case TlsSession::State::Closed:
        break;
    }
    if (wasHandshaking) {
        handshakeDone_ = true;
        Q_EMIT encrypted();
    }
    if (tls_->plaintextSize() > 0)
        Q_EMIT readyRead();
    // close_notify: the peer writes no more. Answer it and close once the queue is out.
    if (tls_->state() == TlsSession::State::Closed &&
        tcp_->state() == QAbstractSocket::ConnectedState)
        disconnectFromHost();
}

void TcpTlsSocket::pullCiphertext()
{
    const qint64 limit = readBufferSize_ > 0 ? readBufferSize_ : kReadAhead;
    while (tcp_->bytesAvailable() > 0 &&
           (tls_->state() == TlsSession::State::Handshaking ||
            tls_->state() == TlsSession::State::Established) &&
           tls_->plaintextSize() < limit)
        tls_->receive(takeFromTcp(kCiphertextChunk));
}

// QTcpSocket keeps the last chunk of its read buffer (16 KiB) once it is drained, unless the
// whole chunk is taken in one read(): then the chunk itself is handed over and freed with the
// QByteArray. Asking for everything when it fits the limit does that whenever the buffer is one
// chunk, which it is after every read of an idle connection.
QByteArray TcpTlsSocket::takeFromTcp(qint64 maxSize)
{
    const qint64 available = tcp_->bytesAvailable();
    return tcp_->read(available <= maxSize ? available : maxSize);
}

void TcpTlsSocket::flush()
{
    const QByteArray ciphertext = tls_->takeCiphertext();
    if (!ciphertext.isEmpty())
        writeToTcp(ciphertext);
}

// QTcpSocket keeps the 32 KiB chunk of its write buffer for good once it used it (an accepted
// socket cannot be unbuffered), which was a third of an idle session's memory. So what the
// kernel takes at once goes to it directly, and only the rest is queued in the QTcpSocket,
// behind which nothing is ever sent directly.
void TcpTlsSocket::writeToTcp(const QByteArray &bytes)
{
    qsizetype sent = 0;
    if (tcp_->bytesToWrite() == 0 && tcp_->state() == QAbstractSocket::ConnectedState) {
        const ssize_t n = ::send(int(tcp_->socketDescriptor()), bytes.constData(),
                                 size_t(bytes.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
        // Any error (EAGAIN, a reset peer) is left to the QTcpSocket to meet and report.
        sent = n > 0 ? qsizetype(n) : 0;
    }
    if (sent < bytes.size())
        tcp_->write(bytes.constData() + sent, bytes.size() - sent);
}

void TcpTlsSocket::onTlsTrouble()
{
    if (tlsFailed_)
        return;
    tlsFailed_ = true;
    tlsError_ = tls_->errorString();
    flush(); // the alert, if OpenSSL made one
    Q_EMIT errorOccurred(handshakeDone_ ? QAbstractSocket::SslInternalError
                                        : QAbstractSocket::SslHandshakeFailedError);
    tcp_->disconnectFromHost();
}

} // namespace xbnc
