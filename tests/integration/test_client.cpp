#include "test_client.h"

#include "scram_client.h"
#include "stanza_match.h"
#include "tcp_tls_socket.h"
#include "tls_context.h"

#include <QEventLoop>
#include <QMessageAuthenticationCode>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTimer>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>

namespace {

bool isStreamError(const XmlNode &node)
{
    return node.name == u"error" && node.xmlns == testns::streams;
}

QByteArray normalizedFingerprint(const QString &fingerprint)
{
    return fingerprint.toLatin1().replace(":", "").toLower();
}

QString mechanismsOffered(const XmlNode &features)
{
    QStringList names;
    if (const XmlNode *mechanisms = features.child(u"mechanisms", testns::sasl)) {
        for (const XmlNode &m : mechanisms->children) {
            if (m.name == u"mechanism")
                names.append(m.text());
        }
    }
    return names.join(QLatin1Char(' '));
}

} // namespace

TestClient::TestClient(QString name) : name_(std::move(name))
{
}

TestClient::~TestClient()
{
    if (tcp())
        tcp()->abort();
}

QAbstractSocket *TestClient::tcp() const
{
    if (ownTls_)
        return &ownTls_->tcp();
    return socket_.get();
}

void TestClient::writeBytes(const QByteArray &bytes)
{
    if (ownTls_)
        ownTls_->write(bytes);
    else
        socket_->write(bytes);
}

bool TestClient::isEncrypted() const
{
    return ownTls_ ? ownTls_->isEncrypted() : socket_->isEncrypted();
}

bool TestClient::fail(const QString &message)
{
    error_ = QStringLiteral("[%1] %2").arg(name_, message);
    return false;
}

bool TestClient::isOpen() const
{
    return tcp() && tcp()->state() == QAbstractSocket::ConnectedState && !reader_.streamClosed() &&
           !closedSeen_;
}

void TestClient::send(const QByteArray &xml)
{
    if (!tcp())
        return;
    writeBytes(xml);
    bytesSent_ += xml.size();
}

void TestClient::disconnectFromServer()
{
    if (!tcp() || tcp()->state() != QAbstractSocket::ConnectedState)
        return;
    writeBytes("</stream:stream>");
    if (ownTls_) {
        ownTls_->disconnectFromHost();
        return;
    }
    socket_->flush();
    socket_->disconnectFromHost();
}

void TestClient::abortConnection()
{
    if (tcp())
        tcp()->abort();
    closedSeen_ = true;
}

void TestClient::readAvailable()
{
    if (!tcp())
        return;
    const QByteArray bytes = ownTls_ ? ownTls_->readAll() : socket_->readAll();
    if (!bytes.isEmpty()) {
        const std::size_t before = reader_.stanzas().size();
        reader_.feed(bytes);
        bytesReceived_ += bytes.size();
        elementsReceived_ += qint64(reader_.stanzas().size() - before);
        answerAckRequests(before);
    }
    if (tcp()->state() == QAbstractSocket::UnconnectedState || reader_.streamClosed())
        closedSeen_ = true;
}

void TestClient::answerAckRequests(std::size_t from)
{
    if (!smHandled_)
        return;
    std::deque<XmlNode> &buffer = reader_.stanzas();
    for (std::size_t i = from; i < buffer.size();) {
        const XmlNode &n = buffer[i];
        if (n.xmlns == testns::sm && n.name == u"r") {
            writeBytes("<a xmlns='urn:xmpp:sm:3' h='" + QByteArray::number(*smHandled_) + "'/>");
            buffer.erase(buffer.begin() + qsizetype(i));
            continue;
        }
        if (n.xmlns == u"jabber:client" &&
            (n.name == u"message" || n.name == u"presence" || n.name == u"iq"))
            ++*smHandled_;
        ++i;
    }
}

