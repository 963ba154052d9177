#include "client_listener.h"

#include <QDeadlineTimer>
#include <QSignalSpy>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <vector>

using namespace xbnc;

namespace {

constexpr int kTimeoutMs = 5000;
const QByteArray kHeader = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' "
                           "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
const QByteArray kStartTls = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
const QByteArray kPlainAuth = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                              QByteArray("\0alice\0s3cret", 13).toBase64() + "</auth>";
const QByteArray kBind =
    "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";

// A connection from a chosen loopback address (Linux routes all of 127/8 to lo), to tell
// sources apart. Encryption is not what these tests are about: any certificate is accepted.
std::unique_ptr<QSslSocket> connectFrom(const QString &source, quint16 port, bool directTls)
{
    auto socket = std::make_unique<QSslSocket>();
    socket->setPeerVerifyMode(QSslSocket::VerifyNone);
    if (!socket->bind(QHostAddress(source)))
        return nullptr;
    if (directTls)
        socket->connectToHostEncrypted(QStringLiteral("127.0.0.1"), port);
    else
        socket->connectToHost(QHostAddress::LocalHost, port);
    return socket;
}

bool waitFor(QSslSocket &socket, const QByteArray &needle)
{
    QByteArray seen;
    return QTest::qWaitFor(
        [&] {
            seen += socket.readAll();
            return seen.contains(needle);
        },
        kTimeoutMs);
}

// Served: the listener answers a stream header with its features. Refused: closed at once,
// after a policy-violation stream error on the STARTTLS port.
enum class Outcome
{
    Served,
    Refused,
    Neither
};

Outcome outcome(QSslSocket &socket)
{
    socket.write(kHeader);
    QByteArray seen;
    (void)QTest::qWaitFor(
        [&] {
            seen += socket.readAll();
            return seen.contains("<stream:features") ||
                   socket.state() == QAbstractSocket::UnconnectedState;
        },
        kTimeoutMs);
    seen += socket.readAll();
    if (seen.contains("<stream:features"))
        return Outcome::Served;
    const QByteArray refusal = "<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                               "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>too many "
                               "connections that have not logged in</text></stream:error>"
                               "</stream:stream>";
    if (socket.state() == QAbstractSocket::UnconnectedState && seen.contains(refusal))
        return Outcome::Refused;
    return Outcome::Neither;
}

} // namespace

class TestClientListener : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void everyConnectionClosedAtPreloginDeadline();
    void preloginCapsPerAddressAndInTotal();
    void badTlsInputClosesOnlyThatConnection();

private:
    bool startListener();

    ListenerConfig config_;
    std::unique_ptr<QTemporaryDir> dataDir_;
    std::unique_ptr<ClientListener> listener_;
};

void TestClientListener::init()
{
    dataDir_ = std::make_unique<QTemporaryDir>();
    config_ = {};
    config_.port = 0;
    config_.directTlsPort = 0;
    config_.dataDir = dataDir_->path();
    config_.username = QStringLiteral("alice");
    config_.domain = QStringLiteral("localhost");
    config_.password = QStringLiteral("s3cret");
}

void TestClientListener::cleanup()
{
    listener_.reset();
    dataDir_.reset();
}

bool TestClientListener::startListener()
{
    listener_ = std::make_unique<ClientListener>(config_);
    QString error;
    if (!listener_->listen(&error))
        qWarning() << error;
    return listener_->port() != 0 && listener_->directTlsPort() != 0;
}

void TestClientListener::everyConnectionClosedAtPreloginDeadline()
{
    // The measurement that found a connection left open for good: a burst of idle connections.
    config_.preloginTimeoutMs = 500;
    config_.maxPreloginConnections = 1000;
    config_.maxPreloginPerAddress = 1000;
    QVERIFY(startListener());

    struct Idle
    {
        const char *what;
        int count;
        bool directTls;
        QByteArray sends; // then nothing more
    };
    const Idle kinds[] = {
        {"silent", 100, false, {}},
        {"stream header only", 100, false, kHeader},
        {"STARTTLS, then no handshake", 20, false, kHeader + kStartTls},
        {"direct TLS, no handshake", 20, true, {}},
        {"direct TLS, half a ClientHello", 20, true, QByteArray::fromHex("1603010200")},
    };
    struct Connection
    {
        const Idle *kind;
        std::unique_ptr<QTcpSocket> socket;
    };
    std::vector<Connection> connections;
    for (const Idle &kind : kinds) {
        for (int i = 0; i < kind.count; ++i) {
            auto socket = std::make_unique<QTcpSocket>();
            socket->connectToHost(QHostAddress::LocalHost,
                                  kind.directTls ? listener_->directTlsPort() : listener_->port());
            connections.push_back({&kind, std::move(socket)});
        }
    }
    const auto countIn = [&](QAbstractSocket::SocketState state) {
        return std::count_if(connections.begin(), connections.end(),
                             [&](const Connection &c) { return c.socket->state() == state; });
    };
    QTRY_COMPARE_WITH_TIMEOUT(countIn(QAbstractSocket::ConnectedState), qsizetype(260), kTimeoutMs);
    for (Connection &c : connections)
        c.socket->write(c.kind->sends);

    // The deadline plus room for a busy machine, but well short of the 5 s grace a graceful
    // close gets.
    QTRY_COMPARE_WITH_TIMEOUT(countIn(QAbstractSocket::UnconnectedState), qsizetype(260), 3000);
    for (const Connection &c : connections) {
        if (!c.kind->directTls && c.kind->sends == kHeader)
            QVERIFY2(c.socket->readAll().contains("<connection-timeout "), c.kind->what);
    }
}

