// Smoke test of the integration-test support code against Prosody alone: if this fails, every
// xbnc integration test would fail for reasons that have nothing to do with xbnc.
#include "prosody_fixture.h"
#include "roster_setup.h"
#include "test_client.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

class TestProsodyFixture : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void loginAndPing_data();
    void loginAndPing();
    void directTlsLogin();
    void wrongPasswordIsNotAuthorized();
    void restartKeepsPortsAndAccounts();
    void xmlNodeRoundTrip();
    void mutualSubscription();
    void portClashIsRetriedOnOtherPorts();
    void portBoundElsewhereIsRetriedOnOtherPorts();

private:
    TestClientOptions options(const QString &mechanism = QStringLiteral("SCRAM-SHA-1")) const;

    ProsodyFixture prosody_;
};

TestClientOptions TestProsodyFixture::options(const QString &mechanism) const
{
    TestClientOptions o;
    o.port = prosody_.c2sPort();
    o.caFile = prosody_.caCertificatePath();
    o.user = QStringLiteral("alice");
    o.password = QStringLiteral("s3cret");
    o.resource = QStringLiteral("smoke");
    o.mechanism = mechanism;
    return o;
}

void TestProsodyFixture::initTestCase()
{
    QVERIFY(prosody_.addUser(QStringLiteral("alice"), QStringLiteral("s3cret")));
    QString error;
    QVERIFY2(prosody_.start(&error), qPrintable(error));
    QVERIFY(prosody_.c2sPort() != 0);
    QVERIFY(prosody_.directTlsPort() != 0);
    QVERIFY(prosody_.c2sPort() != prosody_.directTlsPort());
    QCOMPARE(prosody_.domain(), QStringLiteral("localhost"));
}

void TestProsodyFixture::loginAndPing_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::newRow("SCRAM-SHA-1") << QStringLiteral("SCRAM-SHA-1");
    QTest::newRow("PLAIN") << QStringLiteral("PLAIN");
}

void TestProsodyFixture::loginAndPing()
{
    QFETCH(QString, mechanism);
    TestClient client(QStringLiteral("alice"));
    QVERIFY2(client.login(options(mechanism)), qPrintable(client.errorString()));
    QCOMPARE(client.fullJid(), QStringLiteral("alice@localhost/smoke"));
    const auto before = client.ping();
    QVERIFY2(before, qPrintable(client.errorString()));
    QVERIFY(client.isOpen());
}

void TestProsodyFixture::directTlsLogin()
{
    TestClientOptions o = options();
    o.port = prosody_.directTlsPort();
    o.directTls = true;
    TestClient client(QStringLiteral("direct"));
    QVERIFY2(client.login(o), qPrintable(client.errorString()));
    QVERIFY2(client.ping(), qPrintable(client.errorString()));
}

void TestProsodyFixture::wrongPasswordIsNotAuthorized()
{
    TestClientOptions o = options();
    o.password = QStringLiteral("wrong");
    TestClient client(QStringLiteral("intruder"));
    QVERIFY2(client.connectAndSecure(o), qPrintable(client.errorString()));
    QVERIFY(!client.authenticate());
    QCOMPARE(client.saslFailure().name, QStringLiteral("failure"));
    QVERIFY2(client.saslFailure().child(u"not-authorized"),
             client.saslFailure().toXml().constData());
}

void TestProsodyFixture::restartKeepsPortsAndAccounts()
{
    TestClient before(QStringLiteral("before"));
    QVERIFY2(before.login(options()), qPrintable(before.errorString()));
    const quint16 port = prosody_.c2sPort();
    QString error;
    QVERIFY2(prosody_.restart(&error), qPrintable(error));
    QCOMPARE(prosody_.c2sPort(), port);
    // The old connection ends with Prosody; a new login on the same port works.
    QVERIFY2(before.expectClosed(), qPrintable(before.errorString()));
    TestClient after(QStringLiteral("after"));
    QVERIFY2(after.login(options()), qPrintable(after.errorString()));
    QVERIFY2(after.ping(), qPrintable(after.errorString()));
}

