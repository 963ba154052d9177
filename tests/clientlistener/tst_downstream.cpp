#include "client_listener.h"
#include "own_certificate.h"
#include "scram_client.h"
#include "xml_stream_parser.h"

#include <QElapsedTimer>
#include <QFile>
#include <QPointer>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>

#include <deque>

using namespace xbnc;

namespace {

constexpr int kTimeoutMs = 5000;
const QString kDomain = QStringLiteral("localhost");
const QString kUser = QStringLiteral("alice");
const QString kPassword = QStringLiteral("s3cret");
const QByteArray kSaslNs = "urn:ietf:params:xml:ns:xmpp-sasl";

QByteArray streamHeader(const QString &to = kDomain)
{
    return "<?xml version='1.0'?><stream:stream to='" + to.toUtf8() +
           "' version='1.0' xmlns='jabber:client' "
           "xmlns:stream='http://etherx.jabber.org/streams'>";
}

QByteArray plainAuth(const QString &user, const QString &password)
{
    const QByteArray message = '\0' + user.toUtf8() + '\0' + password.toUtf8();
    return "<auth xmlns='" + kSaslNs + "' mechanism='PLAIN'>" + message.toBase64() + "</auth>";
}

// XEP-0388 <authenticate/> with PLAIN, a user agent and `inlined` (Bind2…).
QByteArray sasl2Plain(const QString &password, const QByteArray &inlined)
{
    const QByteArray message = '\0' + kUser.toUtf8() + '\0' + password.toUtf8();
    return "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>" +
           message.toBase64() +
           "</initial-response><user-agent id='d4f1'><software>t</software></user-agent>" +
           inlined + "</authenticate>";
}

// A raw XMPP client over QSslSocket: writes bytes, reads the server's stream with the same
// parser the server uses, and reports what arrived as canonical strings.
class TestClient : public QObject
{
public:
    explicit TestClient(QString fingerprint) : fingerprint_(std::move(fingerprint))
    {
        parser_ = std::make_unique<XmlStreamParser>(XmlStreamParser::Limits{1 << 24, 256});
        connect(&socket_, &QSslSocket::readyRead, this, &TestClient::read);
        // Trust exactly the listener's certificate and nothing else.
        connect(&socket_, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
            const QString presented = QString::fromLatin1(
                socket_.peerCertificate().digest(QCryptographicHash::Sha256).toHex(':').toUpper());
            if (presented == fingerprint_)
                socket_.ignoreSslErrors(errors);
        });
    }

    bool connectPlain(quint16 port)
    {
        socket_.connectToHost(QHostAddress::LocalHost, port);
        return QTest::qWaitFor(
            [this] { return socket_.state() == QAbstractSocket::ConnectedState; }, kTimeoutMs);
    }

    bool connectDirectTls(quint16 port)
    {
        socket_.connectToHostEncrypted(QStringLiteral("127.0.0.1"), port, kDomain);
        return QTest::qWaitFor([this] { return socket_.isEncrypted(); }, kTimeoutMs);
    }

    bool startTls()
    {
        parser_->restart(false);
        socket_.startClientEncryption();
        return QTest::qWaitFor([this] { return socket_.isEncrypted(); }, kTimeoutMs);
    }

    void send(const QByteArray &bytes) { socket_.write(bytes); }

    // The next thing the server sent: "open", "close", a stanza's XML, "error <condition>" for
    // a stream the test client could not parse, "disconnected", or "timeout".
    QString next()
    {
        (void)QTest::qWaitFor(
            [this] {
                return !events_.empty() || socket_.state() == QAbstractSocket::UnconnectedState;
            },
            kTimeoutMs);
        if (events_.empty())
            return socket_.state() == QAbstractSocket::UnconnectedState
                       ? QStringLiteral("disconnected")
                       : QStringLiteral("timeout");
        QString event = events_.front();
        events_.pop_front();
        return event;
    }

    // Restarts the parser for the stream the server opens after SASL success.
    void restartStream() { parser_->restart(true); }

    bool waitDisconnected()
    {
        return QTest::qWaitFor(
            [this] { return socket_.state() == QAbstractSocket::UnconnectedState; }, kTimeoutMs);
    }

    Element lastHeader;
    QSslSocket socket_;

private:
    void read()
    {
        parser_->feed(socket_.readAll());
        for (;;) {
            XmlStreamParser::Event e = parser_->next();
            using Kind = XmlStreamParser::Event::Kind;
            switch (e.kind) {
            case Kind::NeedMoreData:
                return;
            case Kind::StreamOpen:
                lastHeader = e.element;
                events_.push_back(
                    QStringLiteral("open from=%1 version=%2")
                        .arg(e.element.attribute(u"from"), e.element.attribute(u"version")));
                break;
            case Kind::Stanza:
                events_.push_back(QString::fromUtf8(e.element.toXml()));
                // Restart right after SASL's <success/>, before later bytes reach the old stream
                // (SASL2 goes on without a restart).
                if (e.element.name() == u"success" && e.element.xmlns() != u"urn:xmpp:sasl:2")
                    parser_->restart(true);
                break;
            case Kind::StreamClose:
                events_.push_back(QStringLiteral("close"));
                return;
            case Kind::Error:
                events_.push_back(QStringLiteral("error ") + e.errorCondition);
                return;
            }
        }
    }

    QString fingerprint_;
    std::unique_ptr<XmlStreamParser> parser_;
    std::deque<QString> events_;
};

QString openEvent()
{
    return QStringLiteral("open from=localhost version=1.0");
}

QString features(const QString &inner)
{
    return QStringLiteral("<stream:features>") + inner + QStringLiteral("</stream:features>");
}

const QString kStartTlsRequired =
    QStringLiteral("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>");
