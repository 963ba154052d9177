#include "socket_tls.h"

#include "socket_connection.h"

#include <QLoggingCategory>
#include <QSslCipher>
#include <QSslConfiguration>
#include <QSslSocket>

namespace xbnc {

namespace {

Q_LOGGING_CATEGORY(lcTls, "xbnc.upstream.tls")

std::string protocolName(QSsl::SslProtocol protocol)
{
    switch (protocol) {
    case QSsl::TlsV1_2:
        return "TLSv1.2";
    case QSsl::TlsV1_3:
        return "TLSv1.3";
    default:
        return "TLS";
    }
}

// gloox's CertStatus bits for what Qt found wrong with the certificate.
int certificateStatus(const QList<QSslError> &errors)
{
    int status = gloox::CertOk;
    for (const QSslError &error : errors) {
        switch (error.error()) {
        case QSslError::HostNameMismatch:
            status |= gloox::CertWrongPeer;
            break;
        case QSslError::CertificateExpired:
            status |= gloox::CertExpired;
            break;
        case QSslError::CertificateNotYetValid:
            status |= gloox::CertNotActive;
            break;
        case QSslError::CertificateRevoked:
            status |= gloox::CertRevoked;
            break;
        case QSslError::UnableToGetLocalIssuerCertificate:
        case QSslError::UnableToGetIssuerCertificate:
        case QSslError::SelfSignedCertificate:
        case QSslError::SelfSignedCertificateInChain:
            status |= gloox::CertSignerUnknown | gloox::CertInvalid;
            break;
        case QSslError::InvalidCaCertificate:
            status |= gloox::CertSignerNotCa | gloox::CertInvalid;
            break;
        default:
            status |= gloox::CertInvalid;
            break;
        }
    }
    return status;
}

} // namespace

SocketTls::SocketTls(gloox::TLSHandler *handler, SocketConnection *connection,
                     const QString &domain)
    : gloox::TLSBase(handler, domain.toStdString()), connection_(connection)
{
}

bool SocketTls::clientConfiguration(const QString &caFile, QSslConfiguration *configuration,
                                    QString *error)
{
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setProtocol(QSsl::TlsV1_2OrLater);
    tls.setPeerVerifyMode(QSslSocket::VerifyPeer);
    tls.setAllowedNextProtocols({QByteArrayLiteral("xmpp-client")});
    QList<QSslCertificate> authorities = QSslConfiguration::systemCaCertificates();
    if (!caFile.isEmpty()) {
        const QList<QSslCertificate> extra = QSslCertificate::fromPath(caFile, QSsl::Pem);
        if (extra.isEmpty()) {
            if (error)
                *error = QStringLiteral("no PEM certificate in ca_file %1").arg(caFile);
            return false;
        }
        authorities += extra;
    }
    tls.setCaCertificates(authorities);
    *configuration = tls;
    return true;
}

bool SocketTls::init(const std::string &, const std::string &, const gloox::StringList &)
{
    // Everything is configured on the QSslSocket; there is no library to initialise.
    m_valid = true;
    return true;
}

bool SocketTls::encrypt(const std::string &data)
{
    // QSslSocket encrypts what is written to it.
    m_handler->handleEncryptedData(this, data);
    return true;
}

int SocketTls::decrypt(const std::string &data)
{
    // What the QSslSocket hands over is already plaintext.
    m_handler->handleDecryptedData(this, data);
    return int(data.size());
}

void SocketTls::cleanup()
{
    m_secure = false;
}

bool SocketTls::handshake()
{
    connection_->startTls([this](const SocketConnection::HandshakeOutcome &outcome) {
        m_certInfo = gloox::CertInfo{};
        if (!outcome.ok) {
            m_certInfo.status = certificateStatus(outcome.errors) | gloox::CertInvalid;
            m_certInfo.chain = false;
            m_handler->handleHandshakeResult(this, false, m_certInfo);
            return;
        }
        const QSslSocket *socket = connection_->socket();
        const QSslCertificate peer = socket->peerCertificate();
        m_secure = true;
        m_certInfo.status = gloox::CertOk;
        m_certInfo.chain = true;
        m_certInfo.issuer = peer.issuerDisplayName().toStdString();
        m_certInfo.server = peer.subjectDisplayName().toStdString();
        m_certInfo.date_from = int(peer.effectiveDate().toSecsSinceEpoch());
        m_certInfo.date_to = int(peer.expiryDate().toSecsSinceEpoch());
        m_certInfo.protocol = protocolName(socket->sessionProtocol());
        m_certInfo.cipher = socket->sessionCipher().name().toStdString();
        qCDebug(lcTls) << "STARTTLS established:" << socket->sessionProtocol()
                       << socket->sessionCipher().name() << "ALPN"
                       << socket->sslConfiguration().nextNegotiatedProtocol();
        m_handler->handleHandshakeResult(this, true, m_certInfo);
    });
    return true; // the outcome arrives later through handleHandshakeResult()
}

void SocketTls::setCACerts(const gloox::StringList &cacerts)
{
    // Kept only for gloox's bookkeeping: trust comes from clientConfiguration().
    m_cacerts = cacerts;
}

void SocketTls::setClientCert(const std::string &clientKey, const std::string &clientCerts)
{
    m_clientKey = clientKey;
    m_clientCerts = clientCerts;
}

} // namespace xbnc