// xbnc's own TLS meets what is not TLS: each such connection is closed at once (long before the
// negotiation deadline), and a logged-in session on the same listener never notices.
void TestClientListener::badTlsInputClosesOnlyThatConnection()
{
    config_.preloginTimeoutMs = 20000;
    QVERIFY(startListener());
    QSignalSpy bound(listener_.get(), &ClientListener::sessionBound);
    // Direct TLS, PLAIN and bind; null unless the listener reported the session bound.
    const auto logIn = [&] {
        auto socket = connectFrom(QStringLiteral("127.0.0.1"), listener_->directTlsPort(), true);
        const qsizetype before = bound.size();
        socket->write(kHeader + kPlainAuth);
        if (!waitFor(*socket, "<success "))
            return decltype(socket)();
        socket->write(kHeader + kBind);
        return QTest::qWaitFor([&] { return bound.size() > before; }, kTimeoutMs)
                   ? std::move(socket)
                   : decltype(socket)();
    };
    const auto keeper = logIn();
    QVERIFY(keeper);

    const auto rawTo = [](quint16 port) {
        auto socket = std::make_unique<QTcpSocket>();
        socket->connectToHost(QHostAddress::LocalHost, port);
        return socket;
    };
    const auto closedSoon = [](QTcpSocket &socket) {
        return QTest::qWaitFor([&] { return socket.state() == QAbstractSocket::UnconnectedState; },
                               3000);
    };
    // A stream header where the ClientHello belongs.
    auto xml = rawTo(listener_->directTlsPort());
    QVERIFY(xml->waitForConnected(kTimeoutMs));
    xml->write(kHeader);
    QVERIFY(closedSoon(*xml));
    // STARTTLS accepted, then clear text instead of a handshake.
    auto plain = rawTo(listener_->port());
    QVERIFY(plain->waitForConnected(kTimeoutMs));
    plain->write(kHeader + kStartTls);
    QVERIFY(QTest::qWaitFor([&] { return plain->peek(4096).contains("<proceed "); }, kTimeoutMs));
    plain->write("still not TLS\r\n");
    QVERIFY(closedSoon(*plain));
    // A fatal alert (handshake_failure) instead of a ClientHello.
    auto alert = rawTo(listener_->directTlsPort());
    QVERIFY(alert->waitForConnected(kTimeoutMs));
    alert->write(QByteArray::fromHex("15030300020228"));
    QVERIFY(closedSoon(*alert));
    // Half a ClientHello, then the client goes away mid-handshake.
    auto quitter = rawTo(listener_->directTlsPort());
    QVERIFY(quitter->waitForConnected(kTimeoutMs));
    quitter->write(QByteArray::fromHex("1603010200"));
    QVERIFY(quitter->waitForBytesWritten(kTimeoutMs));
    quitter->abort();

    // The logged-in session still works: a second login over TLS binds too.
    QCOMPARE(keeper->state(), QAbstractSocket::ConnectedState);
    QVERIFY(logIn());
    QCOMPARE(bound.size(), 2);
    QCOMPARE(keeper->state(), QAbstractSocket::ConnectedState);
}

void TestClientListener::preloginCapsPerAddressAndInTotal()
{
    config_.maxPreloginConnections = 3;
    config_.maxPreloginPerAddress = 2;
    QVERIFY(startListener());
    QSignalSpy bound(listener_.get(), &ClientListener::sessionBound);
    const quint16 port = listener_->port();
    const QString a = QStringLiteral("127.0.0.1"), b = QStringLiteral("127.0.0.2"),
                  c = QStringLiteral("127.0.0.3");

    auto a1 = connectFrom(a, port, false);
    auto a2 = connectFrom(a, port, false);
    QVERIFY(a1 && a2);
    QCOMPARE(outcome(*a1), Outcome::Served);
    QCOMPARE(outcome(*a2), Outcome::Served);
    auto a3 = connectFrom(a, port, false);
    QCOMPARE(outcome(*a3), Outcome::Refused); // per address

    auto b1 = connectFrom(b, listener_->directTlsPort(), true);
    QVERIFY(b1);
    b1->write(kHeader + kPlainAuth);
    QVERIFY(waitFor(*b1, "<success "));
    auto c1 = connectFrom(c, port, false);
    QCOMPARE(outcome(*c1), Outcome::Refused); // in total

    // A session that binds leaves the count.
    b1->write(kHeader + kBind);
    QTRY_COMPARE_WITH_TIMEOUT(bound.size(), 1, kTimeoutMs);
    auto c2 = connectFrom(c, port, false);
    QCOMPARE(outcome(*c2), Outcome::Served);

    // So does one that closes; the listener learns of it a moment later, and may refuse until
    // then.
    a1->abort();
    std::vector<std::unique_ptr<QSslSocket>> tries;
    QDeadlineTimer deadline(kTimeoutMs);
    Outcome last = Outcome::Refused;
    while (last == Outcome::Refused && !deadline.hasExpired()) {
        tries.push_back(connectFrom(a, port, false));
        last = outcome(*tries.back());
    }
    QCOMPARE(last, Outcome::Served);
}

QTEST_GUILESS_MAIN(TestClientListener)
#include "tst_client_listener.moc"
