#pragma once

#include <QByteArray>
#include <QPointer>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpServer>

// A pretend XMPP server for what Prosody's fixture cannot do: a certificate and protocol of the
// test's choosing, and misbehaviour on demand. By default it goes exactly as far as STARTTLS
// (stream header, features with <starttls/>, <proceed/>, the handshake) and then hangs up, so a
// client under test sees a lost connection and is expected to retry. With setLogsIn(true) it
// goes on to accept any SASL PLAIN login and bind the asked resource; the test then speaks for
// the server with sendRaw(), reads what the client sent with received(), and can cut the
// connection at any byte with abortSession().
class StartTlsStubServer : public QTcpServer
{
    Q_OBJECT
public:
    StartTlsStubServer(QSslCertificate certificate, QSslKey key, QSsl::SslProtocol protocol,
                       QObject *parent = nullptr);

    void setLogsIn(bool logsIn) { logsIn_ = logsIn; }
    // Once logged in, answer every XEP-0199 ping the client sends, as a server would.
    void setAnswersPings(bool answers) { answersPings_ = answers; }

    int connectionsSeen() const { return connectionsSeen_; }
    int handshakesCompleted() const { return handshakesCompleted_; }
    int loginsCompleted() const { return loginsCompleted_; }
    QSsl::SslProtocol lastProtocol() const { return lastProtocol_; }
    // The id of the client's resource binding request on the latest connection.
    const QByteArray &bindId() const { return bindId_; }

    // The latest logged-in connection.
    bool sendRaw(const QByteArray &bytes);
    const QByteArray &received() const { return received_; } // since the latest login
    void abortSession(); // a TCP close with no </stream:stream>, wherever the stream is

Q_SIGNALS:
    void handshakeCompleted();
    void loggedIn();

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    void readStartTls(QSslSocket *socket);
    void readLogin(QSslSocket *socket, QByteArray &buffer, int &phase);
    void answerPings();

    QSslCertificate certificate_;
    QSslKey key_;
    QSsl::SslProtocol protocol_;
    bool logsIn_ = false;
    bool answersPings_ = false;
    qsizetype pingScan_ = 0; // received_ is searched for pings from here on
    int connectionsSeen_ = 0;
    int handshakesCompleted_ = 0;
    int loginsCompleted_ = 0;
    QSsl::SslProtocol lastProtocol_ = QSsl::UnknownProtocol;
    QByteArray bindId_;
    QByteArray received_;
    QPointer<QSslSocket> session_;
};
