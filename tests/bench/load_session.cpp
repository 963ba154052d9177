#include "load_session.h"

#include "scram_client.h"

#include <QCryptographicHash>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>

#include <charconv>

namespace {

constexpr char marker[] = "xbnc-bench:";
constexpr qsizetype markerLength = sizeof(marker) - 1;

constexpr char16_t streamsNs[] = u"http://etherx.jabber.org/streams";
constexpr char16_t saslNs[] = u"urn:ietf:params:xml:ns:xmpp-sasl";

QByteArray escapedAttribute(const QString &value)
{
    return value.toHtmlEscaped().toUtf8();
}

qint64 toNumber(const char *begin, const char *end, bool *ok)
{
    qint64 value = 0;
    const auto [last, error] = std::from_chars(begin, end, value);
    *ok = error == std::errc() && last == end;
    return value;
}

} // namespace

LoadSession::LoadSession(Options options, QObject *parent)
    : QObject(parent), options_(std::move(options)), socket_(std::make_unique<QSslSocket>())
{
}

LoadSession::~LoadSession()
{
    socket_->abort();
}

QByteArray LoadSession::loadBody(qint64 sequence, Clock::time_point sent)
{
    const qint64 ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(sent.time_since_epoch()).count();
    return marker + QByteArray::number(sequence) + ':' + QByteArray::number(ns);
}

void LoadSession::start()
{
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    if (!options_.caFile.isEmpty())
        tls.setCaCertificates(QSslCertificate::fromPath(options_.caFile));
    socket_->setSslConfiguration(tls);
    socket_->setPeerVerifyName(options_.domain);
    const QByteArray pinned = options_.fingerprint.toLatin1().replace(":", "").toLower();
    QSslSocket *socket = socket_.get();
    connect(socket, &QSslSocket::sslErrors, this, [socket, pinned] {
        // Only the one pinned certificate is accepted despite its chain errors.
        if (!pinned.isEmpty() &&
            socket->peerCertificate().digest(QCryptographicHash::Sha256).toHex() == pinned)
            socket->ignoreSslErrors();
    });
    connect(socket, &QAbstractSocket::connected, this, &LoadSession::openStream);
    connect(socket, &QSslSocket::encrypted, this, [this] {
        state_ = State::SecureFeatures;
        openStream();
    });
    connect(socket, &QIODevice::readyRead, this, &LoadSession::readAvailable);
    connect(socket, &QAbstractSocket::errorOccurred, this, [this] {
        if (state_ != State::Closed)
            fail(QStringLiteral("socket: ") + socket_->errorString());
    });
    socket_->connectToHost(QStringLiteral("127.0.0.1"), options_.port);
}

void LoadSession::openStream()
{
    reader_.reset();
    socket_->write("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                   "xmlns:stream='http://etherx.jabber.org/streams' to='" +
                   escapedAttribute(options_.domain) + "' version='1.0'>");
}

void LoadSession::fail(const QString &message)
{
    if (!error_.isEmpty())
        return;
    error_ = QStringLiteral("[%1] %2").arg(options_.resource, message);
    state_ = State::Closed;
    socket_->abort();
    emit failed();
}

void LoadSession::readAvailable()
{
    const Clock::time_point arrived = Clock::now();
    const QByteArray bytes = socket_->readAll();
    bytesReceived_ += bytes.size();
    if (state_ == State::Live) {
        scanLive(bytes, arrived);
        return;
    }
    if (state_ == State::Closed)
        return;
    reader_.feed(bytes);
    if (reader_.failed()) {
        fail(QStringLiteral("malformed XML: ") + reader_.errorString());
        return;
    }
    std::deque<XmlNode> &stanzas = reader_.stanzas();
    while (!stanzas.empty() && state_ != State::Closed) {
        const XmlNode node = std::move(stanzas.front());
        stanzas.pop_front();
        if (state_ == State::Live) {
            // Stanzas behind the subject in the same read: scan them like any later bytes.
            scanLive(node.toXml(), arrived);
            continue;
        }
        handleStanza(node);
    }
}