bool TestClient::enableStreamManagement(QDeadlineTimer deadline)
{
    send("<enable xmlns='urn:xmpp:sm:3'/>");
    const std::optional<std::size_t> enabled = waitForMatch(
        [](const XmlNode &n) { return n.xmlns == testns::sm && n.name == u"enabled"; }, deadline);
    if (!enabled)
        return false;
    // What came after <enabled/> in the same read already counts.
    reader_.stanzas().erase(reader_.stanzas().begin() + qsizetype(*enabled));
    smHandled_ = 0;
    answerAckRequests(*enabled);
    return true;
}

void TestClient::poll()
{
    readAvailable();
}

void TestClient::waitForActivity(QDeadlineTimer deadline)
{
    if (deadline.hasExpired())
        return;
    QEventLoop loop;
    QObject::connect(tcp(), &QAbstractSocket::disconnected, &loop, &QEventLoop::quit);
    QObject::connect(tcp(), &QAbstractSocket::errorOccurred, &loop, &QEventLoop::quit);
    QObject::connect(tcp(), &QAbstractSocket::connected, &loop, &QEventLoop::quit);
    if (ownTls_) {
        QObject::connect(ownTls_.get(), &xbnc::TcpTlsSocket::readyRead, &loop, &QEventLoop::quit);
        QObject::connect(ownTls_.get(), &xbnc::TcpTlsSocket::encrypted, &loop, &QEventLoop::quit);
        // A failed handshake is reported without the TCP connection closing at once.
        QObject::connect(ownTls_.get(), &xbnc::TcpTlsSocket::errorOccurred, &loop,
                         &QEventLoop::quit);
    } else {
        QObject::connect(socket_.get(), &QIODevice::readyRead, &loop, &QEventLoop::quit);
        QObject::connect(socket_.get(), &QSslSocket::encrypted, &loop, &QEventLoop::quit);
    }
    QTimer timer;
    timer.setSingleShot(true);
    QObject::connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    timer.start(std::max<qint64>(0, deadline.remainingTime()));
    loop.exec();
}

std::optional<std::size_t> TestClient::waitForMatch(const Predicate &predicate,
                                                    QDeadlineTimer deadline)
{
    if (!tcp()) {
        fail(QStringLiteral("not connected"));
        return std::nullopt;
    }
    for (;;) {
        readAvailable();
        const std::deque<XmlNode> &buffer = reader_.stanzas();
        for (std::size_t i = 0; i < buffer.size(); ++i) {
            if (predicate(buffer[i]))
                return i;
        }
        if (reader_.failed()) {
            fail(QStringLiteral("server sent malformed XML: ") + reader_.errorString());
            return std::nullopt;
        }
        if (closedSeen_) {
            fail(QStringLiteral("connection closed while waiting; received: ") + describeBuffer());
            return std::nullopt;
        }
        if (deadline.hasExpired()) {
            fail(QStringLiteral("timed out waiting; received: ") + describeBuffer());
            return std::nullopt;
        }
        waitForActivity(deadline);
    }
}

std::optional<XmlNode> TestClient::readUntil(const Predicate &predicate, QDeadlineTimer deadline)
{
    const std::optional<std::size_t> index = waitForMatch(predicate, deadline);
    if (!index)
        return std::nullopt;
    std::deque<XmlNode> &buffer = reader_.stanzas();
    XmlNode found = std::move(buffer[*index]);
    buffer.erase(buffer.begin() + *index);
    return found;
}

std::optional<XmlNode> TestClient::readStanza(QDeadlineTimer deadline)
{
    return readUntil([](const XmlNode &) { return true; }, deadline);
}

QList<XmlNode> TestClient::takeBuffered()
{
    readAvailable();
    QList<XmlNode> out;
    for (XmlNode &node : reader_.stanzas())
        out.append(std::move(node));
    reader_.stanzas().clear();
    return out;
}

QString TestClient::describeBuffer() const
{
    QString out;
    for (const XmlNode &node : reader_.stanzas())
        out += QString::fromUtf8(node.toXml()) + QLatin1Char('\n');
    return out.isEmpty() ? QStringLiteral("(nothing)") : out;
}