const QString kStartTlsOptional =
    QStringLiteral("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
// XEP-0388 beside SASL, with the same mechanisms, and what it takes inline (no FAST here: the
// listener has no token store).
QString sasl2(const QString &mechanisms)
{
    return QStringLiteral("<authentication xmlns='urn:xmpp:sasl:2'>") + mechanisms +
           QStringLiteral("<inline><bind xmlns='urn:xmpp:bind:0'><inline>"
                          "<feature var='urn:xmpp:sm:3'/><feature var='urn:xmpp:carbons:2'/>"
                          "<feature var='urn:xmpp:csi:0'/></inline></bind>"
                          "<sm xmlns='urn:xmpp:sm:3'/></inline></authentication>");
}
const QString kMechanismsTls =
    QStringLiteral(
        "<mechanisms "
        "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256-PLUS</mechanism>"
        "<mechanism>SCRAM-SHA-1-PLUS</mechanism><mechanism>SCRAM-SHA-256</mechanism>"
        "<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>"
        "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/>"
        "<channel-binding type='tls-server-end-point'/></sasl-channel-binding>") +
    sasl2(QStringLiteral(
        "<mechanism>SCRAM-SHA-256-PLUS</mechanism><mechanism>SCRAM-SHA-1-PLUS</mechanism>"
        "<mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1</mechanism>"
        "<mechanism>PLAIN</mechanism>"));
const QString kMechanismsPlain =
    QStringLiteral(
        "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism>"
        "<mechanism>SCRAM-SHA-1</mechanism></mechanisms>") +
    sasl2(QStringLiteral("<mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1</mechanism>"));
const QString kBindFeatures =
    QStringLiteral("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session "
                   "xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>"
                   "<sm xmlns='urn:xmpp:sm:3'/>"
                   "<csi xmlns='urn:xmpp:csi:0'/>"
                   "<ver xmlns='urn:xmpp:features:rosterver'/>");
const QString kSuccess = QStringLiteral("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");

// n distinct attributes with the shortest names there are (" a=''", …, " aB=''", …): 37,000 of
// them fit in 256 KiB.
QByteArray distinctAttributes(int n)
{
    static const QByteArray letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    QByteArray out;
    for (int length = 1, made = 0; made < n; ++length) {
        QList<int> digits(length, 0);
        for (bool more = true; more && made < n; ++made) {
            out += ' ';
            for (const int d : std::as_const(digits))
                out += letters.at(d);
            out += "=''";
            more = false;
            for (int i = length - 1; i >= 0 && !more; --i) {
                more = ++digits[i] < letters.size();
                if (!more)
                    digits[i] = 0;
            }
        }
    }
    return out;
}

const QString kUnsupportedText = QStringLiteral("only message, presence and iq are accepted");

QString saslFailure(const QString &condition)
{
    return QStringLiteral("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><%1/></failure>")
        .arg(condition);
}

QString streamError(const QString &condition, const QString &text = {})
{
    QString xml = QStringLiteral("<stream:error><%1 xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>")
                      .arg(condition);
    if (!text.isEmpty())
        xml +=
            QStringLiteral("<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>%1</text>").arg(text);
    return xml + QStringLiteral("</stream:error>");
}

// Log lines of the test process, for the tests that check what xbnc writes to its log.
QStringList capturedLog;
QtMessageHandler previousHandler = nullptr;

void captureLog(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    capturedLog << message;
    previousHandler(type, context, message);
}

QByteArray saslText(const QString &xml)
{
    return QByteArray::fromBase64(
        Element::fromXml(xml.toUtf8(), u"jabber:client").text().toLatin1());
}

} // namespace

class TestDownstream : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void startTlsScramBindAndStanzas_data();
    void startTlsScramBindAndStanzas();
    void wrongChannelBindingRefusedAndCounted();
    void unofferedBindingTypeIsNoGuess();
    void serverCapsInTheFeaturesAfterAuthentication();
    void sasl2WithBind2BindsWithoutARestart();
    void sasl2WithoutBindLeavesBindToTheClient();
    void sasl2WrongPasswordFails();
    void featuresBeforeTls_data();
    void featuresBeforeTls();
    void authBeforeTlsRefused_data();
    void authBeforeTlsRefused();
    void wrongPassword_data();
    void wrongPassword();
    void pipelinedDirectTls();
    void oversizedStanzaLeavesOtherSessions();
    void streamErrors_data();
    void streamErrors();
    void mechanismsStableAcrossConnections();
    void closeWithErrorAndClientClose();
    void generatedResource();
    void clientThatDoesNotReadIsDropped();
    void plainLogins_data();
    void reloadCertificate();
    void afterAuthentication_data();
    void afterAuthentication();
    void plainLogins();
    void plaintextOnDirectTlsPort();
    void bigAuthAfterStartTlsRefusedBySize();
    void attributeFloodBeforeTlsLeavesOtherSessions();
    void bigStanzaAfterBind();
    void peerTextCutInLogAndKeptOutOfStreamError();
    void tlsClientThatStopsReadingIsDropped();
    void idleClientIsPinged_data();
    void idleClientIsPinged();
    void wrongPasswordAnsweredAfterDelay();
    void nextGuessWaitsForTheDelay();
    void lockedOutAddressRefused();
    void closedDuringDelay();
    void clientStateIndication();

private:
    bool startListener(bool requireTls = true, qsizetype maxStanzaBytes = 256 * 1024);
    // Connect, STARTTLS, new stream: leaves the client at the SASL mechanisms.
    void startTls(TestClient &client);
    // STARTTLS, PLAIN, restart, bind; leaves the client bound with that resource.
    void logIn(TestClient &client, const QString &resource);

    ListenerConfig tuned_; // what a test changes; startListener() fills in the rest
    std::unique_ptr<QTemporaryDir> dataDir_;
    std::unique_ptr<ClientListener> listener_;
    std::vector<QPointer<Downstream>> bound_;
    QList<Element> received_;
};

void TestDownstream::init()
{
    dataDir_ = std::make_unique<QTemporaryDir>();
    tuned_ = {};
    bound_.clear();
    received_.clear();
    // Tests that are not about throttling must not wait for it.
    tuned_.loginThrottle.firstDelay = std::chrono::milliseconds(0);
}

void TestDownstream::cleanup()
{
    listener_.reset();
    dataDir_.reset();
}

bool TestDownstream::startListener(bool requireTls, qsizetype maxStanzaBytes)
{
    ListenerConfig config = tuned_;
    config.address = QHostAddress::LocalHost;
    config.port = 0;
    config.directTlsPort = 0;
    config.dataDir = dataDir_->path();
    config.username = kUser;
    config.domain = kDomain;
    config.password = kPassword;
    config.requireTls = requireTls;
    config.maxStanzaBytes = maxStanzaBytes;
    listener_ = std::make_unique<ClientListener>(config);
    connect(listener_.get(), &ClientListener::sessionBound, this, [this](Downstream *session) {
        bound_.emplace_back(session);
        connect(session, &Downstream::stanzaReceived, this,
                [this](const Element &stanza) { received_ << stanza; });
    });
    QString error;
    const bool ok = listener_->listen(&error);
    if (!ok)
        qWarning() << error;
    return ok && listener_->port() != 0 && listener_->directTlsPort() != 0;
}

void TestDownstream::startTls(TestClient &client)
{
    QVERIFY(client.connectPlain(listener_->port()));
    client.send(streamHeader());
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kStartTlsRequired));
    client.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    QCOMPARE(client.next(), QStringLiteral("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
    QVERIFY(client.startTls());
    client.send(streamHeader());
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kMechanismsTls));
}

void TestDownstream::serverCapsInTheFeaturesAfterAuthentication()
{
    QVERIFY(startListener());
    // The hub learns the server's caps after start: asked for when the features are sent.
    std::optional<Element> caps;
    listener_->setServerCaps([&caps] { return caps; });
    caps = Element::fromXml("<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                            "node='https://xbnc.invalid/server' ver='abc='/>");
    TestClient client(listener_->certificateFingerprint());
    startTls(client);
    client.send(plainAuth(kUser, kPassword));
    QCOMPARE(client.next(), kSuccess);
    client.send(streamHeader());
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(),
             features(kBindFeatures + QStringLiteral("<c xmlns='http://jabber.org/protocol/caps' "
                                                     "hash='sha-1' "
                                                     "node='https://xbnc.invalid/server' "
                                                     "ver='abc='/>")));
}

