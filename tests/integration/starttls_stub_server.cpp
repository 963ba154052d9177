#include "starttls_stub_server.h"

#include <QRegularExpression>
#include <QSslConfiguration>

#include <memory>

namespace {

const QByteArray streamHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                                "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' "
                                "from='localhost' id='stub'>";

// What the encrypted stream has reached; the stub answers each step once it has seen it whole.
enum Phase
{
    AwaitHeader,
    AwaitAuth,
    AwaitSecondHeader,
    AwaitBind,
    LoggedIn
};

} // namespace

StartTlsStubServer::StartTlsStubServer(QSslCertificate certificate, QSslKey key,
                                       QSsl::SslProtocol protocol, QObject *parent)
    : QTcpServer(parent), certificate_(std::move(certificate)), key_(std::move(key)),
      protocol_(protocol)
{
}

bool StartTlsStubServer::sendRaw(const QByteArray &bytes)
{
    if (!session_)
        return false;
    session_->write(bytes);
    return true;
}

void StartTlsStubServer::abortSession()
{
    if (session_) {
        session_->flush();
        session_->abort();
    }
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
        if (!logsIn_)
            socket->disconnectFromHost();
    });
    auto buffer = std::make_shared<QByteArray>();
    auto phase = std::make_shared<int>(AwaitHeader);
    connect(socket, &QSslSocket::readyRead, this, [this, socket, buffer, phase] {
        if (!socket->isEncrypted())
            readStartTls(socket);
        else if (logsIn_)
            readLogin(socket, *buffer, *phase);
    });
}

void StartTlsStubServer::readStartTls(QSslSocket *socket)
{
    const QByteArray seen = socket->readAll();
    if (seen.contains("<stream:stream")) {
        socket->write(streamHeader + "<stream:features>"
                                     "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
                                     "</starttls></stream:features>");
    }
    if (seen.contains("<starttls")) {
        socket->write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        socket->flush();
        socket->startServerEncryption();
    }
}

void StartTlsStubServer::readLogin(QSslSocket *socket, QByteArray &buffer, int &phase)
{
    buffer += socket->readAll();
    if (phase == LoggedIn) {
        if (socket == session_)
            received_ += buffer;
        buffer.clear();
        if (answersPings_)
            answerPings();
        return;
    }
    if (phase == AwaitHeader && buffer.contains("<stream:stream")) {
        buffer.clear();
        phase = AwaitAuth;
        socket->write(streamHeader + "<stream:features>"
                                     "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                                     "<mechanism>PLAIN</mechanism></mechanisms>"
                                     "</stream:features>");
    } else if (phase == AwaitAuth && buffer.contains("</auth>")) {
        buffer.clear();
        phase = AwaitSecondHeader;
        socket->write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    } else if (phase == AwaitSecondHeader && buffer.contains("<stream:stream")) {
        buffer.clear();
        phase = AwaitBind;
        socket->write(streamHeader + "<stream:features>"
                                     "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
                                     "</stream:features>");
    } else if (phase == AwaitBind && buffer.contains("</iq>")) {
        static const QRegularExpression idPattern(QStringLiteral("id=['\"]([^'\"]*)['\"]"));
        static const QRegularExpression resourcePattern(QStringLiteral("<resource>([^<]*)<"));
        const QString request = QString::fromUtf8(buffer);
        bindId_ = idPattern.match(request).captured(1).toUtf8();
        const QByteArray resource = resourcePattern.match(request).captured(1).toUtf8();
        buffer.clear();
        phase = LoggedIn;
        socket->write("<iq type='result' id='" + bindId_ +
                      "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@localhost/" +
                      resource + "</jid></bind></iq>");
        session_ = socket;
        received_.clear();
        pingScan_ = 0;
        ++loginsCompleted_;
        Q_EMIT loggedIn();
    }
}

void StartTlsStubServer::answerPings()
{
    // The client under test writes each ping as one flat <iq>; a partial one is found next time.
    static const QRegularExpression ping(
        QStringLiteral("<iq ([^>]*)><ping xmlns=['\"]urn:xmpp:ping['\"]/></iq>"));
    static const QRegularExpression id(QStringLiteral("\\bid=['\"]([^'\"]*)['\"]"));
    const QString text = QString::fromUtf8(received_);
    auto matches = ping.globalMatch(text, pingScan_);
    while (matches.hasNext()) {
        const QRegularExpressionMatch request = matches.next();
        pingScan_ = request.capturedEnd();
        const QString attributes = request.captured(1);
        if (!attributes.contains(QStringLiteral("type='get'")))
            continue;
        session_->write("<iq type='result' from='localhost' id='" +
                        id.match(attributes).captured(1).toUtf8() + "'/>");
    }
}