std::optional<std::size_t> TestClient::sendPing(QDeadlineTimer deadline)
{
    const QString id = QStringLiteral("ping-%1-%2").arg(name_).arg(nextId_++);
    send(QStringLiteral("<iq type='get' id='%1' to='%2'><ping xmlns='urn:xmpp:ping'/></iq>")
             .arg(id, options_.domain)
             .toUtf8());
    const std::optional<std::size_t> index = waitForMatch(
        [&id](const XmlNode &n) { return n.name == u"iq" && n.attribute(u"id") == id; }, deadline);
    if (!index)
        return std::nullopt;
    std::deque<XmlNode> &buffer = reader_.stanzas();
    if (buffer[*index].attribute(u"type") != u"result") {
        fail(QStringLiteral("ping answered with ") + QString::fromUtf8(buffer[*index].toXml()));
        buffer.erase(buffer.begin() + *index);
        return std::nullopt;
    }
    return index;
}

std::optional<QList<XmlNode>> TestClient::ping(QDeadlineTimer deadline)
{
    const std::optional<std::size_t> index = sendPing(deadline);
    if (!index)
        return std::nullopt;
    std::deque<XmlNode> &buffer = reader_.stanzas();
    QList<XmlNode> before;
    for (std::size_t i = 0; i < *index; ++i)
        before.append(std::move(buffer[i]));
    buffer.erase(buffer.begin(), buffer.begin() + *index + 1);
    return before;
}

bool TestClient::roundTrip(QDeadlineTimer deadline)
{
    const std::optional<std::size_t> index = sendPing(deadline);
    if (index)
        reader_.stanzas().erase(reader_.stanzas().begin() + *index);
    return index.has_value();
}

bool TestClient::roundTripWithinXbnc(QDeadlineTimer deadline)
{
    const QString id = QStringLiteral("barrier-") + name_;
    send(QStringLiteral("<iq type='get' id='%1' to='%2'><ping xmlns='urn:xmpp:ping'/></iq>")
             .arg(id, fullJid_)
             .toUtf8());
    const std::optional<XmlNode> reply = readUntil(match::iq(id), deadline);
    return reply && reply->attribute(u"type") == u"result";
}

bool TestClient::expectNone(const Predicate &unwanted, QDeadlineTimer deadline)
{
    const std::optional<QList<XmlNode>> received = ping(deadline);
    if (!received)
        return false;
    if (std::none_of(received->begin(), received->end(), unwanted))
        return true;
    QString all;
    for (const XmlNode &node : *received)
        all += QString::fromUtf8(node.toXml()) + QLatin1Char('\n');
    return fail(QStringLiteral("received what it should not have, among:\n") + all);
}

bool TestClient::expectStreamError(const QString &condition, QDeadlineTimer deadline)
{
    const std::optional<XmlNode> error = readUntil(isStreamError, deadline);
    if (!error)
        return false;
    const XmlNode *found = nullptr;
    for (const XmlNode &c : error->children) {
        if (!c.isText() && c.xmlns == testns::streamErrors && c.name != u"text")
            found = &c;
    }
    if (!found || found->name != condition)
        return fail(QStringLiteral("expected stream error <%1/>, got %2")
                        .arg(condition, QString::fromUtf8(error->toXml())));
    return expectClosed(deadline);
}

bool TestClient::expectClosed(QDeadlineTimer deadline)
{
    if (!tcp())
        return true;
    for (;;) {
        readAvailable();
        if (closedSeen_) {
            tcp()->abort();
            return true;
        }
        if (deadline.hasExpired())
            return fail(QStringLiteral("connection still open; received: ") + describeBuffer());
        waitForActivity(deadline);
    }
}

void TestClient::startClientTls()
{
    if (!ownTls_) {
        socket_->startClientEncryption();
        return;
    }
    const std::shared_ptr<const xbnc::TlsContext> context = xbnc::TlsContext::forClient();
    if (!options_.caFile.isEmpty()) {
        // The chain to the CA and the JID's domain, as QSslSocket checks them.
        SSL_CTX_set_verify(context->handle(), SSL_VERIFY_PEER, nullptr);
        SSL_CTX_load_verify_locations(context->handle(), qPrintable(options_.caFile), nullptr);
        X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(context->handle()),
                                    qPrintable(options_.domain), 0);
    }
    ownTls_->startEncryption(context, xbnc::TlsSession::Role::Client);
}

