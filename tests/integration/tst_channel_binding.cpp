// SCRAM -PLUS against the real xbnc binary (docs/SASL.md): a raw client binds its login to the
// certificate it was shown, over STARTTLS and over direct TLS, and a client whose TLS ends at a
// man in the middle (it binds to another certificate) is refused.
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
    TestClientOptions options(const QString &resource, bool directTls, const QString &mechanism);

    BouncerFixture fixture_;
};

void TestChannelBinding::initTestCase()
{
    fixture_.setXbncConfig(QStringLiteral("listener/direct_tls_port"), QStringLiteral("0"));
    // Refusals are answered after the login throttle's delay: at most a second here.
    fixture_.setXbncConfig(QStringLiteral("listener/login_delay_max"), QStringLiteral("1"));
    QVERIFY2(fixture_.start(), qPrintable(fixture_.errorString()));
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

TestClientOptions TestChannelBinding::options(const QString &resource, bool directTls,
                                              const QString &mechanism)
{
    TestClientOptions o = fixture_.sessionOptions(resource);
    o.directTls = directTls;
    if (directTls)
        o.port = fixture_.xbnc().directTlsPort();
    o.mechanism = mechanism;
    return o;
}

namespace {

void addRows()
{
    QTest::addColumn<bool>("directTls");
    QTest::addColumn<QString>("mechanism");
    for (const bool directTls : {false, true}) {
        for (const char *mechanism : {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"}) {
            QTest::addRow("%s %s", directTls ? "direct TLS" : "STARTTLS", mechanism)
                << directTls << QString::fromLatin1(mechanism);
        }
    }
}

} // namespace

void TestChannelBinding::boundLogin_data()
{
    addRows();
}

void TestChannelBinding::boundLogin()
{
    QFETCH(bool, directTls);
    QFETCH(QString, mechanism);
    TestClient phone(QStringLiteral("phone"));
    QVERIFY2(phone.connectAndSecure(options(QStringLiteral("phone"), directTls, mechanism)),
             qPrintable(phone.errorString()));
    // XEP-0440: the type the client may bind with, next to the mechanisms.
    const XmlNode *offer = phone.features().child(u"sasl-channel-binding", u"urn:xmpp:sasl-cb:0");
    QVERIFY2(offer, phone.features().toXml().constData());
    QCOMPARE(offer->toXml(), QByteArray("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>"
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
    QFETCH(bool, directTls);
    QFETCH(QString, mechanism);
    TestClientOptions o = options(QStringLiteral("intruder"), directTls, mechanism);
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