void TestDownstream::sasl2WithBind2BindsWithoutARestart()
{
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    startTls(client);
    client.send(sasl2Plain(kPassword, "<bind xmlns='urn:xmpp:bind:0'><tag>t</tag>"
                                      "<enable xmlns='urn:xmpp:sm:3'/></bind>"));
    // The device is the user agent: "ua-" + SHA-256("d4f1") cut to 16 hex digits.
    const QString device =
        QStringLiteral("ua-") +
        QString::fromLatin1(
            QCryptographicHash::hash("d4f1", QCryptographicHash::Sha256).toHex().left(16));
    QCOMPARE(client.next(),
             QStringLiteral("<success xmlns='urn:xmpp:sasl:2'><bound xmlns='urn:xmpp:bind:0'>"
                            "<enabled xmlns='urn:xmpp:sm:3'/></bound>"
                            "<authorization-identifier>alice@localhost/%1"
                            "</authorization-identifier></success>")
                 .arg(device));
    QCOMPARE(client.next(), features(QStringLiteral("<csi xmlns='urn:xmpp:csi:0'/>"
                                                    "<ver xmlns='urn:xmpp:features:rosterver'/>")));
    QTRY_COMPARE(bound_.size(), std::size_t(1));
    QCOMPARE(bound_.front()->resource(), device);
    client.send("<message to='bob@localhost' id='m1'><body>x</body></message>");
    QTRY_COMPARE(received_.size(), 1);
    QCOMPARE(received_.front().attribute(u"from"), QStringLiteral("alice@localhost/") + device);
}

void TestDownstream::sasl2WithoutBindLeavesBindToTheClient()
{
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    startTls(client);
    client.send(sasl2Plain(kPassword, {}));
    QCOMPARE(client.next(), QStringLiteral("<success xmlns='urn:xmpp:sasl:2'>"
                                           "<authorization-identifier>alice@localhost"
                                           "</authorization-identifier></success>"));
    QCOMPARE(client.next(), features(kBindFeatures));
    client.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                "<resource>r</resource></bind></iq>");
    QCOMPARE(client.next(), QStringLiteral("<iq type='result' id='b1'><bind "
                                           "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>"
                                           "alice@localhost/r</jid></bind></iq>"));
}

void TestDownstream::sasl2WrongPasswordFails()
{
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    startTls(client);
    client.send(sasl2Plain(QStringLiteral("wrong"), "<bind xmlns='urn:xmpp:bind:0'/>"));
    QCOMPARE(client.next(), QStringLiteral("<failure xmlns='urn:xmpp:sasl:2'><not-authorized "
                                           "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>"));
    // The stream stays open for another try, which succeeds.
    client.send(sasl2Plain(kPassword, {}));
    QCOMPARE(client.next(), QStringLiteral("<success xmlns='urn:xmpp:sasl:2'>"
                                           "<authorization-identifier>alice@localhost"
                                           "</authorization-identifier></success>"));
    QVERIFY(bound_.empty());
}

void TestDownstream::logIn(TestClient &client, const QString &resource)
{
    startTls(client);
    if (QTest::currentTestFailed())
        return;
    client.send(plainAuth(kUser, kPassword));
    QCOMPARE(client.next(), kSuccess);
    client.send(streamHeader());
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kBindFeatures));
    client.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" +
                resource.toUtf8() + "</resource></bind></iq>");
    QCOMPARE(client.next(), QStringLiteral("<iq type='result' id='b1'><bind "
                                           "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>"
                                           "alice@localhost/%1</jid></bind></iq>")
                                .arg(resource));
}

void TestDownstream::startTlsScramBindAndStanzas_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<int>("algorithm");
    QTest::newRow("SCRAM-SHA-256") << "SCRAM-SHA-256" << int(QCryptographicHash::Sha256);
    QTest::newRow("SCRAM-SHA-1") << "SCRAM-SHA-1" << int(QCryptographicHash::Sha1);
    QTest::newRow("SCRAM-SHA-256-PLUS") << "SCRAM-SHA-256-PLUS" << int(QCryptographicHash::Sha256);
    QTest::newRow("SCRAM-SHA-1-PLUS") << "SCRAM-SHA-1-PLUS" << int(QCryptographicHash::Sha1);
}

// RFC 5929 §4.1 from the client's side: the hash of the certificate it was shown, SHA-256 since
// the listener's certificate is signed with ECDSA-SHA256.
ScramClient boundScramClient(const TestClient &client, QCryptographicHash::Algorithm algorithm)
{
    ScramClient scram{algorithm, ScramClient::saslName(kUser), kPassword,
                      "p=tls-server-end-point,,"};
    scram.setChannelBindingData(QCryptographicHash::hash(client.socket_.peerCertificate().toDer(),
                                                         QCryptographicHash::Sha256));
    return scram;
}

// Sends <auth/> with the first SCRAM message; returns the server's answer.
QString sendScramAuth(TestClient &client, const QString &mechanism, const ScramClient &scram)
{
    client.send("<auth xmlns='" + kSaslNs + "' mechanism='" + mechanism.toLatin1() + "'>" +
                scram.clientFirst().toBase64() + "</auth>");
    return client.next();
}

// Answers the server's <challenge/> with the final SCRAM message; returns the server's answer.
QString sendScramResponse(TestClient &client, ScramClient &scram, const QString &challenge)
{
    client.send("<response xmlns='" + kSaslNs + "'>" +
                scram.clientFinal(saslText(challenge)).toBase64() + "</response>");
    return client.next();
}

void TestDownstream::startTlsScramBindAndStanzas()
{
    QFETCH(QString, mechanism);
    QFETCH(int, algorithm);
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    QVERIFY(client.connectPlain(listener_->port()));
    client.send(streamHeader());
    QCOMPARE(client.next(), openEvent());
    QVERIFY(!client.lastHeader.attribute(u"id").isEmpty());
    QCOMPARE(client.next(), features(kStartTlsRequired));
    client.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    QCOMPARE(client.next(), QStringLiteral("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
    QVERIFY(client.startTls());
    client.send(streamHeader());
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kMechanismsTls));

    ScramClient scram = mechanism.endsWith(u"-PLUS")
                            ? boundScramClient(client, QCryptographicHash::Algorithm(algorithm))
                            : ScramClient{QCryptographicHash::Algorithm(algorithm),
                                          ScramClient::saslName(kUser), kPassword};
    const QString challenge = sendScramAuth(client, mechanism, scram);
    QVERIFY2(challenge.startsWith(u"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"),
             qPrintable(challenge));
    const QString success = sendScramResponse(client, scram, challenge);
    QVERIFY2(success.startsWith(u"<success "), qPrintable(success));
    QCOMPARE(saslText(success), scram.expectedServerFinal());

    client.send(streamHeader());
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kBindFeatures));
    QVERIFY(bound_.empty());
    client.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                "<resource>phone</resource></bind></iq>");
    QCOMPARE(client.next(), QStringLiteral("<iq type='result' id='b1'><bind "
                                           "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>"
                                           "alice@localhost/phone</jid></bind></iq>"));
    QCOMPARE(bound_.size(), 1u);
    Downstream *session = bound_.front();
    QVERIFY(session->isBound());
    QVERIFY(session->isEncrypted());
    QCOMPARE(session->resource(), QStringLiteral("phone"));
    QCOMPARE(session->jid().toString(), QStringLiteral("alice@localhost/phone"));

    // The legacy session IQ is answered and never reaches the hub.
    client.send("<iq type='set' id='s1'><session "
                "xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
    QCOMPARE(client.next(), QStringLiteral("<iq type='result' id='s1'/>"));
    client.send("<message to='bob@example.org' id='m1'><body>hi \xF0\x9F\x98\x80</body>"
                "<x xmlns='urn:example'/></message>");
    QTRY_COMPARE_WITH_TIMEOUT(received_.size(), 1, kTimeoutMs);
    QCOMPARE(received_.at(0).toXml(),
             QByteArray("<message to='bob@example.org' id='m1' from='alice@localhost/phone'>"
                        "<body>hi \xF0\x9F\x98\x80</body><x xmlns='urn:example'/></message>"));

    Element reply = Element::fromXml("<message from='bob@example.org' to='alice@localhost/phone'>"
                                     "<body>yo</body></message>");
    session->send(reply);
    QCOMPARE(client.next(), QString::fromUtf8(reply.toXml()));
    session->sendSerialized("<presence from='bob@example.org'/>");
    QCOMPARE(client.next(), QStringLiteral("<presence from='bob@example.org'/>"));
}