bool TestClient::checkPinnedCertificate()
{
    if (!ownTls_ || options_.fingerprint.isEmpty())
        return true;
    const QByteArray actual =
        QCryptographicHash::hash(ownTls_->tls()->serverCertificateDer(), QCryptographicHash::Sha256)
            .toHex();
    if (actual == normalizedFingerprint(options_.fingerprint))
        return true;
    tcp()->abort();
    return fail(QStringLiteral("the server's certificate is not the pinned one"));
}

void TestClient::configureTls()
{
    if (ownTls_)
        return; // startClientTls()
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    if (!options_.caFile.isEmpty())
        tls.setCaCertificates(QSslCertificate::fromPath(options_.caFile));
    socket_->setSslConfiguration(tls);
    socket_->setPeerVerifyName(options_.domain); // RFC 6120: check the JID's domain
    if (options_.fingerprint.isEmpty())
        return;
    // A self-signed certificate pinned by fingerprint: accept it, and only it, whatever the
    // chain errors are.
    const QByteArray pinned = normalizedFingerprint(options_.fingerprint);
    QSslSocket *socket = socket_.get();
    QObject::connect(socket, &QSslSocket::sslErrors, socket, [socket, pinned] {
        const QByteArray actual =
            socket->peerCertificate().digest(QCryptographicHash::Sha256).toHex();
        if (!pinned.isEmpty() && actual == pinned)
            socket->ignoreSslErrors();
    });
}

bool TestClient::waitEncrypted(QDeadlineTimer deadline)
{
    while (!isEncrypted()) {
        const bool ownTlsFailed =
            ownTls_ && ownTls_->tls()->state() == xbnc::TlsSession::State::Failed;
        if (tcp()->state() == QAbstractSocket::UnconnectedState || deadline.hasExpired() ||
            ownTlsFailed) {
            QStringList errors;
            if (socket_) {
                for (const QSslError &e : socket_->sslHandshakeErrors())
                    errors.append(e.errorString());
            }
            const QString why = ownTls_ ? ownTls_->errorString() : socket_->errorString();
            return fail(QStringLiteral("TLS handshake failed: %1 %2")
                            .arg(why, errors.join(QStringLiteral("; "))));
        }
        waitForActivity(deadline);
    }
    // The client waits for the server's flight once in TLS 1.3, twice in TLS 1.2.
    const bool tls13 = ownTls_ ? ownTls_->tls()->protocolName() == u"TLSv1.3"
                               : socket_->sessionProtocol() == QSsl::TlsV1_3;
    roundTrips_ += tls13 ? 1 : 2;
    return checkPinnedCertificate();
}

