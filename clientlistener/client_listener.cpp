#include "client_listener.h"

#include "fast_login.h"
#include "login_throttle.h"
#include "own_certificate.h"
#include "peer_source.h"
#include "refused_connection.h"
#include "resumable_sessions.h"
#include "sasl_server.h"
#include "tcp_acceptor.h"
#include "tls_context.h"

#include <QFile>
#include <QLoggingCategory>
#include <QSslCertificate>
#include <QSslKey>
#include <QTimer>

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

// `certFile` may hold the intermediates after the leaf; clients need the whole chain. An empty
// `keyFile` means the key is in `certFile` too.
std::optional<QSslConfiguration> tlsFromFiles(const QString &certFile, const QString &keyFile,
                                              QString *error)
{
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
    // XEP-0368: direct-TLS clients may ask for this ALPN protocol; STARTTLS clients ignore it.
    tls.setAllowedNextProtocols({QByteArrayLiteral("xmpp-client")});
    return tls;
}

QString fingerprintOf(const QSslConfiguration &tls)
{
    const QSslCertificate certificate = tls.localCertificate();
    if (certificate.isNull())
        return {};
    return QString::fromLatin1(certificate.digest(QCryptographicHash::Sha256).toHex(':').toUpper());
}

OwnCertificateRequest ownCertificateRequest(const ListenerConfig &config)
{
    return {config.dataDir, config.certificateNames(), QDateTime::currentDateTimeUtc()};
}

// What ensureOwnCertificate() did, if anything. A new CA for changed names is critical: until
// each device trusts it, none of them can connect.
void logChange(const OwnCertificate &own)
{
    const QString until = own.leafNotAfter.toString(Qt::ISODate);
    switch (own.action) {
    case OwnCertificateAction::Keep:
        break;
    case OwnCertificateAction::NewLeaf:
        qCInfo(lcListener) << "renewed xbnc's own certificate, valid until" << until;
        break;
    case OwnCertificateAction::NewCa:
        if (own.replacedCa)
            qCCritical(lcListener).noquote()
                << "xbnc's CA may not sign for the domain and [listener] hostnames as they are "
                   "now (or was about to expire): made a NEW CA in"
                << own.caFile
                << "- every device must trust it again (xbnc --export-ca, see the README)";
        else
            qCInfo(lcListener) << "made xbnc's own CA in" << own.caFile << "and a certificate"
                               << "valid until" << until;
        break;
    }
}

// Daily is far more often than needed (a leaf is renewed 30 days before it expires), and
// cheap: it reads four small files.
constexpr int kRenewalCheckMs = 24 * 3600 * 1000;

} // namespace

ClientListener::ClientListener(ListenerConfig config, QObject *parent)
    : QObject(parent), config_(std::move(config)),
      credentials_(std::make_shared<const SaslCredentials>(config_.username, config_.password)),
      loginThrottle_(std::make_shared<LoginThrottle>(config_.loginThrottle)),
      resumable_(std::make_shared<ResumableSessions>()),
      prelogin_(config_.maxPreloginConnections, config_.maxPreloginPerAddress),
      starttlsAcceptor_(new TcpAcceptor({config_.acceptRetryFirst, config_.acceptRetryMax}, this)),
      directTlsAcceptor_(new TcpAcceptor({config_.acceptRetryFirst, config_.acceptRetryMax}, this)),
      hostAcceptor_(new TcpAcceptor({config_.acceptRetryFirst, config_.acceptRetryMax}, this))
{
    connect(starttlsAcceptor_, &TcpAcceptor::accepted, this,
            [this](qintptr descriptor, const QHostAddress &peer) {
                accept(descriptor, peer, false, tlsContext_);
            });
    connect(directTlsAcceptor_, &TcpAcceptor::accepted, this,
            [this](qintptr descriptor, const QHostAddress &peer) {
                accept(descriptor, peer, true, tlsContext_);
            });
    connect(hostAcceptor_, &TcpAcceptor::accepted, this,
            [this](qintptr descriptor, const QHostAddress &peer) {
                accept(descriptor, peer, true, hostTlsContext_);
            });
}

ClientListener::~ClientListener() = default;