void TestDownstream::featuresBeforeTls_data()
{
    QTest::addColumn<bool>("requireTls");
    QTest::addColumn<QString>("expected");
    QTest::newRow("TLS required") << true << features(kStartTlsRequired);
    // Loopback with requireTls off: TLS optional, SCRAM in clear, PLAIN never.
    QTest::newRow("TLS optional on loopback")
        << false << features(kStartTlsOptional + kMechanismsPlain);
}

void TestDownstream::featuresBeforeTls()
{
    QFETCH(bool, requireTls);
    QFETCH(QString, expected);
    QVERIFY(startListener(requireTls));
    TestClient client(listener_->certificateFingerprint());
    QVERIFY(client.connectPlain(listener_->port()));
    client.send(streamHeader());
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), expected);
}

void TestDownstream::authBeforeTlsRefused_data()
{
    QTest::addColumn<bool>("requireTls");
    QTest::addColumn<QString>("expected");
    QTest::newRow("TLS required") << true << saslFailure(QStringLiteral("encryption-required"));
    QTest::newRow("TLS optional") << false << saslFailure(QStringLiteral("encryption-required"));
}

void TestDownstream::authBeforeTlsRefused()
{
    QFETCH(bool, requireTls);
    QFETCH(QString, expected);
    QVERIFY(startListener(requireTls));
    TestClient client(listener_->certificateFingerprint());
    QVERIFY(client.connectPlain(listener_->port()));
    client.send(streamHeader());
    QCOMPARE(client.next(), openEvent());
    client.next(); // features
    client.send(plainAuth(kUser, kPassword));
    QCOMPARE(client.next(), expected);
    QVERIFY(bound_.empty());
}

void TestDownstream::wrongPassword_data()
{
    QTest::addColumn<int>("failures");
    QTest::addColumn<bool>("closed");
    QTest::newRow("one failure, then success") << 1 << false;
    QTest::newRow("two failures, then success") << 2 << false;
    QTest::newRow("three failures close the stream") << 3 << true;
}

void TestDownstream::wrongPassword()
{
    QFETCH(int, failures);
    QFETCH(bool, closed);
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    QVERIFY(client.connectDirectTls(listener_->directTlsPort()));
    client.send(streamHeader());
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kMechanismsTls));
    for (int i = 0; i < failures; ++i) {
        client.send(plainAuth(kUser, QStringLiteral("wrong")));
        QCOMPARE(client.next(), saslFailure(QStringLiteral("not-authorized")));
    }
    if (closed) {
        QCOMPARE(client.next(), QStringLiteral("close"));
        QVERIFY(client.waitDisconnected());
        return;
    }
    client.send(plainAuth(kUser, kPassword));
    QCOMPARE(client.next(), kSuccess);
}

void TestDownstream::pipelinedDirectTls()
{
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    QVERIFY(client.connectDirectTls(listener_->directTlsPort()));
    // Monal: header and <auth/> in one packet; then the next header with the bind request.
    client.send(streamHeader() + plainAuth(kUser, kPassword));
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kMechanismsTls));
    QCOMPARE(client.next(), kSuccess);
    client.send(streamHeader() + "<iq type='set' id='b'><bind "
                                 "xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kBindFeatures));
    const QString result = client.next();
    QVERIFY2(result.contains(u"<jid>alice@localhost/xbnc-"), qPrintable(result));
    QCOMPARE(bound_.size(), 1u);
}

void TestDownstream::oversizedStanzaLeavesOtherSessions()
{
    QVERIFY(startListener(true, 4096));
    TestClient phone(listener_->certificateFingerprint());
    TestClient laptop(listener_->certificateFingerprint());
    logIn(phone, QStringLiteral("phone"));
    if (QTest::currentTestFailed())
        return;
    logIn(laptop, QStringLiteral("laptop"));
    if (QTest::currentTestFailed())
        return;

    phone.send("<message><body>" + QByteArray(5000, 'x') + "</body></message>");
    QCOMPARE(phone.next(),
             streamError(QStringLiteral("policy-violation"), QStringLiteral("stanza too large")));
    QCOMPARE(phone.next(), QStringLiteral("close"));
    QVERIFY(phone.waitDisconnected());
    QTRY_VERIFY_WITH_TIMEOUT(!bound_.at(0), kTimeoutMs); // deleted once closed

    laptop.send("<message to='bob@example.org'><body>still here</body></message>");
    QTRY_COMPARE_WITH_TIMEOUT(received_.size(), 1, kTimeoutMs);
    QCOMPARE(received_.at(0).attribute(u"from"), QStringLiteral("alice@localhost/laptop"));
}

void TestDownstream::streamErrors_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QByteArray>("then");
    QTest::addColumn<QString>("condition");
    QTest::newRow("malformed before auth")
        << streamHeader() << QByteArray("<message><body></message>") << "not-well-formed";
    QTest::newRow("wrong domain") << streamHeader(QStringLiteral("example.org")) << QByteArray()
                                  << "host-unknown";
    QTest::newRow("stanza before auth")
        << streamHeader() << QByteArray("<message to='x@y'><body>hi</body></message>")
        << "not-authorized";
    QTest::newRow("comment") << streamHeader() << QByteArray("<!-- x -->") << "restricted-xml";
    QTest::newRow("old version") << QByteArray(
                                        "<stream:stream to='localhost' xmlns='jabber:client' "
                                        "xmlns:stream='http://etherx.jabber.org/streams'>")
                                 << QByteArray() << "unsupported-version";
}

void TestDownstream::streamErrors()
{
    QFETCH(QByteArray, header);
    QFETCH(QByteArray, then);
    QFETCH(QString, condition);
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    QVERIFY(client.connectDirectTls(listener_->directTlsPort()));
    client.send(header);
    QCOMPARE(client.next(), openEvent());
    if (!then.isEmpty()) {
        QCOMPARE(client.next(), features(kMechanismsTls));
        client.send(then);
    }
    const QString error = client.next();
    QVERIFY2(error.startsWith(streamError(condition).chopped(17)), qPrintable(error));
    QCOMPARE(client.next(), QStringLiteral("close"));
    QVERIFY(client.waitDisconnected());
}