bool TestClient::openStream(QDeadlineTimer deadline)
{
    reader_.reset();
    send(QStringLiteral("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                        "xmlns:stream='http://etherx.jabber.org/streams' to='%1' version='1.0'>")
             .arg(options_.domain)
             .toUtf8());
    const std::optional<XmlNode> features = readUntil(
        [](const XmlNode &n) {
            return (n.name == u"features" || n.name == u"error") && n.xmlns == testns::streams;
        },
        deadline);
    if (!features)
        return false;
    ++roundTrips_;
    if (isStreamError(*features))
        return fail(QStringLiteral("stream error: ") + QString::fromUtf8(features->toXml()));
    features_ = *features;
    return true;
}

bool TestClient::startTls(QDeadlineTimer deadline)
{
    if (!features_.child(u"starttls", testns::tls))
        return fail(QStringLiteral("no STARTTLS offered: ") + QString::fromUtf8(features_.toXml()));
    send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    const std::optional<XmlNode> answer =
        readUntil([](const XmlNode &n) { return n.xmlns == testns::tls; }, deadline);
    if (!answer)
        return false;
    ++roundTrips_;
    if (answer->name != u"proceed")
        return fail(QStringLiteral("STARTTLS refused: ") + QString::fromUtf8(answer->toXml()));
    startClientTls();
    return waitEncrypted(deadline);
}

bool TestClient::connectAndSecure(const TestClientOptions &options, QDeadlineTimer deadline)
{
    options_ = options;
    error_.clear();
    closedSeen_ = false;
    smHandled_.reset();
    reader_.reset();
    reader_.stanzas().clear();
    roundTrips_ = 0;
    bytesSent_ = bytesReceived_ = elementsReceived_ = 0;
    socket_.reset();
    ownTls_.reset();
    if (options_.channelBinding == u"tls-exporter")
        ownTls_ = std::make_unique<xbnc::TcpTlsSocket>();
    else
        socket_ = std::make_unique<QSslSocket>();
    configureTls();
    if (options_.directTls && socket_) {
        socket_->connectToHostEncrypted(options_.host, options_.port, options_.domain);
        if (!waitEncrypted(deadline))
            return false;
        ++roundTrips_; // the TCP handshake
        return openStream(deadline);
    }
    tcp()->connectToHost(options_.host, options_.port);
    while (tcp()->state() != QAbstractSocket::ConnectedState) {
        if (tcp()->state() == QAbstractSocket::UnconnectedState || deadline.hasExpired())
            return fail(QStringLiteral("cannot connect to %1:%2: %3")
                            .arg(options_.host)
                            .arg(options_.port)
                            .arg(tcp()->errorString()));
        waitForActivity(deadline);
    }
    ++roundTrips_; // the TCP handshake
    if (options_.directTls) {
        startClientTls();
        return waitEncrypted(deadline) && openStream(deadline);
    }
    return openStream(deadline) && startTls(deadline) && openStream(deadline);
}

bool TestClient::authenticate(QDeadlineTimer deadline)
{
    const QStringList offered = mechanismsOffered(features_).split(QLatin1Char(' '));
    if (!offered.contains(options_.mechanism))
        return fail(QStringLiteral("%1 not offered (offered: %2)")
                        .arg(options_.mechanism, offered.join(QLatin1Char(' '))));
    if (!saslExchange(deadline))
        return false;
    return openStream(deadline);
}

bool TestClient::saslExchange(QDeadlineTimer deadline)
{
    const auto isSasl = [](const XmlNode &n) {
        return n.xmlns == testns::sasl || isStreamError(n);
    };
    const auto auth = [this](const QByteArray &initial) {
        send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" +
             options_.mechanism.toUtf8() + "'>" + initial.toBase64() + "</auth>");
    };
    const auto finish = [this](const XmlNode &answer) {
        if (answer.name == u"success")
            return true;
        if (answer.name == u"failure")
            saslFailure_ = answer;
        return fail(QStringLiteral("SASL %1 failed: %2")
                        .arg(options_.mechanism, QString::fromUtf8(answer.toXml())));
    };
    const auto awaitSasl = [&]() {
        std::optional<XmlNode> answer = readUntil(isSasl, deadline);
        if (answer)
            ++roundTrips_;
        return answer;
    };
    saslFailure_ = {};

    if (options_.mechanism == u"PLAIN") {
        auth('\0' + options_.user.toUtf8() + '\0' + options_.password.toUtf8());
        const std::optional<XmlNode> answer = awaitSasl();
        return answer && finish(*answer);
    }

    const std::unique_ptr<ScramClient> client = scramClient(options_.mechanism);
    if (!client)
        return false;
    ScramClient &scram = *client;
    auth(scram.clientFirst());
    std::optional<XmlNode> answer = awaitSasl();
    if (!answer)
        return false;
    if (answer->name != u"challenge")
        return finish(*answer);
    const QByteArray final = scram.clientFinal(QByteArray::fromBase64(answer->text().toLatin1()));
    if (final.isEmpty())
        return fail(QStringLiteral("invalid SCRAM server-first: ") +
                    QString::fromUtf8(answer->toXml()));
    send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + final.toBase64() + "</response>");
    answer = awaitSasl();
    if (!answer)
        return false;
    if (answer->name == u"challenge") {
        // Server-final as a challenge (RFC 6120 §6.3.10 allows either form).
        if (!scram.verifyServerFinal(QByteArray::fromBase64(answer->text().toLatin1())))
            return fail(QStringLiteral("wrong SCRAM server signature"));
        send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        answer = awaitSasl();
        return answer && finish(*answer);
    }
    if (answer->name == u"success" &&
        !scram.verifyServerFinal(QByteArray::fromBase64(answer->text().toLatin1())))
        return fail(QStringLiteral("wrong SCRAM server signature in ") +
                    QString::fromUtf8(answer->toXml()));
    return finish(*answer);
}

