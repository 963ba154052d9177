#include "starttls_stub_server.h"

#include <QSslConfiguration>
#include <QSslSocket>

StartTlsStubServer::StartTlsStubServer(QSslCertificate certificate, QSslKey key,
                                       QSsl::SslProtocol protocol, QObject *parent)
    : QTcpServer(parent), certificate_(std::move(certificate)), key_(std::move(key)),
      protocol_(protocol)
{
}

void StartTlsStubServer::incomingConnection(qintptr socketDescriptor)
{
    ++connectionsSeen_;
    auto *socket = new QSslSocket(this); // owned by the server until it closes
    if (!socket->setSocketDescriptor(socketDescriptor)) {
        socket->deleteLater();
        return;
    }
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificate(certificate_);
    tls.setPrivateKey(key_);
    tls.setProtocol(protocol_);
    tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    socket->setSslConfiguration(tls);

    connect(socket, &QSslSocket::disconnected, socket, &QObject::deleteLater);
    connect(socket, &QSslSocket::encrypted, this, [this, socket] {
        ++handshakesCompleted_;
        lastProtocol_ = socket->sessionProtocol();
        Q_EMIT handshakeCompleted();
        socket->disconnectFromHost();
    });
    connect(socket, &QSslSocket::readyRead, this, [socket] {
        if (socket->isEncrypted())
            return; // the client's second stream header; the stub stops here
        const QByteArray seen = socket->readAll();
        if (seen.contains("<stream:stream")) {
            socket->write("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                          "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' "
                          "from='localhost' id='stub'><stream:features>"
                          "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
                          "</starttls></stream:features>");
        }
        if (seen.contains("<starttls")) {
            socket->write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
            socket->flush();
            socket->startServerEncryption();
        }
    });
}