void TestDownstream::mechanismsStableAcrossConnections()
{
    QVERIFY(startListener());
    QStringList offers;
    for (int i = 0; i < 3; ++i) {
        TestClient client(listener_->certificateFingerprint());
        QVERIFY(client.connectDirectTls(listener_->directTlsPort()));
        client.send(streamHeader());
        QCOMPARE(client.next(), openEvent());
        offers << client.next();
    }
    QCOMPARE(offers, QStringList(3, features(kMechanismsTls)));
}

void TestDownstream::closeWithErrorAndClientClose()
{
    QVERIFY(startListener());
    TestClient first(listener_->certificateFingerprint());
    TestClient second(listener_->certificateFingerprint());
    logIn(first, QStringLiteral("a"));
    if (QTest::currentTestFailed())
        return;
    logIn(second, QStringLiteral("b"));
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(bound_.size(), 2u);
    QSignalSpy firstClosed(bound_.at(0).data(), &Downstream::closed);
    QSignalSpy secondClosed(bound_.at(1).data(), &Downstream::closed);

    // What the hub does to an older session with the same resource.
    bound_.at(0)->closeWithError(Downstream::StreamError::Conflict);
    QCOMPARE(firstClosed.size(), 0); // never inside the hub's own call
    QCOMPARE(first.next(), streamError(QStringLiteral("conflict")));
    QCOMPARE(first.next(), QStringLiteral("close"));
    QTRY_COMPARE_WITH_TIMEOUT(firstClosed.size(), 1, kTimeoutMs);

    // A client's </stream:stream> gets ours back.
    second.send("</stream:stream>");
    QCOMPARE(second.next(), QStringLiteral("close"));
    QVERIFY(second.waitDisconnected());
    QTRY_COMPARE_WITH_TIMEOUT(secondClosed.size(), 1, kTimeoutMs);
}

void TestDownstream::generatedResource()
{
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    QVERIFY(client.connectDirectTls(listener_->directTlsPort()));
    client.send(streamHeader() + plainAuth(kUser, kPassword));
    QCOMPARE(client.next(), openEvent());
    client.next();
    QCOMPARE(client.next(), kSuccess);
    client.send(streamHeader() +
                "<iq type='set' id='b'><bind "
                "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource/></bind></iq>");
    client.next();
    client.next();
    const Element result = Element::fromXml(client.next().toUtf8());
    const QString jid = result.firstChild(u"bind")->firstChild(u"jid")->text();
    QVERIFY2(QRegularExpression(QStringLiteral("^alice@localhost/xbnc-[0-9a-f]{8}$"))
                 .match(jid)
                 .hasMatch(),
             qPrintable(jid));
    QCOMPARE(bound_.at(0)->jid().toString(), jid);
}

void TestDownstream::clientThatDoesNotReadIsDropped()
{
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    logIn(client, QStringLiteral("phone"));
    if (QTest::currentTestFailed())
        return;
    QPointer<Downstream> session = bound_.at(0);
    QSignalSpy closed(session.data(), &Downstream::closed);
    const QByteArray chunk = "<message><body>" + QByteArray(1 << 20, 'x') + "</body></message>";
    // No event loop between the writes: nothing drains, so the queue passes the 8 MiB bound
    // (after what the kernel's socket buffer took at once, a few MiB on loopback at most).
    for (int i = 0; i < 7; ++i)
        session->sendSerialized(chunk);
    QCOMPARE(session->isBound(), true);
    for (int i = 0; i < 16 && session->isBound(); ++i)
        session->sendSerialized(chunk);
    QCOMPARE(session->isBound(), false);
    QCOMPARE(closed.size(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(closed.size(), 1, kTimeoutMs);
    QVERIFY(client.waitDisconnected());
}

void TestDownstream::plainLogins_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QString>("expected");
    const auto plain = [](const char *authzid, const char *user, const QString &password) {
        return QByteArray(authzid) + '\0' + user + '\0' + password.toUtf8();
    };
    QTest::newRow("no authzid") << plain("", "alice", kPassword) << kSuccess;
    QTest::newRow("username case") << plain("", "Alice", kPassword) << kSuccess;
    QTest::newRow("authzid is the bare JID")
        << plain("alice@localhost", "alice", kPassword) << kSuccess;
    QTest::newRow("authzid is another JID") << plain("bob@localhost", "alice", kPassword)
                                            << saslFailure(QStringLiteral("invalid-authzid"));
    QTest::newRow("authzid is a full JID") << plain("alice@localhost/x", "alice", kPassword)
                                           << saslFailure(QStringLiteral("invalid-authzid"));
    QTest::newRow("another user") << plain("", "bob", kPassword)
                                  << saslFailure(QStringLiteral("not-authorized"));
    QTest::newRow("empty password")
        << plain("", "alice", QString()) << saslFailure(QStringLiteral("malformed-request"));
}

void TestDownstream::plainLogins()
{
    QFETCH(QByteArray, message);
    QFETCH(QString, expected);
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    QVERIFY(client.connectDirectTls(listener_->directTlsPort()));
    client.send(streamHeader() + "<auth xmlns='" + kSaslNs + "' mechanism='PLAIN'>" +
                message.toBase64() + "</auth>");
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kMechanismsTls));
    QCOMPARE(client.next(), expected);
}

