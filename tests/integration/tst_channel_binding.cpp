// SCRAM -PLUS against the real xbnc binary (docs/SASL.md): a raw client binds its login to its
// TLS connection (tls-exporter, RFC 9266) or to the certificate it was shown
// (tls-server-end-point), over STARTTLS, over direct TLS and on the host certificate port
// (another certificate), and a client whose TLS ends at a man in the middle (it binds to
// another connection or certificate) is refused.
#include "bouncer_fixture.h"

#include <QtTest>

class TestChannelBinding : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void boundLogin_data();
    void boundLogin();
    void otherCertificateRefused_data();
    void otherCertificateRefused();

private:
    TestClientOptions options(const QString &resource, const QString &port,
                              const QString &mechanism, const QString &binding);

    BouncerFixture fixture_;
    quint16 hostPort_ = 0;
};

void TestChannelBinding::initTestCase()
{
    QVERIFY2(fixture_.serveHostCertificate(), qPrintable(fixture_.errorString()));
    fixture_.setXbncConfig(QStringLiteral("listener/direct_tls_port"), QStringLiteral("0"));
    // Refusals are answered after the login throttle's delay: at most a second here.
    fixture_.setXbncConfig(QStringLiteral("listener/login_delay_max"), QStringLiteral("1"));
    // Every refusal row fails a login from 127.0.0.1: more than the default lockout allows.
    fixture_.setXbncConfig(QStringLiteral("listener/login_lockout_failures"), QStringLiteral("0"));
    QVERIFY2(fixture_.start(), qPrintable(fixture_.errorString()));
    hostPort_ = fixture_.hostCertificatePort();
    QVERIFY(hostPort_ != 0);
    QVERIFY(fixture_.xbnc().directTlsPort() != 0);
}

void TestChannelBinding::cleanup()
{
    fixture_.finishTest();
}

void TestChannelBinding::cleanupTestCase()
{
    fixture_.stop();
}

namespace {

void addRows()
{
    QTest::addColumn<QString>("port");
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<QString>("binding");
    for (const char *port : {"STARTTLS", "direct TLS", "host certificate"}) {
        for (const char *mechanism : {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"}) {
            for (const char *binding : {"tls-exporter", "tls-server-end-point"}) {
                QTest::addRow("%s %s %s", port, mechanism, binding)
                    << QString::fromLatin1(port) << QString::fromLatin1(mechanism)
                    << QString::fromLatin1(binding);
            }
        }
    }
}

} // namespace

// port: "STARTTLS", "direct TLS" or "host certificate" (direct TLS with the host's certificate).
TestClientOptions TestChannelBinding::options(const QString &resource, const QString &port,
                                              const QString &mechanism, const QString &binding)
{
    TestClientOptions o = fixture_.sessionOptions(resource);
    o.mechanism = mechanism;
    o.channelBinding = binding;
    o.directTls = port != u"STARTTLS";
    if (port == u"direct TLS")
        o.port = fixture_.xbnc().directTlsPort();
    if (port == u"host certificate") {
        o.port = hostPort_;
        o.fingerprint.clear();
        o.caFile = fixture_.hostCertificatePath();
    }
    return o;
}

void TestChannelBinding::boundLogin_data()
{
    addRows();
}

void TestChannelBinding::boundLogin()
{
    QFETCH(QString, port);
    QFETCH(QString, mechanism);
    QFETCH(QString, binding);
    TestClient phone(QStringLiteral("phone"));
    QVERIFY2(phone.connectAndSecure(options(QStringLiteral("phone"), port, mechanism, binding)),
             qPrintable(phone.errorString()));
    // XEP-0440: the types the client may bind with, best first, next to the mechanisms (both
    // client TLS stacks negotiate TLS 1.3, which always has tls-exporter).
    const XmlNode *offer = phone.features().child(u"sasl-channel-binding", u"urn:xmpp:sasl-cb:0");
    QVERIFY2(offer, phone.features().toXml().constData());
    QCOMPARE(offer->toXml(), QByteArray("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>"
                                        "<channel-binding type='tls-exporter'/>"
                                        "<channel-binding type='tls-server-end-point'/>"
                                        "</sasl-channel-binding>"));
    QVERIFY2(phone.authenticate(), qPrintable(phone.errorString()));
    QVERIFY2(phone.bind(), qPrintable(phone.errorString()));
    QCOMPARE(phone.fullJid(), QStringLiteral("alice@localhost/xbnc"));
    // Logged in for real: the upstream server answers through xbnc.
    QVERIFY2(phone.ping(), qPrintable(phone.errorString()));
}

void TestChannelBinding::otherCertificateRefused_data()
{
    addRows();
}

void TestChannelBinding::otherCertificateRefused()
{
    QFETCH(QString, port);
    QFETCH(QString, mechanism);
    QFETCH(QString, binding);
    TestClientOptions o = options(QStringLiteral("intruder"), port, mechanism, binding);
    o.bindToOtherCertificate = true;
    TestClient intruder(QStringLiteral("intruder"));
    const qsizetype mark = fixture_.xbnc().outputSize();
    QVERIFY(!intruder.login(o));
    QVERIFY2(intruder.saslFailure().child(u"not-authorized", u"urn:ietf:params:xml:ns:xmpp-sasl"),
             qPrintable(intruder.errorString()));
    // The refusal is logged like a wrong password, and no session was made.
    QVERIFY(fixture_.xbnc().waitForLog(
                QRegularExpression(QStringLiteral("authentication failed from 127\\.0\\.0\\.1 "
                                                  "\\(user \"alice\", mechanism %1\\)")
                                       .arg(mechanism)),
                QDeadlineTimer(5000), mark) >= 0);
}

QTEST_GUILESS_MAIN(TestChannelBinding)
#include "tst_channel_binding.moc"