void TestProsodyFixture::xmlNodeRoundTrip()
{
    const QByteArray xml = "<message to='a@b' id='1'><body>x &amp; y</body>"
                           "<x xmlns='urn:example:unknown'><y a='1'>z</y></x></message>";
    const XmlNode node = XmlNode::parse(xml);
    QVERIFY(!node.isNull());
    QCOMPARE(node.toXml(), xml);
    QCOMPARE(node.child(u"body")->text(), QStringLiteral("x & y"));
    QCOMPARE(node.child(u"x", u"urn:example:unknown")->child(u"y")->attribute(u"a"),
             QStringLiteral("1"));
    QVERIFY(XmlNode::parse("<message><unclosed></message>").isNull());
}

void TestProsodyFixture::mutualSubscription()
{
    QVERIFY(prosody_.addUser(QStringLiteral("bob"), QStringLiteral("b0b")));
    TestClient alice(QStringLiteral("alice"));
    QVERIFY2(alice.login(options()), qPrintable(alice.errorString()));
    TestClientOptions o = options();
    o.user = QStringLiteral("bob");
    o.password = QStringLiteral("b0b");
    TestClient bob(QStringLiteral("bob"));
    QVERIFY2(bob.login(o), qPrintable(bob.errorString()));
    QString error;
    QVERIFY2(subscribeMutually(alice, QStringLiteral("alice@localhost"), bob,
                               QStringLiteral("bob@localhost"), &error),
             qPrintable(error));
    // Subscribed both ways, each now sees the other's presence.
    bob.send("<presence><status>hi</status></presence>");
    const auto presence = alice.readUntil([](const XmlNode &n) {
        return n.name == u"presence" && n.child(u"status") && n.child(u"status")->text() == u"hi";
    });
    QVERIFY2(presence, qPrintable(alice.errorString()));
    QCOMPARE(presence->attribute(u"from"), QStringLiteral("bob@localhost/smoke"));
}

void TestProsodyFixture::portClashIsRetriedOnOtherPorts()
{
    // Somebody else holds the port Prosody tries first, and hangs up on every connection.
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    QObject::connect(&squatter, &QTcpServer::newConnection, &squatter, [&squatter] {
        while (QTcpSocket *connection = squatter.nextPendingConnection())
            connection->close();
    });
    ProsodyFixture second;
    second.setFirstPorts(squatter.serverPort(), prosody_.directTlsPort());
    QString error;
    QVERIFY2(second.start(&error), qPrintable(error));
    QVERIFY(second.c2sPort() != squatter.serverPort());
    QVERIFY(second.directTlsPort() != prosody_.directTlsPort());
    QVERIFY(second.addUser(QStringLiteral("alice"), QStringLiteral("s3cret")));
    TestClientOptions o = options();
    o.port = second.c2sPort();
    o.caFile = second.caCertificatePath();
    TestClient client(QStringLiteral("second"));
    QVERIFY2(client.login(o), qPrintable(client.errorString()));
    QVERIFY2(client.ping(), qPrintable(client.errorString()));
}

void TestProsodyFixture::portBoundElsewhereIsRetriedOnOtherPorts()
{
    // A port bound but not listening refuses connections like a port nobody has: only
    // Prosody's own complaint shows that it will never listen there.
    const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
    QVERIFY(holder >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    QVERIFY(::bind(holder, reinterpret_cast<sockaddr *>(&address), length) == 0);
    QVERIFY(::getsockname(holder, reinterpret_cast<sockaddr *>(&address), &length) == 0);
    const quint16 held = ntohs(address.sin_port);

    ProsodyFixture second;
    second.setFirstPorts(held, held + 1 == prosody_.c2sPort() ? held + 2 : held + 1);
    QString error;
    QDeadlineTimer quickly(5000); // far less than the start deadline a missed clash would take
    const bool started = second.start(&error);
    ::close(holder);
    QVERIFY2(started, qPrintable(error));
    QVERIFY(!quickly.hasExpired());
    QVERIFY(second.c2sPort() != held);
    QVERIFY2(second.logText().contains(u"Failed to open server port"), "no clash happened");
    TestClientOptions o = options();
    o.port = second.directTlsPort();
    o.directTls = true;
    o.caFile = second.caCertificatePath();
    TestClient client(QStringLiteral("second"));
    QVERIFY2(client.connectAndSecure(o), qPrintable(client.errorString()));
}

QTEST_GUILESS_MAIN(TestProsodyFixture)
#include "tst_prosody_fixture.moc"