void TestDownstream::afterAuthentication_data()
{
    QTest::addColumn<bool>("bind");
    QTest::addColumn<QByteArray>("send");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<bool>("closes");
    const QByteArray bindIq =
        "<iq type='set' id='b2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
        "<resource>other</resource></bind></iq>";
    QTest::newRow("message before bind") << false << QByteArray("<message to='a@b'/>")
                                         << streamError(QStringLiteral("not-authorized")) << true;
    QTest::newRow("roster get before bind")
        << false << QByteArray("<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>")
        << streamError(QStringLiteral("not-authorized")) << true;
    QTest::newRow("session before bind")
        << false
        << QByteArray("<iq type='set' id='s'><session "
                      "xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
        << QStringLiteral("<iq type='result' id='s'/>") << false;
    QTest::newRow("control-only resource")
        << false
        << QByteArray("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                      "<resource>\t</resource></bind></iq>")
        << QStringLiteral("<iq type='error' id='b'><error type='modify'><bad-request "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        << false;
    QTest::newRow("second bind")
        << true << bindIq
        << QStringLiteral("<iq type='error' id='b2'><error type='cancel'><not-allowed "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        << false;
    QTest::newRow("unknown top-level element after bind")
        << true << QByteArray("<enable xmlns='urn:example:not-offered'/>")
        << streamError(QStringLiteral("unsupported-stanza-type"), kUnsupportedText) << true;
    // XEP-0198: enable after bind, resume instead of bind; the rest is unexpected.
    QTest::newRow("sm enable without resumption")
        << true << QByteArray("<enable xmlns='urn:xmpp:sm:3'/>")
        << QStringLiteral("<enabled xmlns='urn:xmpp:sm:3'/>") << false;
    QTest::newRow("sm enable before bind")
        << false << QByteArray("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
        << QStringLiteral("<failed xmlns='urn:xmpp:sm:3'><unexpected-request "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>")
        << false;
    QTest::newRow("sm resume of an unknown session")
        << false << QByteArray("<resume xmlns='urn:xmpp:sm:3' previd='nope' h='0'/>")
        << QStringLiteral("<failed xmlns='urn:xmpp:sm:3'><item-not-found "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>")
        << false;
    QTest::newRow("sm ack request without enable")
        << true << QByteArray("<r xmlns='urn:xmpp:sm:3'/>")
        << QStringLiteral("<failed xmlns='urn:xmpp:sm:3'><unexpected-request "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>")
        << false;
    QTest::newRow("client state before bind")
        << false << QByteArray("<inactive xmlns='urn:xmpp:csi:0'/>")
        << streamError(QStringLiteral("not-authorized")) << true;
    QTest::newRow("auth again after bind")
        << true << plainAuth(kUser, kPassword)
        << streamError(QStringLiteral("unsupported-stanza-type"), kUnsupportedText) << true;
}

void TestDownstream::afterAuthentication()
{
    QFETCH(bool, bind);
    QFETCH(QByteArray, send);
    QFETCH(QString, expected);
    QFETCH(bool, closes);
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    QVERIFY(client.connectDirectTls(listener_->directTlsPort()));
    client.send(streamHeader() + plainAuth(kUser, kPassword));
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kMechanismsTls));
    QCOMPARE(client.next(), kSuccess);
    client.send(streamHeader());
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kBindFeatures));
    if (bind) {
        client.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
        QVERIFY(client.next().startsWith(u"<iq type='result' id='b1'>"));
    }
    client.send(send);
    QCOMPARE(client.next(), expected);
    if (closes) {
        QCOMPARE(client.next(), QStringLiteral("close"));
        QVERIFY(client.waitDisconnected());
    }
    QVERIFY(received_.isEmpty());
}

void TestDownstream::reloadCertificate()
{
    QTemporaryDir first, second;
    QString error;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const auto a = ensureOwnCertificate({first.path(), {kDomain}, now}, &error);
    const auto b = ensureOwnCertificate({second.path(), {kDomain}, now}, &error);
    QVERIFY2(a && b, qPrintable(error));
    const QString certFile = dataDir_->filePath(QStringLiteral("cert.pem"));
    const QString keyFile = dataDir_->filePath(QStringLiteral("key.pem"));
    QVERIFY(QFile::copy(a->certFile, certFile) && QFile::copy(a->keyFile, keyFile));

    ListenerConfig config;
    config.port = 0;
    config.certFile = certFile;
    config.keyFile = keyFile;
    config.username = kUser;
    config.domain = kDomain;
    config.password = kPassword;
    listener_ = std::make_unique<ClientListener>(config);
    QVERIFY2(listener_->listen(&error), qPrintable(error));
    const QString before = listener_->certificateFingerprint();
    QCOMPARE(before.size(), 32 * 3 - 1);

    TestClient oldClient(before);
    QVERIFY(oldClient.connectPlain(listener_->port()));
    oldClient.send(streamHeader());
    QCOMPARE(oldClient.next(), openEvent());

    QVERIFY(QFile::remove(certFile) && QFile::remove(keyFile));
    QVERIFY(!listener_->reloadCertificate(&error)); // a missing file keeps the old certificate
    QCOMPARE(listener_->certificateFingerprint(), before);
    QVERIFY(QFile::copy(b->certFile, certFile) && QFile::copy(b->keyFile, keyFile));
    QVERIFY2(listener_->reloadCertificate(&error), qPrintable(error));
    const QString after = listener_->certificateFingerprint();
    QVERIFY(after != before);

    // A client that trusts only the new certificate gets through STARTTLS.
    TestClient newClient(after);
    QVERIFY(newClient.connectPlain(listener_->port()));
    newClient.send(streamHeader());
    QCOMPARE(newClient.next(), openEvent());
    QCOMPARE(newClient.next(), features(kStartTlsRequired));
    newClient.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    newClient.next();
    QVERIFY(newClient.startTls());
    // The connection from before still uses the old one.
    QCOMPARE(oldClient.next(), features(kStartTlsRequired));
    oldClient.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    oldClient.next();
    QVERIFY(oldClient.startTls());
}

void TestDownstream::plaintextOnDirectTlsPort()
{
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    QVERIFY(client.connectPlain(listener_->directTlsPort()));
    client.send(streamHeader());
    QCOMPARE(client.next(), QStringLiteral("disconnected"));
}

void TestDownstream::bigAuthAfterStartTlsRefusedBySize()
{
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    startTls(client);
    if (QTest::currentTestFailed())
        return;

    // 100 KB is far over the 10,000 bytes allowed before login: refused by size, not by SASL.
    client.send("<auth xmlns='" + kSaslNs + "' mechanism='PLAIN'>" + QByteArray(100 * 1000, 'A') +
                "</auth>");
    QCOMPARE(client.next(),
             streamError(QStringLiteral("policy-violation"), QStringLiteral("stanza too large")));
    QCOMPARE(client.next(), QStringLiteral("close"));
    QVERIFY(client.waitDisconnected());
}

void TestDownstream::attributeFloodBeforeTlsLeavesOtherSessions()
{
    QVERIFY(startListener());
    TestClient phone(listener_->certificateFingerprint());
    logIn(phone, QStringLiteral("phone"));
    if (QTest::currentTestFailed())
        return;

    // 37,000 attributes in one start tag, before TLS: Qt's quadratic duplicate check must never
    // see them (it froze every session for seconds).
    TestClient attacker(listener_->certificateFingerprint());
    QVERIFY(attacker.connectPlain(listener_->port()));
    attacker.send(streamHeader());
    QCOMPARE(attacker.next(), openEvent());
    QCOMPARE(attacker.next(), features(kStartTlsRequired));
    const QByteArray flood = "<x" + distinctAttributes(37000) + "/>";
    QVERIFY(flood.size() < 256 * 1024);
    attacker.send(flood);
    const QString error = attacker.next();
    QVERIFY2(error.startsWith(streamError(QStringLiteral("policy-violation")).chopped(17)),
             qPrintable(error));
    QCOMPARE(attacker.next(), QStringLiteral("close"));
    QVERIFY(attacker.waitDisconnected());

    phone.send("<message to='bob@example.org'><body>still here</body></message>");
    QTRY_COMPARE_WITH_TIMEOUT(received_.size(), 1, kTimeoutMs);
}

void TestDownstream::bigStanzaAfterBind()
{
    QVERIFY(startListener());
    TestClient phone(listener_->certificateFingerprint());
    logIn(phone, QStringLiteral("phone"));
    if (QTest::currentTestFailed())
        return;
    // Over the pre-login limit, well under max_stanza_size: a photo's thumbnail, a long paste.
    const QByteArray body(50 * 1000, 'x');
    phone.send("<message to='bob@example.org'><body>" + body + "</body></message>");
    QTRY_COMPARE_WITH_TIMEOUT(received_.size(), 1, kTimeoutMs);
    QCOMPARE(received_.at(0).firstChild(u"body")->text().size(), body.size());
}

void TestDownstream::peerTextCutInLogAndKeptOutOfStreamError()
{
    QVERIFY(startListener());
    TestClient phone(listener_->certificateFingerprint());
    logIn(phone, QStringLiteral("phone"));
    if (QTest::currentTestFailed())
        return;

    capturedLog.clear();
    previousHandler = qInstallMessageHandler(captureLog);
    const QByteArray chosen = "urn:peer-chosen:" + QByteArray(5000, 'z');
    phone.send("<unknown xmlns='" + chosen + "'/>");
    const QString error = phone.next();
    qInstallMessageHandler(previousHandler);

    QCOMPARE(error, streamError(QStringLiteral("unsupported-stanza-type"), kUnsupportedText));
    QStringList lines;
    for (const QString &line : std::as_const(capturedLog))
        if (line.contains(u"unsupported-stanza-type"))
            lines << line;
    QCOMPARE(lines.size(), 1);
    QVERIFY2(lines.at(0).contains(u"urn:peer-chosen:zzz"), qPrintable(lines.at(0)));
    QVERIFY2(lines.at(0).size() < 500, qPrintable(lines.at(0).left(1000)));
    QVERIFY2(lines.at(0).contains(u"more characters)"), qPrintable(lines.at(0)));
}

void TestDownstream::tlsClientThatStopsReadingIsDropped()
{
    tuned_.maxQueuedBytes = 1024 * 1024;
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    logIn(client, QStringLiteral("phone")); // over STARTTLS
    if (QTest::currentTestFailed())
        return;
    QPointer<Downstream> session = bound_.at(0);
    QSignalSpy closed(session.data(), &Downstream::closed);
    // The client stops reading: nothing more leaves the kernel's buffers on its side.
    client.socket_.disconnect(&client);
    client.socket_.setReadBufferSize(4096);

    // The hub writes stanzas as they come, with the event loop in between: the TLS layer
    // encrypts each batch, so the backlog sits below it, in the encrypted bytes.
    const QByteArray stanza = "<message><body>" + QByteArray(4096, 'x') + "</body></message>";
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("does not read; closed with \\d+ "
                                                           "bytes queued")));
    for (int i = 0; i < 4000 && session && session->isBound(); ++i) {
        session->sendSerialized(stanza);
        if (i % 10 == 9)
            QCoreApplication::processEvents();
    }
    QTRY_COMPARE_WITH_TIMEOUT(closed.size(), 1, kTimeoutMs);
}

void TestDownstream::idleClientIsPinged_data()
{
    QTest::addColumn<bool>("answers");
    QTest::newRow("a client that answers stays") << true;
    QTest::newRow("a client that does not is closed") << false;
}

void TestDownstream::idleClientIsPinged()
{
    QFETCH(bool, answers);
    tuned_.idleTimeoutMs = 200;
    tuned_.pingTimeoutMs = 200;
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    logIn(client, QStringLiteral("phone"));
    if (QTest::currentTestFailed())
        return;
    const QRegularExpression ping(QStringLiteral(
        "^<iq type='get' id='([^']+)' from='localhost' to='alice@localhost/phone'><ping "
        "xmlns='urn:xmpp:ping'/></iq>$"));
    if (!answers) {
        QVERIFY(ping.match(client.next()).hasMatch());
        QCOMPARE(client.next(), streamError(QStringLiteral("connection-timeout"),
                                            QStringLiteral("no answer to a ping")));
        QCOMPARE(client.next(), QStringLiteral("close"));
        QVERIFY(client.waitDisconnected());
        return;
    }
    // Each ping comes after the deadline of the one before has passed.
    for (int i = 0; i < 3; ++i) {
        const QRegularExpressionMatch match = ping.match(client.next());
        QVERIFY(match.hasMatch());
        client.send("<iq type='result' id='" + match.captured(1).toUtf8() + "' to='localhost'/>");
    }
    QVERIFY(bound_.at(0) && bound_.at(0)->isBound());
    QVERIFY(received_.isEmpty()); // the answers stay in the listener
}

namespace {

constexpr std::chrono::milliseconds kShortDelay(400);

QString failedLine(const QString &mechanism = QStringLiteral("PLAIN"))
{
    return QStringLiteral("authentication failed from 127.0.0.1 (user \"alice\", mechanism %1)")
        .arg(mechanism);
}

} // namespace

void TestDownstream::wrongPasswordAnsweredAfterDelay()
{
    tuned_.loginThrottle.firstDelay = kShortDelay;
    tuned_.loginThrottle.maxDelay = kShortDelay;
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    QVERIFY(client.connectDirectTls(listener_->directTlsPort()));
    client.send(streamHeader());
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kMechanismsTls));

    QTest::ignoreMessage(QtWarningMsg, qPrintable(failedLine()));
    QElapsedTimer clock;
    clock.start();
    client.send(plainAuth(kUser, QStringLiteral("guess")));
    QCOMPARE(client.next(), saslFailure(QStringLiteral("not-authorized")));
    QVERIFY2(clock.elapsed() >= kShortDelay.count(), qPrintable(QString::number(clock.elapsed())));

    // Once the answer is in, the right password works at once.
    clock.restart();
    client.send(plainAuth(kUser, kPassword));
    QCOMPARE(client.next(), kSuccess);
}

