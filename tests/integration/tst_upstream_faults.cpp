// The whole xbnc when its server misbehaves (issue #8 §4.3): the connection cut in the middle of
// a stanza, a TLS failure. The server is StartTlsStubServer in this process, so each fault
// happens at an exact byte; a session through xbnc checks what the user would notice.

#include "prosody_fixture.h"
#include "stanza_match.h"
#include "starttls_stub_server.h"
#include "test_certificate.h"
#include "test_client.h"
#include "xbnc_process.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

namespace {

constexpr int timeoutMs = 10000;
const QString accountPassword = QStringLiteral("alice-pw");

std::unique_ptr<StartTlsStubServer> stubFor(const QTemporaryDir &dir, const QString &name)
{
    const QString crt = dir.filePath(name + QStringLiteral(".crt"));
    const QString pem = dir.filePath(name + QStringLiteral(".key"));
    QString error;
    if (!makeTestCertificate({name}, crt, pem, &error)) {
        qWarning() << error;
        return nullptr;
    }
    QFile keyFile(pem);
    const QList<QSslCertificate> certificates = QSslCertificate::fromPath(crt);
    if (certificates.isEmpty() || !keyFile.open(QIODevice::ReadOnly))
        return nullptr;
    auto stub = std::make_unique<StartTlsStubServer>(
        certificates.first(), QSslKey(&keyFile, QSsl::Ec), QSsl::TlsV1_2OrLater);
    if (!stub->listen(QHostAddress::LocalHost, 0))
        return nullptr;
    return stub;
}

} // namespace

class TestUpstreamFaults : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();

    void cutInTheMiddleOfAStanza();
    void tlsFailure();

private:
    bool startXbnc(const StartTlsStubServer &stub, const QString &certificateName);
    std::unique_ptr<TestClient> session(const QString &resource);

    std::unique_ptr<QTemporaryDir> certificates_;
    std::unique_ptr<XbncProcess> xbnc_;
};

void TestUpstreamFaults::init()
{
    certificates_ = std::make_unique<QTemporaryDir>();
    QVERIFY(certificates_->isValid());
    xbnc_ = std::make_unique<XbncProcess>();
}

void TestUpstreamFaults::cleanup()
{
    if (QTest::currentTestFailed())
        qDebug().noquote() << "xbnc output:\n" << xbnc_->output().right(6000);
    QString error;
    QVERIFY2(xbnc_->stop(&error), qPrintable(error)); // a clean exit: nothing crashed
}

bool TestUpstreamFaults::startXbnc(const StartTlsStubServer &stub, const QString &certificateName)
{
    const ProsodyFixture notStarted; // only for the account's domain in configFor()
    XbncProcess::Config config =
        xbnc_->configFor(notStarted, QStringLiteral("alice"), accountPassword);
    config[QStringLiteral("upstream/port")] = QString::number(stub.serverPort());
    config[QStringLiteral("upstream/ca_file")] =
        certificates_->filePath(certificateName + QStringLiteral(".crt"));
    QString error;
    if (!xbnc_->start(config, &error)) {
        qWarning().noquote() << error;
        return false;
    }
    return true;
}

std::unique_ptr<TestClient> TestUpstreamFaults::session(const QString &resource)
{
    auto client = std::make_unique<TestClient>(resource);
    TestClientOptions options;
    options.port = xbnc_->port();
    options.fingerprint = xbnc_->fingerprint();
    options.user = QStringLiteral("alice");
    options.password = accountPassword;
    options.resource = resource;
    if (!client->login(options)) {
        qWarning().noquote() << client->errorString();
        return nullptr;
    }
    return client;
}

void TestUpstreamFaults::cutInTheMiddleOfAStanza()
{
    const auto stub = stubFor(*certificates_, QStringLiteral("localhost"));
    QVERIFY(stub);
    stub->setLogsIn(true);
    stub->setAnswersPings(true);
    QVERIFY(startXbnc(*stub, QStringLiteral("localhost")));
    QVERIFY(xbnc_->waitForLog(QStringLiteral("upstream online as alice@localhost/xbnc")) >= 0);
    const auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    QVERIFY2(phone->roundTrip(), qPrintable(phone->errorString()));

    const qsizetype mark = xbnc_->outputSize();
    stub->sendRaw("<message type='chat' id='half' from='bob@localhost/desk' "
                  "to='alice@localhost/xbnc'><body>half of it");
    stub->abortSession();
    QVERIFY(xbnc_->waitForLog(QRegularExpression(QStringLiteral(
                                  "middle of a stanza: \\d+ bytes of it were received")),
                              QDeadlineTimer(timeoutMs), mark) >= 0);
    QVERIFY(xbnc_->waitForLog(QStringLiteral("retrying in"), QDeadlineTimer(timeoutMs), mark) >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(stub->loginsCompleted(), 2, timeoutMs);
    QVERIFY(xbnc_->waitForLog(QStringLiteral("upstream online as alice@localhost/xbnc"),
                              QDeadlineTimer(timeoutMs), mark) >= 0);

    // The same session, still connected, gets what comes after the reconnect and never the half.
    stub->sendRaw("<message type='chat' id='whole' from='bob@localhost/desk' "
                  "to='alice@localhost/xbnc'><body>whole</body></message>");
    const auto whole = phone->readUntil(match::message(QStringLiteral("whole")));
    QVERIFY2(whole, qPrintable(phone->errorString()));
    QCOMPARE(whole->child(u"body")->text(), QStringLiteral("whole"));
    QVERIFY(phone->expectNone(match::message(QStringLiteral("half"))));
}

void TestUpstreamFaults::tlsFailure()
{
    // The server presents a certificate that is trusted but names another host.
    const auto stub = stubFor(*certificates_, QStringLiteral("other.example"));
    QVERIFY(stub);
    QVERIFY(startXbnc(*stub, QStringLiteral("other.example")));
    const QRegularExpression failure(
        QStringLiteral("offline: TLS failed \\(.*host name.*\\) - retrying in \\d+ ms"));
    const qsizetype first = xbnc_->waitForLog(failure);
    QVERIFY(first >= 0);
    QVERIFY(xbnc_->waitForLog(failure, QDeadlineTimer(timeoutMs), first) >= 0); // backed off, again
    QCOMPARE(stub->handshakesCompleted(), 0);

    // A session logs in and gets what it gets whenever upstream is down.
    const auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    phone->send("<iq type='get' id='to-server' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    const auto answer = phone->readUntil(match::iq(QStringLiteral("to-server")));
    QVERIFY2(answer, qPrintable(phone->errorString()));
    QCOMPARE(answer->attribute(u"type"), QStringLiteral("error"));
    const XmlNode *error = answer->child(u"error");
    QVERIFY(error && error->child(u"remote-server-timeout"));
    // Its own JID is xbnc's to answer: that works whatever upstream does.
    phone->send(QStringLiteral("<iq type='get' id='local' to='%1'><ping xmlns='urn:xmpp:ping'/>"
                               "</iq>")
                    .arg(phone->fullJid())
                    .toUtf8());
    const auto local = phone->readUntil(match::iq(QStringLiteral("local")));
    QVERIFY(local && local->attribute(u"type") == u"result");
    QVERIFY(stub->connectionsSeen() >= 2);
}

QTEST_GUILESS_MAIN(TestUpstreamFaults)
#include "tst_upstream_faults.moc"