std::unique_ptr<ScramClient> TestClient::scramClient(const QString &mechanism)
{
    const bool plus = mechanism.endsWith(u"-PLUS");
    const QString scramName = plus ? mechanism.chopped(5) : mechanism;
    const bool sha256 = scramName == u"SCRAM-SHA-256";
    if (!sha256 && scramName != u"SCRAM-SHA-1") {
        fail(QStringLiteral("unsupported mechanism ") + mechanism);
        return nullptr;
    }
    auto scram = std::make_unique<ScramClient>(
        sha256 ? QCryptographicHash::Sha256 : QCryptographicHash::Sha1,
        ScramClient::saslName(options_.user), options_.password,
        plus ? "p=" + options_.channelBinding.toLatin1() + ",," : QByteArray("n,,"));
    if (plus) {
        const QByteArray data =
            options_.bindToOtherCertificate
                ? QCryptographicHash::hash("another certificate", QCryptographicHash::Sha256)
                : channelBindingData();
        if (data.isEmpty())
            return nullptr;
        scram->setChannelBindingData(data);
    }
    return scram;
}

std::optional<XmlNode> TestClient::authenticateSasl2(const QByteArray &inlineXml,
                                                     const QString &token, QDeadlineTimer deadline)
{
    saslFailure_ = {};
    const bool fast = !token.isEmpty();
    const QString mechanism = fast ? QStringLiteral("HT-SHA-256-NONE") : options_.mechanism;
    // A SCRAM client for FAST too, unused: the code below stays one path.
    const std::unique_ptr<ScramClient> client =
        scramClient(fast ? QStringLiteral("SCRAM-SHA-256") : mechanism);
    if (!client)
        return std::nullopt;
    ScramClient &scram = *client;
    const QByteArray initial =
        fast ? options_.user.toUtf8() + '\0' +
                   QMessageAuthenticationCode::hash("Initiator", token.toUtf8(),
                                                    QCryptographicHash::Sha256)
             : scram.clientFirst();
    send("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='" + mechanism.toUtf8() +
         "'><initial-response>" + initial.toBase64() + "</initial-response>" + inlineXml +
         "</authenticate>");
    const auto awaitSasl2 = [&]() {
        std::optional<XmlNode> answer =
            readUntil([](const XmlNode &n) { return n.xmlns == testns::sasl2 || isStreamError(n); },
                      deadline);
        if (answer)
            ++roundTrips_;
        return answer;
    };
    std::optional<XmlNode> answer = awaitSasl2();
    if (answer && answer->name == u"challenge" && !fast) {
        const QByteArray final =
            scram.clientFinal(QByteArray::fromBase64(answer->text().toLatin1()));
        send("<response xmlns='urn:xmpp:sasl:2'>" + final.toBase64() + "</response>");
        answer = awaitSasl2();
    }
    if (!answer)
        return std::nullopt;
    if (answer->name != u"success") {
        if (answer->name == u"failure")
            saslFailure_ = *answer;
        fail(QStringLiteral("SASL2 %1 failed: %2")
                 .arg(mechanism, QString::fromUtf8(answer->toXml())));
        return std::nullopt;
    }
    const XmlNode *data = answer->child(u"additional-data", testns::sasl2);
    const QByteArray additional = QByteArray::fromBase64(data ? data->text().toLatin1() : "");
    const bool proven =
        fast ? additional == QMessageAuthenticationCode::hash("Responder", token.toUtf8(),
                                                              QCryptographicHash::Sha256)
             : scram.verifyServerFinal(additional);
    if (!proven) {
        fail(QStringLiteral("the server did not prove itself: ") +
             QString::fromUtf8(answer->toXml()));
        return std::nullopt;
    }
    // Sent right after <success/>: the client does not wait for them.
    const std::optional<XmlNode> features = readUntil(
        [](const XmlNode &n) { return n.name == u"features" && n.xmlns == testns::streams; },
        deadline);
    if (!features)
        return std::nullopt;
    features_ = *features;
    if (answer->child(u"bound", testns::bind2) || answer->child(u"resumed", testns::sm))
        fullJid_ = answer->child(u"authorization-identifier", testns::sasl2)->text();
    return answer;
}