void LoadSession::handleStanza(const XmlNode &node)
{
    if (node.name == u"error" && node.xmlns == streamsNs) {
        fail(QStringLiteral("stream error: ") + QString::fromUtf8(node.toXml()));
        return;
    }
    switch (state_) {
    case State::StreamFeatures:
        if (node.name != u"features")
            return;
        state_ = State::Proceed;
        socket_->write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        return;
    case State::Proceed:
        if (node.name != u"proceed")
            return fail(QStringLiteral("STARTTLS refused"));
        state_ = State::Handshake;
        reader_.reset();
        socket_->startClientEncryption();
        return;
    case State::SecureFeatures: {
        if (node.name != u"features")
            return;
        const auto algorithm = options_.mechanism == u"SCRAM-SHA-256" ? QCryptographicHash::Sha256
                                                                      : QCryptographicHash::Sha1;
        scram_ = std::make_unique<ScramClient>(algorithm, ScramClient::saslName(options_.user),
                                               options_.password);
        state_ = State::Challenge;
        socket_->write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" +
                       options_.mechanism.toLatin1() + "'>" + scram_->clientFirst().toBase64() +
                       "</auth>");
        return;
    }
    case State::Challenge: {
        if (node.name != u"challenge" || node.xmlns != saslNs)
            return fail(QStringLiteral("SASL: ") + QString::fromUtf8(node.toXml()));
        const QByteArray final =
            scram_->clientFinal(QByteArray::fromBase64(node.text().toLatin1()));
        if (final.isEmpty())
            return fail(QStringLiteral("SASL: invalid server-first"));
        state_ = State::Success;
        socket_->write("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + final.toBase64() +
                       "</response>");
        return;
    }
    case State::Success:
        if (node.name != u"success" ||
            !scram_->verifyServerFinal(QByteArray::fromBase64(node.text().toLatin1())))
            return fail(QStringLiteral("SASL: ") + QString::fromUtf8(node.toXml()));
        state_ = State::BoundFeatures;
        openStream();
        return;
    case State::BoundFeatures:
        if (node.name != u"features")
            return;
        state_ = State::Bind;
        socket_->write("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                       "<resource>" +
                       options_.resource.toHtmlEscaped().toUtf8() + "</resource></bind></iq>");
        return;
    case State::Bind:
        if (node.name != u"iq" || node.attribute(u"id") != u"bind")
            return;
        if (node.attribute(u"type") != u"result")
            return fail(QStringLiteral("bind: ") + QString::fromUtf8(node.toXml()));
        state_ = State::Joining;
        // No history: the benchmark counts only what is sent while it measures.
        socket_->write("<presence/><presence to='" + escapedAttribute(options_.occupantJid) +
                       "'><x xmlns='http://jabber.org/protocol/muc'>"
                       "<history maxstanzas='0'/></x></presence>");
        return;
    case State::Joining:
        if (node.name == u"presence" && node.attribute(u"type") == u"error")
            return fail(QStringLiteral("join: ") + QString::fromUtf8(node.toXml()));
        if (node.name == u"message" && node.child(u"subject") && !node.child(u"body")) {
            state_ = State::Live;
            emit joined();
        }
        return;
    case State::Handshake:
    case State::Live:
    case State::Closed:
        return;
    }
}

void LoadSession::scanLive(const QByteArray &bytes, Clock::time_point arrived)
{
    QByteArray data = pending_.isEmpty() ? bytes : pending_ + bytes;
    pending_.clear();
    qsizetype from = 0;
    for (;;) {
        const qsizetype at = data.indexOf(marker, from);
        if (at < 0)
            break;
        const qsizetype end = data.indexOf('<', at);
        if (end < 0) {
            pending_ = data.mid(at); // the rest of this body comes with the next read
            return;
        }
        const QByteArrayView fields(data.constData() + at + markerLength, end - at - markerLength);
        const qsizetype colon = fields.indexOf(':');
        bool seqOk = false;
        bool timeOk = false;
        const qint64 sequence =
            colon < 0 ? 0 : toNumber(fields.data(), fields.data() + colon, &seqOk);
        const qint64 sentNs =
            colon < 0 ? 0
                      : toNumber(fields.data() + colon + 1, fields.data() + fields.size(), &timeOk);
        from = end;
        if (!seqOk || !timeOk)
            continue; // somebody else's text that happens to look like ours
        ++messages_;
        if (sequence != expected_)
            ++outOfOrder_;
        expected_ = sequence + 1;
        arrivals_.push_back(
            {sequence, arrived - Clock::time_point(std::chrono::nanoseconds(sentNs))});
    }
    // A marker may be split between two reads.
    pending_ = data.mid(std::max(from, data.size() - (markerLength - 1)));
}

void LoadSession::sendToRoom(qint64 sequence)
{
    const QByteArray room = escapedAttribute(options_.occupantJid.section(u'/', 0, 0));
    socket_->write("<message type='groupchat' to='" + room + "'><body>" +
                   loadBody(sequence, Clock::now()) + "</body></message>");
}

void LoadSession::leaveAndClose()
{
    if (state_ == State::Closed)
        return;
    state_ = State::Closed;
    socket_->write("<presence type='unavailable' to='" + escapedAttribute(options_.occupantJid) +
                   "'/></stream:stream>");
    socket_->disconnectFromHost();
}

bool LoadSession::hasClosed() const
{
    return socket_->state() == QAbstractSocket::UnconnectedState;
}

std::vector<LoadSession::Arrival> LoadSession::takeArrivals()
{
    return std::exchange(arrivals_, {});
}
