#pragma once

#include <QSslCertificate>
#include <QSslKey>
#include <QTcpServer>

// A pretend XMPP server that goes exactly as far as STARTTLS: stream header, features with
// <starttls/>, <proceed/>, then the TLS handshake with a certificate and protocol of the test's
// choosing, which Prosody's fixture cannot vary. After the handshake (or its failure) it hangs
// up, so a client under test sees a lost connection and is expected to retry.
class StartTlsStubServer : public QTcpServer
{
    Q_OBJECT
public:
    StartTlsStubServer(QSslCertificate certificate, QSslKey key, QSsl::SslProtocol protocol,
                       QObject *parent = nullptr);

    int connectionsSeen() const { return connectionsSeen_; }
    int handshakesCompleted() const { return handshakesCompleted_; }
    QSsl::SslProtocol lastProtocol() const { return lastProtocol_; }

Q_SIGNALS:
    void handshakeCompleted();

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    QSslCertificate certificate_;
    QSslKey key_;
    QSsl::SslProtocol protocol_;
    int connectionsSeen_ = 0;
    int handshakesCompleted_ = 0;
    QSsl::SslProtocol lastProtocol_ = QSsl::UnknownProtocol;
};
