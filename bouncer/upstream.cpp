#include "upstream.h"

#include "socket_connection.h"
#include "socket_tls.h"
#include "upstream_client.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QRandomGenerator>

#include <algorithm>
#include <chrono>
#include <utility>

namespace xbnc {

namespace {

Q_LOGGING_CATEGORY(lcUpstream, "xbnc.upstream")

using namespace std::chrono_literals;

// A server that accepts TCP but never finishes TLS, SASL or bind must not hold the account
// offline forever: the attempt is abandoned and retried like any other failure.
bool fastTimers()
{
    return qEnvironmentVariableIntValue("XBNC_TEST_FAST_TIMERS") == 1;
}

std::chrono::milliseconds loginDeadline()
{
    return fastTimers() ? 2s : 30s;
}

// Stanzas sent in a burst share one <r/>; the server's <a/> then frees what it received.
constexpr std::chrono::milliseconds ackRequestDelay = 250ms;

// Stopping: how long the server may take to close its side of the stream after xbnc's closing
// tag; what it sends meanwhile still counts. Past it the connection goes anyway.
constexpr std::chrono::milliseconds closeDeadline = 3s;

// An <a/> this late means a link that died without a reset (a NAT that forgot the mapping, a
// peer that vanished): ending it now lets the stream be resumed while the server still keeps it.
std::chrono::milliseconds ackTimeout()
{
    return fastTimers() ? 5s : 60s;
}

QString describeConnectionError(gloox::ConnectionError error)
{
    switch (error) {
    case gloox::ConnNoError:
        return QStringLiteral("no error");
    case gloox::ConnStreamError:
        return QStringLiteral("stream error");
    case gloox::ConnStreamVersionError:
        return QStringLiteral("unsupported stream version");
    case gloox::ConnStreamClosed:
        return QStringLiteral("stream closed by the server");
    case gloox::ConnIoError:
        return QStringLiteral("I/O error");
    case gloox::ConnParseError:
        return QStringLiteral("XML parse error");
    case gloox::ConnConnectionRefused:
        return QStringLiteral("connection refused");
    case gloox::ConnDnsError:
        return QStringLiteral("host not found");
    case gloox::ConnNoSupportedAuth:
        return QStringLiteral("no supported SASL mechanism");
    case gloox::ConnTlsFailed:
        return QStringLiteral("TLS failed");
    case gloox::ConnTlsNotAvailable:
        return QStringLiteral("the server offers no STARTTLS");
    case gloox::ConnAuthenticationFailed:
        return QStringLiteral("authentication failed");
    case gloox::ConnUserDisconnected:
        return QStringLiteral("disconnected");
    default:
        return QStringLiteral("connection error %1").arg(int(error));
    }
}

QString describeAuthError(gloox::AuthenticationError error)
{
    switch (error) {
    case gloox::SaslNotAuthorized:
        return QStringLiteral("not-authorized");
    case gloox::SaslTemporaryAuthFailure:
        return QStringLiteral("temporary-auth-failure");
    case gloox::SaslMechanismTooWeak:
        return QStringLiteral("mechanism-too-weak");
    default:
        return QStringLiteral("SASL error %1").arg(int(error));
    }
}

QString describeStreamError(gloox::StreamError error)
{
    // The conditions a client is likely to meet (RFC 6120 §4.9.3); the rest by number.
    switch (error) {
    case gloox::StreamErrorConflict:
        return QStringLiteral("conflict");
    case gloox::StreamErrorConnectionTimeout:
        return QStringLiteral("connection-timeout");
    case gloox::StreamErrorHostUnknown:
        return QStringLiteral("host-unknown");
    case gloox::StreamErrorNotAuthorized:
        return QStringLiteral("not-authorized");
    case gloox::StreamErrorPolicyViolation:
        return QStringLiteral("policy-violation");
    case gloox::StreamErrorResourceConstraint:
        return QStringLiteral("resource-constraint");
    case gloox::StreamErrorSeeOtherHost:
        return QStringLiteral("see-other-host");
    case gloox::StreamErrorSystemShutdown:
        return QStringLiteral("system-shutdown");
    default:
        return QStringLiteral("condition %1").arg(int(error));
    }
}

} // namespace

Upstream::Upstream(UpstreamConfig config, QObject *parent)
    : QObject(parent), config_(std::move(config)),
      backoff_(ReconnectBackoff::policyFromEnvironment()),
      sm_(std::make_shared<UpstreamSmSession>())
{
    ackRequest_.setSingleShot(true);
    ackRequest_.setInterval(ackRequestDelay);
    connect(&ackRequest_, &QTimer::timeout, this, [this] {
        if (phase_ == Phase::Online && client_)
            client_->requestAck();
    });
    ackWatch_.setInterval(ackTimeout() / 4);
    connect(&ackWatch_, &QTimer::timeout, this, &Upstream::checkAckWaiting);
    resumeWindow_.setSingleShot(true);
    connect(&resumeWindow_, &QTimer::timeout, this, &Upstream::giveUpResuming);
    retryTimer_.setSingleShot(true);
    connect(&retryTimer_, &QTimer::timeout, this, &Upstream::connectNow);
    stableTimer_.setSingleShot(true);
    stableTimer_.setInterval(backoff_.policy().stableAfter);
    connect(&stableTimer_, &QTimer::timeout, this, [this] { attempt_ = 0; });
    closeDeadline_.setSingleShot(true);
    closeDeadline_.setInterval(closeDeadline);
    connect(&closeDeadline_, &QTimer::timeout, this, [this] {
        if (phase_ != Phase::Stopping || !client_)
            return;
        qCWarning(lcUpstream) << "the server did not close the stream within"
                              << closeDeadline_.interval() << "ms; closing the connection";
        client_->disconnect();
    });
    loginDeadline_.setSingleShot(true);
    loginDeadline_.setInterval(loginDeadline());
    connect(&loginDeadline_, &QTimer::timeout, this, [this] {
        if (phase_ != Phase::Connecting || !client_)
            return;
        abortReason_ = QStringLiteral("no login within %1 ms").arg(loginDeadline_.interval());
        client_->abortConnection(gloox::ConnIoError);
    });
}

Upstream::~Upstream()
{
    if (!client_ || !QCoreApplication::instance())
        return;
    // The hub may delete us from a slot of one of our signals, i.e. deep inside the client's
    // socket callbacks (gloox's parser, the QSslSocket): those frames still need the client, so
    // it is destroyed from the event loop, after it is told that nobody listens any more.
    client_->detach();
    QTimer::singleShot(0, QCoreApplication::instance(),
                       [client = std::shared_ptr<UpstreamClient>(std::move(client_))] {});
}

void Upstream::start()
{
    if (phase_ != Phase::Idle)
        return;
    attempt_ = 0;
    phase_ = Phase::Waiting;
    retryTimer_.start(0);
}

void Upstream::stop()
{
    switch (phase_) {
    case Phase::Idle:
    case Phase::Waiting:
        retryTimer_.stop();
        resumeWindow_.stop(); // no offline() after stopped()
        interrupted_ = false;
        phase_ = Phase::Stopping;
        QMetaObject::invokeMethod(this, &Upstream::finishStop, Qt::QueuedConnection);
        return;
    case Phase::Connecting:
    case Phase::Online: {
        const bool online = phase_ == Phase::Online;
        phase_ = Phase::Stopping;
        loginDeadline_.stop();
        stableTimer_.stop();
        ackRequest_.stop();
        ackWatch_.stop();
        resumeWindow_.stop();
        sm_->id.clear(); // a closed stream is ended server-side: nothing to resume
        qCInfo(lcUpstream) << "closing the stream to" << config_.jid;
        if (!online) {
            // Sends </stream:stream>; the socket writes it before closing, then reports closed().
            client_->disconnect();
            return;
        }
        // RFC 6120 §4.4: the server may have routed stanzas to the account before it sees the
        // closing tag (a message sent as xbnc stops). Without stream management on the server
        // nothing would send them again, so they are read and reach the hub (sessions kept for
        // a restart keep them) until the server closes its side, which ends the connection.
        connection_->closeStream();
        closeDeadline_.start();
        return;
    }
    case Phase::Stopping:
        return;
    }
}

void Upstream::finishStop()
{
    if (phase_ != Phase::Stopping)
        return;
    phase_ = Phase::Idle;
    closeDeadline_.stop();
    qCInfo(lcUpstream) << "stopped";
    Q_EMIT stopped();
}

bool Upstream::isOnline() const
{
    return phase_ == Phase::Online;
}

Jid Upstream::jid() const
{
    if (!isOnline())
        return {};
    return Jid(QString::fromStdString(client_->boundJid()));
}

void Upstream::send(const Element &stanza)
{
    if (!isOnline())
        qCWarning(lcUpstream) << "upstream is offline: an outgoing" << stanza.name()
                              << "was not sent";
    else if (!client_->sendStanza(stanza))
        qCWarning(lcUpstream) << "an outgoing" << stanza.name() << "was refused, not sent";
    else if (!ackRequest_.isActive())
        ackRequest_.start();
}

std::vector<Element> Upstream::takeUnacknowledged()
{
    return std::exchange(unacknowledged_, {});
}

std::chrono::milliseconds Upstream::resumeWindow() const
{
    // Meanwhile the hub holds back what sessions send and rooms look joined to them: the
    // server's hibernation (Prosody: 10 minutes) would be too long to leave them unaware. A try
    // a little after the server's own limit still pays: its <failed h=…/> says exactly what it
    // had received.
    const std::chrono::milliseconds cap = fastTimers() ? 10s : 120s;
    const std::chrono::milliseconds grace = fastTimers() ? 5s : 30s;
    if (sm_->maxSeconds <= 0)
        return cap;
    return std::min<std::chrono::milliseconds>(cap, std::chrono::seconds(sm_->maxSeconds) + grace);
}

std::size_t Upstream::pendingRequests()
{
    return client_ ? client_->pendingHubRequests() : 0;
}

void Upstream::connectNow()
{
    phase_ = Phase::Connecting;
    abortReason_.clear();
    connection_ = nullptr;
    client_.reset(); // the previous attempt's client; we are on a timer, outside its callbacks

    const Jid account(config_.jid);
    const gloox::JID jid((account.bareString() + u'/' + config_.resource).toStdString());
    if (!account.isValid() || account.local().isEmpty() || !jid) {
        phase_ = Phase::Idle;
        qCCritical(lcUpstream) << "not a valid account JID:" << config_.jid;
        Q_EMIT authenticationFailed(QStringLiteral("invalid JID %1").arg(config_.jid));
        return;
    }
    SocketConnection::Endpoint endpoint;
    endpoint.domain = account.domain();
    endpoint.host = config_.server;
    endpoint.port = config_.port;
    endpoint.directTls = config_.directTls;
    QString error;
    if (!SocketTls::clientConfiguration(config_.caFile, &endpoint.tls, &error)) {
        qCCritical(lcUpstream) << error;
        scheduleRetry(error); // the file may be fixed in place
        return;
    }

    UpstreamClient::Events events;
    events.stanzaReceived = [this](const Element &stanza) { Q_EMIT stanzaReceived(stanza); };
    events.connected = [this] { handleConnected(); };
    events.disconnected = [this](gloox::ConnectionError e) { handleDisconnected(int(e)); };
    events.resumed = [this] { handleResumed(); };
    events.resumeFailed = [this](bool hKnown) { handleResumeFailed(hKnown); };
    client_ = std::make_unique<UpstreamClient>(jid, config_.password.toStdString(),
                                               std::move(events), config_.limits, sm_);
    // Direct TLS is encrypted before gloox speaks, so gloox must not look for STARTTLS; on a
    // plain connection it must insist on it, so SASL never runs in clear.
    client_->setTls(config_.directTls ? gloox::TLSDisabled : gloox::TLSRequired);
    client_->setCompression(false);
    // SCRAM-SHA-1 first (gloox's order); PLAIN only if offered alone, and only ever over TLS.
    // -PLUS must stay in the set although it is never chosen (SocketTls has no channel binding):
    // without it gloox sends the GS2 flag "y" ("the server cannot bind"), which a server that
    // offers -PLUS rightly rejects as a downgrade; with it gloox sends "n" ("client cannot").
    client_->setSASLMechanisms(gloox::SaslMechScramSha1Plus | gloox::SaslMechScramSha1 |
                               gloox::SaslMechPlain);

    auto connection = std::make_unique<SocketConnection>(client_.get(), std::move(endpoint));
    connect(connection.get(), &SocketConnection::closed, this, &Upstream::handleSocketClosed,
            Qt::QueuedConnection);
    connection_ = connection.get();
    auto tls = std::make_unique<SocketTls>(client_.get(), connection_, account.domain());
    client_->setConnectionImpl(connection.release()); // gloox owns both from here on
    client_->setEncryptionImpl(tls.release());

    qCInfo(lcUpstream) << "connecting as" << QString::fromStdString(jid.full()) << "attempt"
                       << attempt_ + 1;
    loginDeadline_.start();
    if (!client_->connect(false))
        handleDisconnected(int(gloox::ConnNotConnected));
}

void Upstream::handleConnected()
{
    loginDeadline_.stop();
    phase_ = Phase::Online;
    stableTimer_.start();
    ackWatch_.start();
    qCInfo(lcUpstream) << "online as" << QString::fromStdString(client_->jid().full());
    Q_EMIT online();
}

void Upstream::handleDisconnected(int glooxError)
{
    const auto error = gloox::ConnectionError(glooxError);
    loginDeadline_.stop();
    stableTimer_.stop();
    if (phase_ == Phase::Stopping || phase_ == Phase::Idle)
        return; // stop() asked for it; handleSocketClosed() finishes
    ackRequest_.stop();
    ackWatch_.stop();
    if (error == gloox::ConnAuthenticationFailed) {
        phase_ = Phase::Idle;
        resumeWindow_.stop();
        interrupted_ = false;
        sm_->id.clear();
        handOverUnacknowledged();
        const QString reason = describeAuthError(client_->authError());
        qCWarning(lcUpstream) << "authentication as" << config_.jid << "failed:" << reason
                              << "- not retrying";
        Q_EMIT authenticationFailed(reason);
        return;
    }
    QString reason = describeConnectionError(error);
    if (error == gloox::ConnStreamError) {
        const std::string text = client_->streamErrorText();
        reason += u' ' + describeStreamError(client_->streamError());
        if (!text.empty())
            reason += QStringLiteral(": ") + QString::fromStdString(text);
    }
    const QString detail = !abortReason_.isEmpty() ? abortReason_
                           : connection_           ? connection_->lastError()
                                                   : QString();
    if (!detail.isEmpty())
        reason += QStringLiteral(" (%1)").arg(detail);
    if (!sm_->id.empty())
        return scheduleResume(reason);
    handOverUnacknowledged();
    scheduleRetry(reason);
}

void Upstream::handleResumed()
{
    loginDeadline_.stop();
    resumeWindow_.stop();
    interrupted_ = false;
    phase_ = Phase::Online;
    stableTimer_.start();
    ackWatch_.start();
    qCInfo(lcUpstream) << "stream resumed as" << QString::fromStdString(client_->boundJid());
    Q_EMIT resumed();
}

void Upstream::handleResumeFailed(bool hKnown)
{
    resumeWindow_.stop();
    const std::size_t unacknowledged = sm_->acks.unacknowledged().size();
    handOverUnacknowledged();
    qCWarning(lcUpstream).noquote()
        << "the server would not resume the stream: binding afresh;" << unacknowledged
        << (hKnown ? "stanzas it did not receive"
                   : "unacknowledged stanzas (it did not say which it received)")
        << "will be sent again";
    if (!interrupted_)
        return;
    interrupted_ = false;
    Q_EMIT offline(QStringLiteral("the server would not resume the stream"));
}

void Upstream::checkAckWaiting()
{
    if (phase_ != Phase::Online || !client_ || client_->ackWaitingFor() < ackTimeout())
        return;
    abortReason_ = QStringLiteral("no acknowledgement from the server for %1 ms")
                       .arg(client_->ackWaitingFor().count());
    client_->abortConnection(gloox::ConnIoError);
}

void Upstream::giveUpResuming()
{
    if (!interrupted_)
        return;
    interrupted_ = false;
    sm_->id.clear(); // the next attempt logs in afresh
    handOverUnacknowledged();
    const QString reason = QStringLiteral("the stream was not resumed within %1 s")
                               .arg(resumeWindow_.interval() / 1000);
    qCWarning(lcUpstream).noquote() << reason << "- the next attempt logs in afresh";
    if (phase_ == Phase::Connecting && client_) {
        // It may be resuming right now; its end reports offline() with this reason.
        abortReason_ = reason;
        return client_->abortConnection(gloox::ConnIoError);
    }
    Q_EMIT offline(reason);
}

void Upstream::handOverUnacknowledged()
{
    for (Element &stanza : sm_->acks.takeUnacknowledged())
        unacknowledged_.push_back(std::move(stanza));
}

void Upstream::scheduleResume(const QString &reason)
{
    const std::chrono::milliseconds delay =
        backoff_.delayFor(attempt_++, QRandomGenerator::global()->generateDouble());
    phase_ = Phase::Waiting;
    retryTimer_.start(delay);
    if (interrupted_) {
        qCWarning(lcUpstream).noquote()
            << "resuming failed:" << reason << "- retrying in" << delay.count() << "ms";
        return;
    }
    interrupted_ = true;
    resumeWindow_.start(resumeWindow());
    qCWarning(lcUpstream).noquote()
        << "interrupted:" << reason << "- resuming the stream in" << delay.count() << "ms";
    Q_EMIT interrupted(reason);
}

void Upstream::handleSocketClosed()
{
    if (phase_ == Phase::Stopping)
        finishStop();
}

void Upstream::scheduleRetry(const QString &reason)
{
    const std::chrono::milliseconds delay =
        backoff_.delayFor(attempt_++, QRandomGenerator::global()->generateDouble());
    phase_ = Phase::Waiting;
    retryTimer_.start(delay);
    qCWarning(lcUpstream).noquote()
        << "offline:" << reason << "- retrying in" << delay.count() << "ms";
    Q_EMIT offline(reason);
}

} // namespace xbnc