QByteArray TestClient::channelBindingData()
{
    if (options_.channelBinding == u"tls-server-end-point")
        return serverEndPoint();
    if (options_.channelBinding == u"tls-exporter" && ownTls_) {
        const QByteArray exporter = ownTls_->tls()->exporter();
        if (exporter.isEmpty())
            fail(QStringLiteral("no tls-exporter on this connection"));
        return exporter;
    }
    fail(QStringLiteral("unsupported channel binding ") + options_.channelBinding);
    return {};
}

QByteArray TestClient::serverEndPoint()
{
    const QSslCertificate certificate =
        ownTls_ ? QSslCertificate(ownTls_->tls()->serverCertificateDer(), QSsl::Der)
                : socket_->peerCertificate();
    // The hash goes with the certificate's signature (RFC 5929 §4.1); the test certificates
    // and xbnc's own are signed with SHA-256, which is all this client has to handle.
    const QString text = certificate.toText();
    if (!text.contains(QStringLiteral("ecdsa-with-SHA256")) &&
        !text.contains(QStringLiteral("sha256WithRSAEncryption"))) {
        fail(QStringLiteral("no tls-server-end-point for a certificate not signed with SHA-256"));
        return {};
    }
    return QCryptographicHash::hash(certificate.toDer(), QCryptographicHash::Sha256);
}

bool TestClient::bind(QDeadlineTimer deadline)
{
    if (!features_.child(u"bind", testns::bind))
        return fail(QStringLiteral("no bind offered: ") + QString::fromUtf8(features_.toXml()));
    const QString id = QStringLiteral("bind-%1").arg(nextId_++);
    QByteArray resource;
    if (!options_.resource.isEmpty())
        resource = "<resource>" + options_.resource.toHtmlEscaped().toUtf8() + "</resource>";
    send("<iq type='set' id='" + id.toUtf8() + "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" +
         resource + "</bind></iq>");
    const std::optional<XmlNode> answer = readUntil(
        [&id](const XmlNode &n) { return n.name == u"iq" && n.attribute(u"id") == id; }, deadline);
    if (!answer)
        return false;
    ++roundTrips_;
    const XmlNode *bound = answer->child(u"bind", testns::bind);
    const XmlNode *jid = bound ? bound->child(u"jid") : nullptr;
    if (answer->attribute(u"type") != u"result" || !jid)
        return fail(QStringLiteral("bind failed: ") + QString::fromUtf8(answer->toXml()));
    fullJid_ = jid->text();

    // RFC 3921 session establishment, only where a server still insists on it.
    const XmlNode *session = features_.child(u"session", u"urn:ietf:params:xml:ns:xmpp-session");
    if (session && !session->child(u"optional")) {
        const QString sessionId = QStringLiteral("session-%1").arg(nextId_++);
        send("<iq type='set' id='" + sessionId.toUtf8() +
             "'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
        const std::optional<XmlNode> reply = readUntil(
            [&](const XmlNode &n) { return n.name == u"iq" && n.attribute(u"id") == sessionId; },
            deadline);
        if (!reply || reply->attribute(u"type") != u"result")
            return fail(QStringLiteral("session establishment failed"));
        ++roundTrips_;
    }
    return true;
}

bool TestClient::login(const TestClientOptions &options, QDeadlineTimer deadline)
{
    if (!connectAndSecure(options, deadline) || !authenticate(deadline) || !bind(deadline))
        return false;
    if (options_.sendInitialPresence)
        send(options_.initialPresence);
    return true;
}
