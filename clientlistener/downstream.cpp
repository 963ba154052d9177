#include "downstream.h"

#include "fast_login.h"
#include "idle_ping.h"
#include "log_excerpt.h"
#include "login_throttle.h"
#include "resource_binding.h"
#include "resumable_sessions.h"
#include "sasl2_request.h"
#include "sasl_exchange.h"
#include "sasl_server.h"
#include "stanza_error.h"
#include "stream_error.h"
#include "stream_features.h"
#include "stream_namespaces.h"
#include "tcp_keepalive.h"
#include "tcp_tls_socket.h"
#include "tls_channel_bindings.h"
#include "xml_stream_parser.h"

#include <QLoggingCategory>
#include <QPointer>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTimer>

Q_LOGGING_CATEGORY(lcDownstream, "xbnc.downstream")
// One warning line per failed or refused login, in a fixed format that fail2ban matches.
Q_LOGGING_CATEGORY(lcAuth, "xbnc.auth")

namespace xbnc {

namespace {

// Socket reads are fed to the parser in slices so that its limits act before a flood of bytes
// turns into a tree.
constexpr qint64 kReadSlice = 16 * 1024;
constexpr int kCloseGraceMs = 5000;
// Ids of xbnc's own pings to the client; the answers stop here and never reach the hub.
constexpr QStringView kPingIdPrefix = u"xbnc-c2s-ping-";
// While a failed login waits for its answer, the socket buffers no more than this.
constexpr qint64 kDelayedReadBuffer = 16 * 1024;

SessionId nextSessionId()
{
    static SessionId last = 0;
    return ++last;
}

QString conditionName(Downstream::StreamError condition)
{
    switch (condition) {
    case Downstream::StreamError::Conflict:
        return QStringLiteral("conflict");
    case Downstream::StreamError::PolicyViolation:
        return QStringLiteral("policy-violation");
    case Downstream::StreamError::NotWellFormed:
        return QStringLiteral("not-well-formed");
    case Downstream::StreamError::SystemShutdown:
        return QStringLiteral("system-shutdown");
    case Downstream::StreamError::Reset:
        return QStringLiteral("reset");
    case Downstream::StreamError::InternalServerError:
        break;
    }
    return QStringLiteral("internal-server-error");
}

bool isClientStanza(const Element &element)
{
    return element.xmlns() == ns::client &&
           (element.name() == u"message" || element.name() == u"presence" ||
            element.name() == u"iq");
}

bool isClientStateIndication(const Element &element)
{
    return element.xmlns() == ns::csi &&
           (element.name() == u"active" || element.name() == u"inactive");
}

bool isPingAnswer(const Element &element)
{
    const QString type = element.attribute(u"type");
    return element.name() == u"iq" && element.xmlns() == ns::client &&
           (type == u"result" || type == u"error") &&
           element.attribute(u"id").startsWith(kPingIdPrefix);
}

// Text a client chose, made safe for a log line that fail2ban parses.
QString loggable(const QString &text)
{
    QString out;
    out.reserve(text.size());
    for (const QChar c : text)
        out.append(c.isPrint() && c != u'"' && c != u'\\' ? c : QChar(u'?'));
    return out;
}

} // namespace

Downstream::Downstream(DownstreamSettings settings, bool directTls, QObject *parent)
    : QObject(parent), settings_(std::move(settings)), id_(nextSessionId()),
      socket_(new TcpTlsSocket(this)), closeTimer_(new QTimer(this)),
      negotiationTimer_(new QTimer(this)),
      idlePing_(new IdlePing(settings_.idleTimeoutMs, settings_.pingTimeoutMs, this)),
      ackTimer_(new QTimer(this)), hibernationTimer_(new QTimer(this)),
      parser_(std::make_unique<XmlStreamParser>(XmlStreamParser::Limits{
          qMin(settings_.maxPreloginStanzaBytes, settings_.maxStanzaBytes), settings_.maxDepth})),
      sasl_(std::make_unique<SaslExchange>(*settings_.credentials, settings_.domain)),
      directTls_(directTls), sm_(settings_.hibernationLimits),
      resumeTimeout_(settings_.resumeTimeout)
{
    closeTimer_->setSingleShot(true);
    connect(closeTimer_, &QTimer::timeout, socket_, &TcpTlsSocket::abort);
    negotiationTimer_->setSingleShot(true);
    connect(negotiationTimer_, &QTimer::timeout, this,
            [this] { failStream(u"connection-timeout", u"negotiation took too long"); });
    connect(idlePing_, &IdlePing::pingDue, this, &Downstream::sendPing);
    connect(idlePing_, &IdlePing::timedOut, this, [this] {
        if (sm_.isResumable())
            hibernate("no answer to a ping");
        else
            failStream(u"connection-timeout", u"no answer to a ping");
    });
    ackTimer_->setSingleShot(true);
    connect(ackTimer_, &QTimer::timeout, this, &Downstream::requestAck);
    hibernationTimer_->setSingleShot(true);
    connect(hibernationTimer_, &QTimer::timeout, this,
            [this] { endHibernation("its resume timeout ran out"); });

    connect(socket_, &TcpTlsSocket::readyRead, this, &Downstream::readSocket);
    connect(socket_, &TcpTlsSocket::bytesWritten, this, &Downstream::endCatchUpAllowance);
    connect(socket_, &TcpTlsSocket::encrypted, this, &Downstream::onEncrypted);
    connect(socket_, &TcpTlsSocket::errorOccurred, this, &Downstream::onSocketError);
    // Queued: closed() must never fire inside a call the hub makes (send, closeWithError),
    // where it may be iterating over its sessions.
    connect(socket_, &TcpTlsSocket::disconnected, this, &Downstream::onDisconnected,
            Qt::QueuedConnection);
}

Downstream::Downstream(qintptr socketDescriptor, DownstreamSettings settings, bool directTls,
                       QObject *parent)
    : Downstream(std::move(settings), directTls, parent)
{
    negotiationTimer_->start(settings_.negotiationTimeoutMs);
    if (!socket_->setSocketDescriptor(socketDescriptor)) {
        qCWarning(lcDownstream) << "session" << id_
                                << "cannot take socket:" << socket_->errorString();
        phase_ = Phase::Closing;
        QMetaObject::invokeMethod(this, &Downstream::onDisconnected, Qt::QueuedConnection);
        return;
    }
    socket_->tcp().setSocketOption(QAbstractSocket::LowDelayOption, 1);
    enableTcpKeepalive(socket_->tcp());
    peer_ = socket_->tcp().peerAddress();
    // On a dual-stack port IPv4 clients appear as ::ffff:a.b.c.d; log what a firewall bans.
    bool isV4 = false;
    if (const quint32 v4 = peer_.toIPv4Address(&isV4); isV4)
        peer_ = QHostAddress(v4);
    tlsRequired_ = settings_.requireTls || !socket_->tcp().peerAddress().isLoopback();
    qCInfo(lcDownstream) << "session" << id_ << "connected from"
                         << socket_->tcp().peerAddress().toString()
                         << (directTls ? "(direct TLS)" : "");
    if (directTls) {
        phase_ = Phase::AwaitingTls;
        socket_->startEncryption(settings_.tls, TlsSession::Role::Server);
    }
}

Downstream::Downstream(const SavedSession &saved, DownstreamSettings settings, QObject *parent)
    : Downstream(std::move(settings), false, parent)
{
    resource_ = saved.resource;
    boundResource_ = saved.boundResource;
    resumeTimeout_ = saved.resumeTimeout;
    sm_ = StreamManagement(settings_.hibernationLimits, saved.sm);
    restoredSent_ = saved.sm.sent;
    authenticated_ = true;
    phase_ = Phase::Hibernating;
    // The time xbnc was down counts: a client that stayed away longer finds its session gone.
    hibernatingSince_ = saved.hibernatingSince.value_or(QDateTime::currentDateTimeUtc());
    const qint64 waited = hibernatingSince_.msecsTo(QDateTime::currentDateTimeUtc());
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(resumeTimeout_);
    startHibernationTimer(
        std::max(std::chrono::milliseconds(0),
                 timeout - std::chrono::milliseconds(std::max<qint64>(0, waited))));
    if (settings_.resumableSessions)
        settings_.resumableSessions->replace(sm_.state().resumeId, this);
    qCInfo(lcDownstream).nospace()
        << "session " << id_ << " restored as resource " << resource_ << ", hibernating with "
        << sm_.unackedCount() << " stanzas kept unacknowledged";
}

Downstream::~Downstream() = default;

SessionId Downstream::id() const
{
    return id_;
}

bool Downstream::isBound() const
{
    return phase_ == Phase::Bound;
}

QString Downstream::resource() const
{
    return resource_;
}

Jid Downstream::jid() const
{
    return Jid(settings_.username, settings_.domain, boundResource_);
}

bool Downstream::isEncrypted() const
{
    return encrypted_;
}

SavedSession Downstream::saved() const
{
    SavedSession saved;
    saved.resource = resource_;
    saved.boundResource = boundResource_;
    saved.resumeTimeout = resumeTimeout_;
    if (phase_ == Phase::Hibernating)
        saved.hibernatingSince = hibernatingSince_;
    saved.sm = sm_.state();
    return saved;
}

bool Downstream::isHibernating() const
{
    return phase_ == Phase::Hibernating;
}

void Downstream::setResumeTimeout(std::chrono::seconds timeout)
{
    resumeTimeout_ = timeout;
}

void Downstream::send(const Element &stanza)
{
    if (phase_ == Phase::Closed || (phase_ != Phase::Bound && !sm_.isEnabled()))
        return;
    if (isInlineBindAnswer(stanza))
        return; // the client asked inside Bind2 and had its answer there
    QByteArray bytes;
    stanza.appendXml(bytes, ns::client);
    sendSerialized(bytes);
}

void Downstream::sendSerialized(const QByteArray &bytes)
{
    // With stream management a stanza is kept until acknowledged, also while the session
    // hibernates or is closing: what the client never got goes back to the hub at the end.
    if (sm_.isEnabled() && phase_ != Phase::Closed) {
        countSent(bytes);
        return;
    }
    if (phase_ == Phase::Bound)
        write(bytes);
}

void Downstream::sendSerialized(const QList<QByteArray> &stanzas)
{
    qsizetype size = 0;
    for (const QByteArray &stanza : stanzas)
        size += stanza.size();
    // At once only where one by one would write them all too: bound, and within what a
    // session may leave unread (else the cut would come in the middle).
    const bool together =
        phase_ == Phase::Bound &&
        socket_->bytesQueued() + size <= settings_.maxQueuedBytes + catchUpAllowance_;
    if (!together) {
        for (const QByteArray &stanza : stanzas)
            sendSerialized(stanza);
        return;
    }
    if (sm_.isEnabled())
        return countSentTogether(stanzas, size);
    // One TLS record and one socket write instead of one per stanza.
    QByteArray joined;
    joined.reserve(size);
    for (const QByteArray &stanza : stanzas)
        joined += stanza;
    write(joined);
}

void Downstream::closeWithError(StreamError condition, const QString &text)
{
    failStream(conditionName(condition), text);
}

void Downstream::closeStream()
{
    if (phase_ == Phase::Hibernating)
        return endHibernation("it was closed");
    if (phase_ == Phase::Closing || phase_ == Phase::Closed)
        return;
    if (!headerSent_)
        sendHeader();
    write(QByteArrayLiteral("</stream:stream>"));
    phase_ = Phase::Closing;
    negotiationTimer_->stop();
    idlePing_->stop();
    closeTimer_->start(kCloseGraceMs);
    socket_->disconnectFromHost(); // after the queued bytes are written
}

void Downstream::failStream(QStringView condition, QStringView text, QStringView detail)
{
    if (phase_ == Phase::Hibernating)
        return endHibernation("it was closed");
    if (phase_ == Phase::Closing || phase_ == Phase::Closed)
        return;
    if (phase_ == Phase::AwaitingTls) {
        // The client can read nothing before the handshake, and a graceful close would wait
        // for bytes that cannot be sent until it completes: cut the connection at once.
        qCInfo(lcDownstream) << "session" << id_ << "closed before TLS was set up:" << condition
                             << text;
        phase_ = Phase::Closing;
        negotiationTimer_->stop();
        socket_->abort();
        return;
    }
    if (detail.isEmpty())
        qCInfo(lcDownstream) << "session" << id_ << "stream error" << condition << text;
    else
        qCInfo(lcDownstream) << "session" << id_ << "stream error" << condition << text << "-"
                             << logExcerpt(detail);
    if (!headerSent_)
        sendHeader(); // RFC 6120 §4.9.1.2: an error needs an open stream
    write(streamErrorXml(condition, text));
    closeStream();
}

void Downstream::write(const QByteArray &bytes)
{
    if (phase_ == Phase::Closed || phase_ == Phase::Closing || phase_ == Phase::Hibernating)
        return;
    socket_->write(bytes);
    // Over TLS, what the client does not read piles up encrypted in the TCP socket.
    const qint64 queued = socket_->bytesQueued();
    const qint64 limit = settings_.maxQueuedBytes + catchUpAllowance_;
    if (queued > limit && phase_ == Phase::Bound && sm_.isResumable()) {
        // Every stanza in those bytes is kept unacknowledged: a resume sends them again.
        qCWarning(lcDownstream) << "session" << id_ << "does not read; connection cut with"
                                << queued << "bytes queued";
        hibernate("it did not read");
    } else if (queued > limit) {
        // The stream error would sit behind megabytes the client is not reading: cut it off.
        // The stanzas in those bytes are lost to this session.
        qCWarning(lcDownstream) << "session" << id_ << "does not read; closed with" << queued
                                << "bytes queued, the stanzas in them undelivered";
        phase_ = Phase::Closing;
        idlePing_->stop();
        QMetaObject::invokeMethod(socket_, &TcpTlsSocket::abort, Qt::QueuedConnection);
    }
}

void Downstream::sendPing()
{
    Element iq(QStringLiteral("iq"), ns::client.toString());
    iq.setAttribute(QStringLiteral("type"), QStringLiteral("get"));
    iq.setAttribute(QStringLiteral("id"), kPingIdPrefix.toString() + QString::number(++pingsSent_));
    iq.setAttribute(QStringLiteral("from"), settings_.domain);
    iq.setAttribute(QStringLiteral("to"), jid().toString());
    iq.addChild(Element(QStringLiteral("ping"), QStringLiteral("urn:xmpp:ping")));
    send(iq);
}

void Downstream::readSocket()
{
    if (socket_->bytesAvailable() > 0) {
        idlePing_->heardFrom();
        if (phase_ == Phase::Bound)
            Q_EMIT heardFrom();
    }
    const QPointer<Downstream> self(this);
    while (self && (phase_ == Phase::Negotiating || phase_ == Phase::Bound) && !saslDelayed_ &&
           socket_->bytesAvailable() > 0) {
        parser_->feed(socket_->read(kReadSlice));
        drainParser();
    }
}

void Downstream::drainParser()
{
    const QPointer<Downstream> self(this);
    while (self && (phase_ == Phase::Negotiating || phase_ == Phase::Bound) && !saslDelayed_) {
        XmlStreamParser::Event event = parser_->next();
        switch (event.kind) {
        case XmlStreamParser::Event::Kind::NeedMoreData:
            return;
        case XmlStreamParser::Event::Kind::StreamOpen:
            openStream(event.element);
            break;
        case XmlStreamParser::Event::Kind::Stanza:
            handleElement(std::move(event.element));
            break;
        case XmlStreamParser::Event::Kind::StreamClose:
            qCInfo(lcDownstream) << "session" << id_ << "closed its stream";
            closeStream();
            return;
        case XmlStreamParser::Event::Kind::Error:
            failStream(event.errorCondition, event.errorText, event.errorDetail);
            return;
        }
    }
}

void Downstream::sendHeader()
{
    const QString streamId =
        QString::number(QRandomGenerator::system()->generate64(), 16).rightJustified(16, u'0');
    QByteArray header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                        "xmlns:stream='http://etherx.jabber.org/streams' id='";
    header += streamId.toLatin1();
    header += "' from=\"";
    header += settings_.domain.toHtmlEscaped().toUtf8();
    header += "\" version='1.0' xml:lang='en'>";
    headerSent_ = true;
    write(header);
}

void Downstream::openStream(const Element &header)
{
    sendHeader();
    if (Jid(header.attribute(u"to")).domain() != settings_.domain.toLower()) {
        failStream(u"host-unknown");
        return;
    }
    if (header.attribute(u"version").section(u'.', 0, 0).toInt() < 1) {
        failStream(u"unsupported-version");
        return;
    }
    sendFeatures();
}

void Downstream::sendFeatures()
{
    FeatureOffer offer;
    if (!authenticated_) {
        offer.offerStartTls = !encrypted_;
        offer.tlsRequired = tlsRequired_;
        if (encrypted_ || !tlsRequired_) {
            offer.mechanisms = SaslServer::mechanisms(encrypted_, sasl_->channelBindings());
            offer.channelBindingTypes = channelBindingTypes(sasl_->channelBindings());
        }
        offer.offerSasl2 = true;
        if (settings_.fastLogin)
            offer.fastMechanisms = {FastLogin::kMechanism.toString()};
    } else {
        // After SASL2 the stream goes on without a restart, maybe bound already by Bind2.
        offer.offerBind = phase_ != Phase::Bound;
        offer.offerStreamManagement = !sm_.isEnabled();
        offer.offerCsi = true;
        // The hub answers roster requests with versions (RosterCache), cached or not yet.
        offer.offerRosterVersioning = true;
        if (settings_.serverCaps)
            offer.serverCaps = settings_.serverCaps();
    }
    QByteArray bytes;
    streamFeatures(offer).appendXml(bytes, ns::client);
    write(bytes);
}

void Downstream::handleElement(Element element)
{
    if (phase_ == Phase::Bound) {
        if (sm_.isEnabled() && isClientStanza(element))
            sm_.stanzaReceived(); // counted once read, whatever becomes of it (XEP-0198 §4)
        if (element.xmlns() == ns::sm) {
            handleStreamManagement(element);
        } else if (isPingAnswer(element)) {
            return; // its bytes already told idlePing_ the client is there
        } else if (isSessionRequest(element)) {
            send(stanza::iqResult(element));
        } else if (isBindRequest(element)) {
            // One resource per stream (RFC 6120 §7.1); the hub never sees bind requests.
            send(stanza::error(element, stanza::ErrorType::Cancel, QStringLiteral("not-allowed")));
        } else if (isClientStateIndication(element)) {
            Q_EMIT clientStateIndicated(element.name() == u"active");
        } else if (isClientStanza(element)) {
            // RFC 6120 §8.1.2.1: the server stamps the sender's full JID.
            element.setAttribute(QStringLiteral("from"), jid().toString());
            Q_EMIT stanzaReceived(element);
        } else {
            // The peer's names go to the log only, cut there: the peer gets fixed words.
            const QString what =
                QStringLiteral("<%1 xmlns='%2'>").arg(element.name(), element.xmlns());
            failStream(u"unsupported-stanza-type", u"only message, presence and iq are accepted",
                       what);
        }
        return;
    }
    if (!authenticated_) {
        if (element.name() == u"starttls" && element.xmlns() == ns::tls)
            handleStartTls();
        else if (element.xmlns() == ns::sasl)
            handleSasl(element);
        else if (element.xmlns() == ns::sasl2)
            handleSasl2(element);
        else
            failStream(u"not-authorized");
        return;
    }
    if (isBindRequest(element)) {
        handleBind(element);
    } else if (element.xmlns() == ns::sm) {
        handleStreamManagement(element);
    } else if (isSessionRequest(element)) {
        QByteArray bytes;
        stanza::iqResult(element).appendXml(bytes, ns::client);
        write(bytes);
    } else {
        failStream(u"not-authorized");
    }
}

void Downstream::handleStartTls()
{
    if (encrypted_ || directTls_) {
        failStream(u"policy-violation", u"already encrypted");
        return;
    }
    write(QByteArrayLiteral("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
    phase_ = Phase::AwaitingTls;
    headerSent_ = false;
    // Anything the client sent after <starttls/> in clear text is not part of the new stream.
    parser_->restart(false);
    socket_->startEncryption(settings_.tls, TlsSession::Role::Server);
}

void Downstream::handleSasl(const Element &element)
{
    // Every element but <abort/> may test a password (PLAIN in <auth/>, SCRAM in <response/>).
    if (element.name() != u"abort" && !admitLogin())
        return;
    const SaslExchange::Reply reply = sasl_->handle(element, encrypted_, tlsRequired_);
    const SaslExchange::Attempt &attempt = sasl_->lastAttempt();
    concludeLoginStep(reply.element, int(reply.state), reply.triedCredentials, attempt.user,
                      attempt.mechanism);
}

void Downstream::concludeLoginStep(const Element &reply, int state, bool triedCredentials,
                                   const QString &user, const QString &mechanism)
{
    LoginThrottle *throttle = settings_.loginThrottle.get();
    // A failure that tried no credentials guessed nothing, and is not worth a delay.
    const bool failed = (SaslExchange::State(state) == SaslExchange::State::Failed ||
                         SaslExchange::State(state) == SaslExchange::State::TooManyFailures) &&
                        triedCredentials;
    if (throttle && SaslExchange::State(state) == SaslExchange::State::Succeeded)
        throttle->recordSuccess(peer_);
    if (!throttle || !failed) {
        answerSasl(reply, state);
        return;
    }
    qCWarning(lcAuth).noquote() << QStringLiteral(
                                       "authentication failed from %1 (user \"%2\", mechanism %3)")
                                       .arg(peer_.toString(), loggable(user), loggable(mechanism));
    const std::chrono::milliseconds delay = throttle->recordFailure(peer_);
    if (delay <= std::chrono::milliseconds::zero()) {
        answerSasl(reply, state);
        return;
    }
    // Answer later, and read nothing meanwhile: a client cannot have its next guess looked at
    // before it has the answer to this one.
    saslDelayed_ = true;
    socket_->setReadBufferSize(kDelayedReadBuffer);
    QTimer::singleShot(delay, this, [this, answer = reply, state] {
        answerSasl(answer, state);
        resumeAfterDelay();
    });
}

bool Downstream::admitLogin()
{
    if (!settings_.loginThrottle)
        return true;
    const LoginThrottle::Admission admission = settings_.loginThrottle->admit(peer_);
    if (admission.verdict == LoginThrottle::Verdict::Allowed)
        return true;
    if (admission.firstRefusal) {
        const qint64 seconds = (admission.retryAfter.count() + 999) / 1000;
        const bool address = admission.verdict == LoginThrottle::Verdict::AddressLockedOut;
        qCWarning(lcAuth).noquote()
            << QStringLiteral("authentication refused from %1 (too many failed logins from %2, "
                              "for %3 s; until then further refusals are not logged)")
                   .arg(peer_.toString(),
                        address ? QStringLiteral("this address") : QStringLiteral("all addresses"))
                   .arg(seconds);
    }
    write(QByteArrayLiteral("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                            "<temporary-auth-failure/></failure>"));
    closeStream();
    return false;
}

void Downstream::answerSasl(const Element &reply, int state)
{
    if (phase_ != Phase::Negotiating)
        return; // closed while the answer waited
    const bool sasl2 = reply.xmlns() == ns::sasl2;
    if (sasl2 && SaslExchange::State(state) == SaslExchange::State::Succeeded)
        return succeedSasl2(reply);
    if (sasl2 && SaslExchange::State(state) != SaslExchange::State::InProgress)
        sasl2_.reset();
    QByteArray bytes;
    reply.appendXml(bytes, ns::client);
    write(bytes);
    switch (SaslExchange::State(state)) {
    case SaslExchange::State::InProgress:
    case SaslExchange::State::Failed:
    case SaslExchange::State::Aborted:
        break;
    case SaslExchange::State::Succeeded:
        authenticated_ = true;
        headerSent_ = false;
        // A pipelining client may already have sent the new stream header.
        parser_->restart(true);
        break;
    case SaslExchange::State::TooManyFailures:
        closeStream();
        break;
    }
}

void Downstream::resumeAfterDelay()
{
    saslDelayed_ = false;
    socket_->setReadBufferSize(0);
    const QPointer<Downstream> self(this);
    drainParser(); // what a pipelining client sent before the answer
    if (self)
        readSocket();
}

void Downstream::handleBind(const Element &iq)
{
    const QString assigned = settings_.boundResource ? settings_.boundResource() : QString();
    const BindOutcome outcome =
        bindResource(iq, Jid(settings_.username, settings_.domain), assigned);
    QByteArray bytes;
    outcome.reply.appendXml(bytes, ns::client);
    write(bytes);
    if (!outcome.resource)
        return;
    resource_ = *outcome.resource;
    boundResource_ = assigned.isEmpty() ? resource_ : assigned;
    enterBound();
    qCInfo(lcDownstream) << "session" << id_ << "bound" << resource_;
    Q_EMIT bound();
}

void Downstream::enterBound()
{
    phase_ = Phase::Bound;
    // The small pre-login limit has done its job: a logged-in client may send big stanzas.
    parser_->setMaxStanzaBytes(settings_.maxStanzaBytes);
    negotiationTimer_->stop();
    idlePing_->start();
}

void Downstream::onEncrypted()
{
    encrypted_ = true;
    sasl_->setChannelBindings(tlsChannelBindings(*socket_->tls()));
    if (phase_ != Phase::AwaitingTls)
        return;
    phase_ = Phase::Negotiating;
    qCDebug(lcDownstream) << "session" << id_ << "encrypted with" << socket_->tls()->protocolName()
                          << socket_->tls()->cipherName();
    readSocket();
}

void Downstream::onSocketError(QAbstractSocket::SocketError error)
{
    if (error != QAbstractSocket::RemoteHostClosedError)
        qCInfo(lcDownstream) << "session" << id_ << "socket error:" << socket_->errorString();
    if (socket_->state() == QAbstractSocket::UnconnectedState)
        QMetaObject::invokeMethod(this, &Downstream::onDisconnected, Qt::QueuedConnection);
    else if (error == QAbstractSocket::SslHandshakeFailedError)
        socket_->abort();
}

void Downstream::onDisconnected()
{
    if (phase_ == Phase::Closed || phase_ == Phase::Hibernating)
        return;
    // Lost without the client closing its stream: the session waits for a resume.
    if (phase_ == Phase::Bound && sm_.isResumable())
        return hibernate("its connection was lost");
    finish();
}

void Downstream::finish()
{
    if (phase_ == Phase::Closed)
        return;
    phase_ = Phase::Closed;
    closeTimer_->stop();
    negotiationTimer_->stop();
    idlePing_->stop();
    ackTimer_->stop();
    hibernationTimer_->stop();
    if (sm_.isResumable() && settings_.resumableSessions &&
        settings_.resumableSessions->find(sm_.state().resumeId) == this)
        settings_.resumableSessions->remove(sm_.state().resumeId);
    qCInfo(lcDownstream) << "session" << id_ << "disconnected";
    if (!handedOver_)
        Q_EMIT closed();
    deleteLater();
}

} // namespace xbnc