// What a man in the middle with a certificate of its own looks like to xbnc: the client bound
// its exchange to another certificate. Refused, and counted like a wrong password.
void TestDownstream::wrongChannelBindingRefusedAndCounted()
{
    tuned_.loginThrottle.firstDelay = kShortDelay;
    tuned_.loginThrottle.maxDelay = kShortDelay;
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    startTls(client);
    if (QTest::currentTestFailed())
        return;

    ScramClient scram = boundScramClient(client, QCryptographicHash::Sha256);
    scram.setChannelBindingData(
        QCryptographicHash::hash("another certificate", QCryptographicHash::Sha256));
    const QString challenge = sendScramAuth(client, QStringLiteral("SCRAM-SHA-256-PLUS"), scram);
    QVERIFY2(challenge.startsWith(u"<challenge "), qPrintable(challenge));
    QTest::ignoreMessage(QtWarningMsg,
                         qPrintable(failedLine(QStringLiteral("SCRAM-SHA-256-PLUS"))));
    QElapsedTimer clock;
    clock.start();
    QCOMPARE(sendScramResponse(client, scram, challenge),
             saslFailure(QStringLiteral("not-authorized")));
    QVERIFY2(clock.elapsed() >= kShortDelay.count(), qPrintable(QString::number(clock.elapsed())));

    // The right binding on the same connection, once the answer is in.
    ScramClient right = boundScramClient(client, QCryptographicHash::Sha256);
    const QString again = sendScramAuth(client, QStringLiteral("SCRAM-SHA-256-PLUS"), right);
    QVERIFY2(again.startsWith(u"<challenge "), qPrintable(again));
    const QString success = sendScramResponse(client, right, again);
    QVERIFY2(success.startsWith(u"<success "), qPrintable(success));
    QCOMPARE(saslText(success), right.expectedServerFinal());
}