bool ClientListener::listen(QString *error)
{
    if (!loadCertificates(error))
        return false;
    if (!config_.requireTls && !config_.address.isLoopback())
        qCWarning(lcListener) << "plaintext is only allowed to loopback clients";

    // A port that cannot be bound closes those already open, so a failed start holds none.
    const auto bind = [&](TcpAcceptor *acceptor, quint16 port) {
        if (acceptor->listen(config_.address, port))
            return true;
        *error = QStringLiteral("cannot listen on %1 port %2: %3")
                     .arg(config_.address.toString())
                     .arg(port)
                     .arg(acceptor->errorString());
        for (TcpAcceptor *open : {starttlsAcceptor_, directTlsAcceptor_, hostAcceptor_})
            open->close();
        return false;
    };
    if (!bind(starttlsAcceptor_, config_.port))
        return false;
    qCInfo(lcListener) << "listening on" << config_.address.toString() << "port" << port();
    if (config_.directTlsPort >= 0) {
        if (!bind(directTlsAcceptor_, quint16(config_.directTlsPort)))
            return false;
        qCInfo(lcListener) << "direct TLS on port" << directTlsPort();
    }
    if (config_.hostPort >= 0) {
        if (!bind(hostAcceptor_, quint16(config_.hostPort)))
            return false;
        qCInfo(lcListener) << "host certificate on port" << hostPort()
                           << "SHA-256 fingerprint:" << fingerprintOf(hostTls_);
    }
    if (config_.certFile.isEmpty()) {
        auto *renewal = new QTimer(this);
        connect(renewal, &QTimer::timeout, this, &ClientListener::renewOwnCertificate);
        renewal->start(kRenewalCheckMs);
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

quint16 ClientListener::hostPort() const
{
    return hostAcceptor_->isListening() ? hostAcceptor_->serverPort() : 0;
}

QString ClientListener::certificateFingerprint() const
{
    return fingerprintOf(tls_);
}

bool ClientListener::reloadCertificate(QString *error)
{
    if (!loadCertificates(error)) {
        qCWarning(lcListener) << "certificate reload failed:" << *error;
        return false;
    }
    qCInfo(lcListener) << "certificate reloaded:" << certificateFingerprint();
    if (config_.hostPort >= 0)
        qCInfo(lcListener) << "host certificate reloaded:" << fingerprintOf(hostTls_);
    return true;
}

void ClientListener::renewOwnCertificate()
{
    // Reloaded only when something changed, so a day with nothing to renew leaves no trace.
    QString error;
    const std::optional<OwnCertificate> own =
        ensureOwnCertificate(ownCertificateRequest(config_), &error);
    if (!own)
        qCWarning(lcListener) << "cannot renew xbnc's own certificate:" << error;
    else if (own->action != OwnCertificateAction::Keep) {
        logChange(*own);
        reloadCertificate(&error);
    }
}

bool ClientListener::loadCertificates(QString *error)
{
    QString why;
    std::optional<QSslConfiguration> tls = loadMainTls(&why);
    std::optional<QSslConfiguration> hostTls = tls ? loadHostTls(&why) : std::nullopt;
    std::shared_ptr<const TlsContext> context, hostContext;
    if (tls)
        context = TlsContext::forServer(tls->localCertificateChain(), tls->privateKey(), &why);
    if (context && hostTls && !hostTls->localCertificateChain().isEmpty())
        hostContext =
            TlsContext::forServer(hostTls->localCertificateChain(), hostTls->privateKey(), &why);
    if (!context || !hostTls || (config_.hostPort >= 0 && !hostContext)) {
        *error = why;
        return false;
    }
    tls_ = *tls;
    hostTls_ = *hostTls;
    tlsContext_ = std::move(context);
    hostTlsContext_ = std::move(hostContext);
    return true;
}

std::optional<QSslConfiguration> ClientListener::loadMainTls(QString *error) const
{
    if (!config_.certFile.isEmpty())
        return tlsFromFiles(config_.certFile, config_.keyFile, error);
    const std::optional<OwnCertificate> own =
        ensureOwnCertificate(ownCertificateRequest(config_), error);
    if (!own)
        return std::nullopt;
    logChange(*own);
    return tlsFromFiles(own->certFile, own->keyFile, error);
}

std::optional<QSslConfiguration> ClientListener::loadHostTls(QString *error) const
{
    if (config_.hostPort < 0)
        return QSslConfiguration();
    return tlsFromFiles(config_.hostCertFile, config_.hostKeyFile, error);
}

void ClientListener::accept(qintptr socketDescriptor, const QHostAddress &peer, bool directTls,
                            const std::shared_ptr<const TlsContext> &tls)
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
    auto *session = new Downstream(socketDescriptor, sessionSettings(tls), directTls, this);
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

DownstreamSettings ClientListener::sessionSettings(std::shared_ptr<const TlsContext> tls) const
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
    settings.tls = std::move(tls);
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
    auto *session = new Downstream(saved, sessionSettings(tlsContext_), this);
    follow(session, session->id());
    return session;
}

} // namespace xbnc
