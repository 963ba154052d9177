#pragma once

#include <QList>
#include <QObject>
#include <QSslConfiguration>
#include <QSslError>
#include <QString>
#include <QTimer>

#include <gloox/connectionbase.h>

#include <deque>
#include <functional>
#include <memory>

class QDnsLookup;
class QSslSocket;

namespace xbnc {

// gloox's transport, on a QSslSocket driven by the Qt event loop: connect() returns at once,
// received bytes are pushed to gloox from readyRead, and TLS (STARTTLS or XEP-0368 direct TLS)
// is done by Qt rather than by gloox's GnuTLS layer, which aborts the process when a handshake
// fails. Handed to gloox::Client::setConnectionImpl(), which owns and deletes it.
class SocketConnection : public QObject, public gloox::ConnectionBase
{
    Q_OBJECT
public:
    struct Endpoint
    {
        QString domain; // the JID's domain: SRV name, SNI and the name the certificate must carry
        QString host;   // dial this instead of looking up SRV records when set
        quint16 port = 5222; // with host, or for the fallback to the domain itself
        bool directTls = false;
        QSslConfiguration tls;
    };
    struct HandshakeOutcome
    {
        bool ok = false;
        QString reason;          // why it failed, for the log and offline()
        QList<QSslError> errors; // certificate problems, when that is why
    };
    using HandshakeDone = std::function<void(const HandshakeOutcome &outcome)>;

    SocketConnection(gloox::ConnectionDataHandler *handler, Endpoint endpoint);
    ~SocketConnection() override;

    // gloox::ConnectionBase
    gloox::ConnectionError connect() override;
    gloox::ConnectionError recv(int timeout = -1) override;
    bool send(const std::string &data) override;
    // RFC 6120 §4.4: writes the closing tag and nothing after it, while what the server sent
    // before it saw the close still arrives; disconnect() follows once the server closes too.
    void closeStream();
    gloox::ConnectionError receive() override;
    void disconnect() override;
    void getStatistics(long int &totalIn, long int &totalOut) override;
    gloox::ConnectionBase *newInstance() const override;

    // STARTTLS on the established stream; `done` is called exactly once unless disconnect()
    // comes first. While the handshake runs, a loss is reported through `done`, not as a
    // disconnect, because gloox then tears the stream down itself.
    void startTls(HandshakeDone done);

    const QSslSocket *socket() const { return socket_.get(); }
    QString lastError() const { return lastError_; } // the most recent failure, for offline()

Q_SIGNALS:
    // The socket is closed for good: after disconnect() once the buffered bytes (the closing
    // </stream:stream>) are written, or after a loss.
    void closed();

private:
    void lookUpTargets();
    void dialNextTarget();
    void handleSocketReady();
    void handleEncrypted();
    void handleReadyRead();
    void handleSocketGone();
    void failHandshake(const QString &reason);
    gloox::ConnectionError lossReason() const;

    struct Target
    {
        QString host;
        quint16 port = 0;
    };

    Endpoint endpoint_;
    std::unique_ptr<QSslSocket> socket_;
    std::unique_ptr<QDnsLookup> lookup_;
    std::deque<Target> targets_;
    HandshakeDone handshakeDone_;
    QList<QSslError> sslErrors_;
    QTimer closeDeadline_;
    bool streamClosed_ = false; // closeStream() wrote the closing tag: nothing more goes out
    QString lastError_;
    bool tcpConnected_ = false;
    long int bytesIn_ = 0;
    long int bytesOut_ = 0;
};

} // namespace xbnc
