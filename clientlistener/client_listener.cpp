#include "client_listener.h"

#include "fast_login.h"
#include "login_throttle.h"
#include "peer_source.h"
#include "refused_connection.h"
#include "resumable_sessions.h"
#include "sasl_server.h"
#include "self_signed_certificate.h"
#include "tcp_acceptor.h"

#include <QFile>
#include <QLoggingCategory>
#include <QSslCertificate>
#include <QSslKey>

Q_LOGGING_CATEGORY(lcListener, "xbnc.listener")

namespace xbnc {

namespace {

std::optional<QSslKey> readPrivateKey(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    const QByteArray pem = file.readAll();
    // A PEM key does not say its algorithm to Qt; try the ones certificates use.
    for (const QSsl::KeyAlgorithm algorithm : {QSsl::Ec, QSsl::Rsa, QSsl::Dsa}) {
        QSslKey key(pem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!key.isNull())
            return key;
    }
    *error = QStringLiteral("no usable private key in %1").arg(path);
    return std::nullopt;
}

} // namespace

ClientListener::ClientListener(ListenerConfig config, QObject *parent)
    : QObject(parent), config_(std::move(config)),
      credentials_(std::make_shared<const SaslCredentials>(config_.username, config_.password)),
      loginThrottle_(std::make_shared<LoginThrottle>(config_.loginThrottle)),
      resumable_(std::make_shared<ResumableSessions>()),
      prelogin_(config_.maxPreloginConnections, config_.maxPreloginPerAddress),
      starttlsAcceptor_(new TcpAcceptor({config_.acceptRetryFirst, config_.acceptRetryMax}, this)),
      directTlsAcceptor_(new TcpAcceptor({config_.acceptRetryFirst, config_.acceptRetryMax}, this))
{
    connect(
        starttlsAcceptor_, &TcpAcceptor::accepted, this,
        [this](qintptr descriptor, const QHostAddress &peer) { accept(descriptor, peer, false); });
    connect(
        directTlsAcceptor_, &TcpAcceptor::accepted, this,
        [this](qintptr descriptor, const QHostAddress &peer) { accept(descriptor, peer, true); });
}

ClientListener::~ClientListener() = default;

bool ClientListener::listen(QString *error)
{
    QString why;
    std::optional<QSslConfiguration> tls = loadTlsConfiguration(&why);
    if (!tls) {
        *error = why;
        return false;
    }
    tls_ = *tls;
    if (!config_.requireTls && !config_.address.isLoopback())
        qCWarning(lcListener) << "plaintext is only allowed to loopback clients";

    if (!starttlsAcceptor_->listen(config_.address, config_.port)) {
        *error = QStringLiteral("cannot listen on %1 port %2: %3")
                     .arg(config_.address.toString())
                     .arg(config_.port)
                     .arg(starttlsAcceptor_->errorString());
        return false;
    }
    qCInfo(lcListener) << "listening on" << config_.address.toString() << "port" << port();
    if (config_.directTlsPort >= 0) {
        if (!directTlsAcceptor_->listen(config_.address, quint16(config_.directTlsPort))) {
            *error = QStringLiteral("cannot listen on %1 port %2: %3")
                         .arg(config_.address.toString())
                         .arg(config_.directTlsPort)
                         .arg(directTlsAcceptor_->errorString());
            starttlsAcceptor_->close();
            return false;
        }
        qCInfo(lcListener) << "direct TLS on port" << directTlsPort();
    }
    return true;
}

quint16 ClientListener::port() const
{
    return starttlsAcceptor_->isListening() ? starttlsAcceptor_->serverPort() : 0;
}

quint16 ClientListener::directTlsPort() const
{
    return directTlsAcceptor_->isListening() ? directTlsAcceptor_->serverPort() : 0;
}

QString ClientListener::certificateFingerprint() const
{
    const QSslCertificate certificate = tls_.localCertificate();
    if (certificate.isNull())
        return {};
    return QString::fromLatin1(certificate.digest(QCryptographicHash::Sha256).toHex(':').toUpper());
}

bool ClientListener::reloadCertificate(QString *error)
{
    QString why;
    std::optional<QSslConfiguration> tls = loadTlsConfiguration(&why);
    if (!tls) {
        *error = why;
        qCWarning(lcListener) << "certificate reload failed:" << why;
        return false;
    }
    tls_ = *tls;
    qCInfo(lcListener) << "certificate reloaded:" << certificateFingerprint();
    return true;
}

std::optional<QSslConfiguration> ClientListener::loadTlsConfiguration(QString *error) const
{
    QString certFile = config_.certFile;
    QString keyFile = config_.keyFile;
    if (certFile.isEmpty()) {
        const std::optional<CertificatePaths> generated =
            ensureSelfSignedCertificate(config_.dataDir, config_.domain, error);
        if (!generated)
            return std::nullopt;
        certFile = generated->certFile;
        keyFile = generated->keyFile;
    }
    // The file may hold the intermediates after the leaf; clients need the whole chain.
    const QList<QSslCertificate> chain = QSslCertificate::fromPath(certFile, QSsl::Pem);
    if (chain.isEmpty()) {
        *error = QStringLiteral("no certificate in %1").arg(certFile);
        return std::nullopt;
    }
    const std::optional<QSslKey> key =
        readPrivateKey(keyFile.isEmpty() ? certFile : keyFile, error);
    if (!key)
        return std::nullopt;

    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificateChain(chain);
    tls.setPrivateKey(*key);
    tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    tls.setProtocol(QSsl::TlsV1_2OrLater);
    tls.setAllowedNextProtocols({QByteArrayLiteral("xmpp-client")});
    return tls;
}

void ClientListener::accept(qintptr socketDescriptor, const QHostAddress &peer, bool directTls)
{
    if (!prelogin_.admits(peer)) {
        qCWarning(lcListener).nospace()
            << "refused a connection from " << peer.toString() << ": " << prelogin_.fromSource(peer)
            << " from " << peerSource(peer) << " and " << prelogin_.total()
            << " in all have not logged in yet";
        refuseConnection(socketDescriptor, !directTls, config_.domain,
                         QStringLiteral("too many connections that have not logged in"));
        return;
    }
    auto *session = new Downstream(socketDescriptor, sessionSettings(), directTls, this);
    prelogin_.add(session->id(), peer);
    follow(session, session->id());
}

void ClientListener::follow(Downstream *session, SessionId firstId)
{
    connect(session, &Downstream::closed, this, [this, firstId] { prelogin_.remove(firstId); });
    connect(session, &Downstream::bound, this, [this, session] {
        prelogin_.remove(session->id());
        Q_EMIT sessionBound(session);
    });
    // A resumed session has the earlier session's id from then on: the quota knows the first.
    connect(session, &Downstream::resumed, this, [this, session, firstId] {
        prelogin_.remove(firstId);
        Q_EMIT sessionResumed(session);
    });
}

void ClientListener::setFastTokens(FastTokens &tokens)
{
    fastLogin_ = std::make_shared<FastLogin>(tokens, config_.fastTokenLifetime);
}

DownstreamSettings ClientListener::sessionSettings() const
{
    DownstreamSettings settings;
    settings.username = config_.username;
    settings.domain = config_.domain;
    settings.requireTls = config_.requireTls;
    settings.maxStanzaBytes = config_.maxStanzaBytes;
    settings.maxPreloginStanzaBytes = config_.maxPreloginStanzaBytes;
    settings.maxDepth = config_.maxDepth;
    settings.maxQueuedBytes = config_.maxQueuedBytes;
    settings.negotiationTimeoutMs = config_.preloginTimeoutMs;
    settings.idleTimeoutMs = config_.idleTimeoutMs;
    settings.pingTimeoutMs = config_.pingTimeoutMs;
    settings.tls = tls_;
    settings.credentials = credentials_;
    settings.loginThrottle = loginThrottle_;
    settings.boundResource = boundResource_;
    settings.resumableSessions = resumable_;
    settings.fastLogin = fastLogin_;
    settings.resumeTimeout = config_.resumeTimeout;
    settings.hibernationLimits = config_.hibernationLimits;
    settings.maxHibernatingSessions = config_.maxHibernatingSessions;
    settings.serverCaps = serverCaps_;
    return settings;
}

std::vector<Downstream *> ClientListener::resumableSessions() const
{
    std::vector<Downstream *> sessions = resumable_->all();
    std::erase_if(sessions, [](const Downstream *session) { return !session->canBeResumed(); });
    return sessions;
}

Downstream *ClientListener::restoreSession(const SavedSession &saved)
{
    // Never counted as a connection that has not logged in: it has no connection at all.
    auto *session = new Downstream(saved, sessionSettings(), this);
    follow(session, session->id());
    return session;
}

} // namespace xbnc