// slixmpp (Poezio) asks for -PLUS with tls-unique, which TLS 1.3 does not have, and then logs
// in without binding: the refusal comes at once and costs the address nothing.
void TestDownstream::unofferedBindingTypeIsNoGuess()
{
    tuned_.loginThrottle.firstDelay = kShortDelay;
    tuned_.loginThrottle.maxDelay = kShortDelay;
    tuned_.loginThrottle.lockoutFailures = 1; // one counted failure would lock the next out
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    startTls(client);
    if (QTest::currentTestFailed())
        return;
    const ScramClient unique{QCryptographicHash::Sha256, ScramClient::saslName(kUser), kPassword,
                             "p=tls-unique,,"};
    QElapsedTimer clock;
    clock.start();
    QCOMPARE(sendScramAuth(client, QStringLiteral("SCRAM-SHA-256-PLUS"), unique),
             saslFailure(QStringLiteral("not-authorized")));
    QVERIFY2(clock.elapsed() < kShortDelay.count(), qPrintable(QString::number(clock.elapsed())));

    // slixmpp's next try: SCRAM-SHA-256 with "y" (it could bind, but not with what is offered).
    ScramClient fallback{QCryptographicHash::Sha256, ScramClient::saslName(kUser), kPassword,
                         "y,,"};
    const QString challenge = sendScramAuth(client, QStringLiteral("SCRAM-SHA-256"), fallback);
    QVERIFY2(challenge.startsWith(u"<challenge "), qPrintable(challenge));
    const QString success = sendScramResponse(client, fallback, challenge);
    QVERIFY2(success.startsWith(u"<success "), qPrintable(success));
}

void TestDownstream::nextGuessWaitsForTheDelay()
{
    tuned_.loginThrottle.firstDelay = kShortDelay;
    tuned_.loginThrottle.maxDelay = kShortDelay;
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    QVERIFY(client.connectDirectTls(listener_->directTlsPort()));
    QTest::ignoreMessage(QtWarningMsg, qPrintable(failedLine()));
    QElapsedTimer clock;
    clock.start();
    // A client that does not wait for the answer: its second attempt is only looked at after
    // the first one's answer, so it learns nothing sooner.
    client.send(streamHeader() + plainAuth(kUser, QStringLiteral("guess")) +
                plainAuth(kUser, kPassword));
    QCOMPARE(client.next(), openEvent());
    QCOMPARE(client.next(), features(kMechanismsTls));
    QCOMPARE(client.next(), saslFailure(QStringLiteral("not-authorized")));
    QCOMPARE(client.next(), kSuccess);
    QVERIFY2(clock.elapsed() >= kShortDelay.count(), qPrintable(QString::number(clock.elapsed())));
}

void TestDownstream::lockedOutAddressRefused()
{
    tuned_.loginThrottle.lockoutFailures = 2;
    QVERIFY(startListener());
    QTest::ignoreMessage(QtWarningMsg, qPrintable(failedLine()));
    QTest::ignoreMessage(QtWarningMsg, qPrintable(failedLine()));
    {
        TestClient guesser(listener_->certificateFingerprint());
        QVERIFY(guesser.connectDirectTls(listener_->directTlsPort()));
        guesser.send(streamHeader() + plainAuth(kUser, QStringLiteral("guess1")) +
                     plainAuth(kUser, QStringLiteral("guess2")));
        QCOMPARE(guesser.next(), openEvent());
        QCOMPARE(guesser.next(), features(kMechanismsTls));
        QCOMPARE(guesser.next(), saslFailure(QStringLiteral("not-authorized")));
        QCOMPARE(guesser.next(), saslFailure(QStringLiteral("not-authorized")));
    }
    // Even the right password is refused now, on a new connection, without being checked.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral(
                                           "^authentication refused from 127\\.0\\.0\\.1 \\(too "
                                           "many failed logins from this address, for 90\\d s;")));
    TestClient user(listener_->certificateFingerprint());
    QVERIFY(user.connectDirectTls(listener_->directTlsPort()));
    user.send(streamHeader() + plainAuth(kUser, kPassword));
    QCOMPARE(user.next(), openEvent());
    QCOMPARE(user.next(), features(kMechanismsTls));
    QCOMPARE(user.next(), saslFailure(QStringLiteral("temporary-auth-failure")));
    QCOMPARE(user.next(), QStringLiteral("close"));
    QVERIFY(user.waitDisconnected());
    QVERIFY(bound_.empty());
}

void TestDownstream::closedDuringDelay()
{
    tuned_.loginThrottle.firstDelay = kShortDelay;
    tuned_.loginThrottle.maxDelay = 2 * kShortDelay;
    QVERIFY(startListener());
    QTest::ignoreMessage(QtWarningMsg, qPrintable(failedLine()));
    QTest::ignoreMessage(QtWarningMsg, qPrintable(failedLine()));
    {
        TestClient leaver(listener_->certificateFingerprint());
        QVERIFY(leaver.connectDirectTls(listener_->directTlsPort()));
        leaver.send(streamHeader() + plainAuth(kUser, QStringLiteral("guess")));
        QCOMPARE(leaver.next(), openEvent());
        QCOMPARE(leaver.next(), features(kMechanismsTls));
        const QList<Downstream *> sessions = listener_->findChildren<Downstream *>();
        QCOMPARE(sessions.size(), 1);
        QSignalSpy gone(sessions.first(), &QObject::destroyed);
        leaver.socket_.abort();
        QVERIFY(gone.wait(kTimeoutMs));
    }
    // The second failure from the address waits longer than the first one's timer: by the time
    // it is answered, that timer has fired into a session that no longer exists.
    TestClient next(listener_->certificateFingerprint());
    QVERIFY(next.connectDirectTls(listener_->directTlsPort()));
    QElapsedTimer clock;
    clock.start();
    next.send(streamHeader() + plainAuth(kUser, QStringLiteral("guess")));
    QCOMPARE(next.next(), openEvent());
    QCOMPARE(next.next(), features(kMechanismsTls));
    QCOMPARE(next.next(), saslFailure(QStringLiteral("not-authorized")));
    QVERIFY2(clock.elapsed() >= 2 * kShortDelay.count(),
             qPrintable(QString::number(clock.elapsed())));
}

// XEP-0352: <active/> and <inactive/> are signalled to the hub, never a stream error; every read
// from a bound client is signalled too, so that what the hub held for it can go out.
void TestDownstream::clientStateIndication()
{
    QVERIFY(startListener());
    TestClient client(listener_->certificateFingerprint());
    logIn(client, QStringLiteral("phone"));
    QCOMPARE(bound_.size(), 1u);
    QSignalSpy states(bound_.front().data(), &Downstream::clientStateIndicated);
    QSignalSpy heard(bound_.front().data(), &Downstream::heardFrom);
    client.send("<inactive xmlns='urn:xmpp:csi:0'/>");
    QTRY_COMPARE_WITH_TIMEOUT(states.size(), 1, kTimeoutMs);
    QCOMPARE(states.at(0).at(0).toBool(), false);
    QVERIFY(!heard.isEmpty());
    const qsizetype reads = heard.size();
    client.send(" "); // a whitespace ping is a read like any other
    QTRY_VERIFY_WITH_TIMEOUT(heard.size() > reads, kTimeoutMs);
    client.send("<active xmlns='urn:xmpp:csi:0'/>");
    QTRY_COMPARE_WITH_TIMEOUT(states.size(), 2, kTimeoutMs);
    QCOMPARE(states.at(1).at(0).toBool(), true);
    // Neither reached the hub as a stanza, and the stream is still open.
    client.send("<message to='bob@example.org' id='m1'/>");
    QTRY_COMPARE_WITH_TIMEOUT(received_.size(), 1, kTimeoutMs);
    QCOMPARE(received_.at(0).attribute(u"id"), QStringLiteral("m1"));
    QVERIFY(bound_.front()->isBound());
}

QTEST_GUILESS_MAIN(TestDownstream)
#include "tst_downstream.moc"
