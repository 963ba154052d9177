#include "socket_connection.h"

#include <QDnsLookup>
#include <QLoggingCategory>
#include <QSslCipher>
#include <QSslSocket>

namespace xbnc {

namespace {

Q_LOGGING_CATEGORY(lcSocket, "xbnc.upstream.socket")

// Long enough to write </stream:stream> to a live peer, short enough that stop() finishes even
// when the peer stopped reading.
constexpr int closeDeadlineMs = 3000;

QString describeSslErrors(const QList<QSslError> &errors)
{
    QStringList texts;
    for (const QSslError &error : errors)
        texts.append(error.errorString());
    return texts.join(QStringLiteral("; "));
}

} // namespace

SocketConnection::SocketConnection(gloox::ConnectionDataHandler *handler, Endpoint endpoint)
    : gloox::ConnectionBase(handler), endpoint_(std::move(endpoint))
{
    closeDeadline_.setSingleShot(true);
    closeDeadline_.setInterval(closeDeadlineMs);
    QObject::connect(&closeDeadline_, &QTimer::timeout, this, [this] {
        if (socket_ && socket_->state() != QAbstractSocket::UnconnectedState) {
            qCWarning(lcSocket) << "peer did not take the closing bytes in time; aborting";
            socket_->abort();
        }
    });
}

SocketConnection::~SocketConnection()
{
    // gloox is tearing the client down: nothing may call back into it any more.
    if (socket_) {
        QObject::disconnect(socket_.get(), nullptr, this, nullptr);
        socket_->abort();
    }
}

gloox::ConnectionError SocketConnection::connect()
{
    if (m_state != gloox::StateDisconnected)
        return gloox::ConnNoError;
    m_state = gloox::StateConnecting;
    lastError_.clear();
    tcpConnected_ = false;
    targets_.clear();
    if (!endpoint_.host.isEmpty()) {
        targets_.push_back({endpoint_.host, endpoint_.port});
        // Dial from the event loop: gloox expects connect() to return before any callback.
        QMetaObject::invokeMethod(this, &SocketConnection::dialNextTarget, Qt::QueuedConnection);
    } else {
        lookUpTargets();
    }
    return gloox::ConnNoError;
}

void SocketConnection::lookUpTargets()
{
    // RFC 6120 §3.2.1 and XEP-0368: _xmpps-client for direct TLS, _xmpp-client for STARTTLS.
    const QString service = endpoint_.directTls ? QStringLiteral("_xmpps-client._tcp.")
                                                : QStringLiteral("_xmpp-client._tcp.");
    lookup_ = std::make_unique<QDnsLookup>(QDnsLookup::SRV, service + endpoint_.domain);
    QObject::connect(lookup_.get(), &QDnsLookup::finished, this, [this] {
        if (lookup_->error() == QDnsLookup::NoError) {
            // Qt sorts the records by priority and weight (RFC 2782).
            for (const QDnsServiceRecord &record : lookup_->serviceRecords()) {
                // A lone "." target means the service is decidedly not available here.
                if (record.target() == QLatin1String(".") || record.target().isEmpty())
                    continue;
                targets_.push_back({record.target(), record.port()});
            }
        }
        if (targets_.empty()) {
            qCDebug(lcSocket) << "no SRV records for" << lookup_->name() << "-"
                              << lookup_->errorString() << "- dialing the domain itself";
            targets_.push_back({endpoint_.domain, endpoint_.port});
        }
        lookup_.release()->deleteLater(); // we are inside its signal
        dialNextTarget();
    });
    lookup_->lookup();
}

void SocketConnection::dialNextTarget()
{
    if (m_state != gloox::StateConnecting)
        return; // disconnect() came first
    if (targets_.empty()) {
        m_state = gloox::StateDisconnected;
        m_handler->handleDisconnect(this, lossReason());
        Q_EMIT closed();
        return;
    }
    const Target target = targets_.front();
    targets_.pop_front();

    if (socket_) {
        QObject::disconnect(socket_.get(), nullptr, this, nullptr);
        socket_.release()->deleteLater(); // may be inside one of its signals
    }
    socket_ = std::make_unique<QSslSocket>();
    sslErrors_.clear();
    tcpConnected_ = false;
    socket_->setSslConfiguration(endpoint_.tls);
    // The certificate must name the JID's domain, whatever host SRV or the config points at.
    socket_->setPeerVerifyName(endpoint_.domain);
    QObject::connect(socket_.get(), &QSslSocket::connected, this,
                     &SocketConnection::handleSocketReady);
    QObject::connect(socket_.get(), &QSslSocket::encrypted, this,
                     &SocketConnection::handleEncrypted);
    QObject::connect(socket_.get(), &QSslSocket::readyRead, this,
                     &SocketConnection::handleReadyRead);
    QObject::connect(socket_.get(), &QSslSocket::sslErrors, this,
                     [this](const QList<QSslError> &errors) { sslErrors_ = errors; });
    QObject::connect(socket_.get(), &QSslSocket::errorOccurred, this,
                     [this](QAbstractSocket::SocketError) {
                         lastError_ = socket_->errorString();
                         if (!sslErrors_.isEmpty())
                             lastError_ = describeSslErrors(sslErrors_);
                     });
    QObject::connect(socket_.get(), &QSslSocket::stateChanged, this,
                     [this](QAbstractSocket::SocketState state) {
                         if (state == QAbstractSocket::UnconnectedState)
                             handleSocketGone();
                     });

    qCDebug(lcSocket) << "dialing" << target.host << target.port
                      << (endpoint_.directTls ? "(direct TLS)" : "");
    if (endpoint_.directTls)
        socket_->connectToHostEncrypted(target.host, target.port, endpoint_.domain);
    else
        socket_->connectToHost(target.host, target.port);
}

void SocketConnection::handleSocketReady()
{
    tcpConnected_ = true;
    // XMPP is chatty and latency-bound; keepalive notices a silently dead path eventually.
    socket_->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    socket_->setSocketOption(QAbstractSocket::KeepAliveOption, 1);
    if (endpoint_.directTls)
        return; // the stream starts once encrypted()
    m_state = gloox::StateConnected;
    m_handler->handleConnect(this);
}

void SocketConnection::handleEncrypted()
{
    if (handshakeDone_) {
        HandshakeDone done = std::move(handshakeDone_);
        handshakeDone_ = nullptr;
        done(HandshakeOutcome{.ok = true, .reason = {}, .errors = {}});
        return;
    }
    if (endpoint_.directTls && m_state == gloox::StateConnecting) {
        qCDebug(lcSocket) << "direct TLS established:" << socket_->sessionCipher().name();
        m_state = gloox::StateConnected;
        m_handler->handleConnect(this);
    }
}

void SocketConnection::handleReadyRead()
{
    while (socket_ && m_state == gloox::StateConnected && socket_->bytesAvailable() > 0) {
        const QByteArray data = socket_->readAll();
        bytesIn_ += data.size();
        // gloox may disconnect from inside this call; the loop condition notices.
        m_handler->handleReceivedData(this, std::string(data.constData(), size_t(data.size())));
    }
}

void SocketConnection::startTls(HandshakeDone done)
{
    if (!socket_ || m_state != gloox::StateConnected) {
        done(
            HandshakeOutcome{.ok = false, .reason = QStringLiteral("not connected"), .errors = {}});
        return;
    }
    handshakeDone_ = std::move(done);
    sslErrors_.clear();
    socket_->startClientEncryption();
}

void SocketConnection::failHandshake(const QString &reason)
{
    HandshakeDone done = std::move(handshakeDone_);
    handshakeDone_ = nullptr;
    lastError_ = reason;
    // The state stays connected so that gloox's disconnect(ConnTlsFailed) runs in full.
    done(HandshakeOutcome{.ok = false, .reason = reason, .errors = sslErrors_});
}

gloox::ConnectionError SocketConnection::lossReason() const
{
    if (!sslErrors_.isEmpty() ||
        (endpoint_.directTls && tcpConnected_ && m_state == gloox::StateConnecting))
        return gloox::ConnTlsFailed;
    if (!socket_)
        return gloox::ConnDnsError;
    switch (socket_->error()) {
    case QAbstractSocket::HostNotFoundError:
        return gloox::ConnDnsError;
    case QAbstractSocket::ConnectionRefusedError:
        return gloox::ConnConnectionRefused;
    case QAbstractSocket::RemoteHostClosedError:
        return gloox::ConnStreamClosed;
    case QAbstractSocket::SslHandshakeFailedError:
        return gloox::ConnTlsFailed;
    default:
        return gloox::ConnIoError;
    }
}

void SocketConnection::handleSocketGone()
{
    closeDeadline_.stop();
    if (m_state == gloox::StateDisconnected) {
        Q_EMIT closed(); // our own disconnect() completed
        return;
    }
    if (lastError_.isEmpty())
        lastError_ = socket_->errorString();
    if (handshakeDone_) {
        const QString reason = sslErrors_.isEmpty() ? lastError_ : describeSslErrors(sslErrors_);
        qCWarning(lcSocket) << "TLS handshake with" << endpoint_.domain << "failed:" << reason;
        failHandshake(reason);
        // gloox normally answers with disconnect(), which reports closed() itself.
        if (m_state != gloox::StateDisconnected) {
            m_state = gloox::StateDisconnected;
            m_handler->handleDisconnect(this, gloox::ConnTlsFailed);
            Q_EMIT closed();
        }
        return;
    }
    if (m_state == gloox::StateConnecting && !tcpConnected_ && !targets_.empty()) {
        qCDebug(lcSocket) << "dial failed:" << lastError_ << "- trying the next target";
        QMetaObject::invokeMethod(this, &SocketConnection::dialNextTarget, Qt::QueuedConnection);
        return;
    }
    const gloox::ConnectionError reason = lossReason();
    if (reason == gloox::ConnTlsFailed)
        qCWarning(lcSocket) << "TLS with" << endpoint_.domain << "failed:" << lastError_;
    else
        qCInfo(lcSocket) << "connection lost:" << lastError_;
    m_state = gloox::StateDisconnected;
    m_handler->handleDisconnect(this, reason);
    Q_EMIT closed();
}

bool SocketConnection::send(const std::string &data)
{
    if (!socket_ || m_state != gloox::StateConnected || streamClosed_)
        return false;
    bytesOut_ += long(data.size());
    return socket_->write(data.data(), qint64(data.size())) == qint64(data.size());
}

void SocketConnection::closeStream()
{
    // gloox answers the server's closing tag with one of its own: that one is not sent again.
    send("</stream:stream>");
    streamClosed_ = true;
}

gloox::ConnectionError SocketConnection::recv(int)
{
    // Event driven: readyRead pushes data to gloox, there is nothing to poll.
    return m_state == gloox::StateDisconnected ? gloox::ConnNotConnected : gloox::ConnNoError;
}

gloox::ConnectionError SocketConnection::receive()
{
    // gloox's blocking receive loop has no place on the Qt event loop.
    return gloox::ConnNotConnected;
}

void SocketConnection::disconnect()
{
    if (m_state == gloox::StateDisconnected)
        return;
    m_state = gloox::StateDisconnected;
    handshakeDone_ = nullptr;
    targets_.clear();
    if (lookup_) {
        QObject::disconnect(lookup_.get(), nullptr, this, nullptr);
        lookup_->abort();
    }
    if (!socket_ || socket_->state() == QAbstractSocket::UnconnectedState) {
        QMetaObject::invokeMethod(this, &SocketConnection::closed, Qt::QueuedConnection);
        return;
    }
    // disconnectFromHost() writes what is buffered (gloox's </stream:stream>) before closing;
    // abort() would drop it.
    closeDeadline_.start();
    socket_->disconnectFromHost();
}

void SocketConnection::getStatistics(long int &totalIn, long int &totalOut)
{
    totalIn = bytesIn_;
    totalOut = bytesOut_;
}

gloox::ConnectionBase *SocketConnection::newInstance() const
{
    // gloox's factory contract: the caller owns the copy.
    return new SocketConnection(m_handler, endpoint_);
}

} // namespace xbnc
