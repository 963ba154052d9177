// Certificate trust end to end (docs/CERTIFICATES.md): a client that trusts only the CA from
// `xbnc --export-ca` logs in over STARTTLS with full verification of the JID's domain, and the
// host certificate port serves the configured certificate (ALPN xmpp-client), reloaded on SIGHUP.
#include "bouncer_fixture.h"
#include "test_certificate.h"

#include <QProcess>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>

namespace {

constexpr int kExportTimeoutMs = 15000;

// Replaces `path` by `from` in one rename, as a certificate renewal tool does.
bool replaceWith(const QString &from, const QString &path)
{
    return std::rename(QFile::encodeName(from).constData(), QFile::encodeName(path).constData()) ==
           0;
}

} // namespace

class TestCertificates : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();
    void clientTrustingTheExportedCaLogsIn();
    void hostPortServesTheHostCertificate();
    void sighupReloadsTheHostCertificate();
    void aNewHostNameMakesANewCa();

private:
    // Runs `xbnc --export-ca path` on the running xbnc's configuration.
    bool exportCa(const QString &path);
    // Options of a session named `resource` that trusts only the certificates in caFile.
    TestClientOptions trusting(const QString &resource, const QString &caFile, quint16 port,
                               bool directTls) const;

    BouncerFixture fixture_;
    QTemporaryDir files_;
    QString hostCert_;
    quint16 hostPort_ = 0;
};

void TestCertificates::initTestCase()
{
    QVERIFY(files_.isValid());
    QVERIFY2(fixture_.serveHostCertificate(), qPrintable(fixture_.errorString()));
    hostCert_ = fixture_.hostCertificatePath();
    QVERIFY2(fixture_.start(), qPrintable(fixture_.errorString()));
    hostPort_ = fixture_.hostCertificatePort();
    QVERIFY(hostPort_ != 0);
}

void TestCertificates::cleanup()
{
    fixture_.finishTest();
}

void TestCertificates::cleanupTestCase()
{
    fixture_.stop();
}

TestClientOptions TestCertificates::trusting(const QString &resource, const QString &caFile,
                                             quint16 port, bool directTls) const
{
    TestClientOptions o = fixture_.sessionOptions(resource);
    o.fingerprint.clear(); // no pinning: the chain must verify against caFile alone
    o.caFile = caFile;
    o.port = port;
    o.directTls = directTls;
    return o;
}

bool TestCertificates::exportCa(const QString &path)
{
    QProcess exporter;
    exporter.setProcessChannelMode(QProcess::MergedChannels);
    exporter.start(QStringLiteral(XBNC_BINARY),
                   {QStringLiteral("--config"), fixture_.xbnc().configPath(),
                    QStringLiteral("--export-ca"), path});
    if (!exporter.waitForFinished(kExportTimeoutMs) || exporter.exitCode() != 0) {
        qWarning("xbnc --export-ca failed: %s", exporter.readAll().constData());
        return false;
    }
    return true;
}

void TestCertificates::clientTrustingTheExportedCaLogsIn()
{
    // Exported while xbnc runs, as a user would: the CA is the one behind the served leaf.
    const QString ca = files_.filePath(QStringLiteral("exported.pem"));
    QVERIFY(exportCa(ca));
    QVERIFY(QFile::exists(files_.filePath(QStringLiteral("exported.mobileconfig"))));

    TestClient phone(QStringLiteral("phone"));
    QVERIFY2(phone.login(trusting(phone.name(), ca, fixture_.xbnc().port(), false)),
             qPrintable(phone.errorString()));
    QVERIFY2(phone.ping(), qPrintable(phone.errorString()));

    // The same client trusting another CA is refused: the check above is a real one.
    TestClient stranger(QStringLiteral("stranger"));
    QVERIFY(!stranger.login(trusting(stranger.name(), hostCert_, fixture_.xbnc().port(), false)));
    QVERIFY2(stranger.errorString().contains(u"TLS handshake failed"),
             qPrintable(stranger.errorString()));
}

void TestCertificates::hostPortServesTheHostCertificate()
{
    TestClient laptop(QStringLiteral("laptop"));
    QVERIFY2(laptop.login(trusting(laptop.name(), hostCert_, hostPort_, true)),
             qPrintable(laptop.errorString()));
    QVERIFY2(laptop.ping(), qPrintable(laptop.errorString()));

    // XEP-0368: the port answers a direct-TLS client asking for ALPN xmpp-client with it.
    QSslSocket socket;
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setCaCertificates(QSslCertificate::fromPath(hostCert_));
    tls.setAllowedNextProtocols({QByteArrayLiteral("xmpp-client")});
    socket.setSslConfiguration(tls);
    socket.connectToHostEncrypted(QStringLiteral("127.0.0.1"), hostPort_,
                                  QStringLiteral("localhost"));
    QVERIFY2(socket.waitForEncrypted(BouncerFixture::timeoutMs), qPrintable(socket.errorString()));
    QCOMPARE(socket.sslConfiguration().nextNegotiatedProtocol(), QByteArray("xmpp-client"));
    socket.abort();
}

void TestCertificates::sighupReloadsTheHostCertificate()
{
    const QString renewedCert = files_.filePath(QStringLiteral("renewed.pem"));
    const QString renewedKey = files_.filePath(QStringLiteral("renewed-key.pem"));
    QString error;
    QVERIFY2(makeTestCertificate({QStringLiteral("localhost")}, renewedCert, renewedKey, &error),
             qPrintable(error));
    const QString trustRenewed = files_.filePath(QStringLiteral("trust-renewed.pem"));
    const QString trustOld = files_.filePath(QStringLiteral("trust-old.pem"));
    QVERIFY(QFile::copy(renewedCert, trustRenewed) && QFile::copy(hostCert_, trustOld));

    // Until the reload the old certificate is served, whatever is on disk.
    QVERIFY(replaceWith(renewedKey, fixture_.hostKeyPath()) && replaceWith(renewedCert, hostCert_));
    TestClient early(QStringLiteral("early"));
    QVERIFY2(early.login(trusting(early.name(), trustOld, hostPort_, true)),
             qPrintable(early.errorString()));

    const qsizetype mark = fixture_.xbnc().outputSize();
    QVERIFY(fixture_.xbnc().sendSignal(SIGHUP));
    QVERIFY2(fixture_.xbnc().waitForLog(QStringLiteral("host certificate reloaded"),
                                        QDeadlineTimer(BouncerFixture::timeoutMs), mark) >= 0,
             qPrintable(fixture_.xbnc().output().mid(mark)));

    TestClient renewed(QStringLiteral("renewed"));
    QVERIFY2(renewed.login(trusting(renewed.name(), trustRenewed, hostPort_, true)),
             qPrintable(renewed.errorString()));
    QVERIFY2(renewed.ping(), qPrintable(renewed.errorString()));
    TestClient stale(QStringLiteral("stale"));
    QVERIFY(!stale.login(trusting(stale.name(), trustOld, hostPort_, true)));
    // The session from before the reload goes on.
    QVERIFY2(early.ping(), qPrintable(early.errorString()));
}

void TestCertificates::aNewHostNameMakesANewCa()
{
    // A host name the CA's constraints do not permit (not a subdomain of localhost, which they
    // do) cannot be added to its leaf: xbnc makes a new CA, says so at critical level, and devices
    // that trusted the old one no longer connect.
    QVERIFY2(fixture_.stopXbnc(), qPrintable(fixture_.errorString()));
    fixture_.setXbncConfig(QStringLiteral("listener/hostnames"), QStringLiteral("bouncer.example"));
    QVERIFY2(fixture_.startXbnc(), qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.xbnc().output().contains(u"error xbnc.listener: xbnc's CA may not sign for "
                                               u"the domain and [listener] hostnames as they are "
                                               u"now (or was about to expire): made a NEW CA in"),
             qPrintable(fixture_.xbnc().output()));

    TestClient old(QStringLiteral("old"));
    QVERIFY(!old.login(trusting(old.name(), files_.filePath(QStringLiteral("exported.pem")),
                                fixture_.xbnc().port(), false)));
    const QString ca = files_.filePath(QStringLiteral("new-ca.pem"));
    QVERIFY(exportCa(ca));
    TestClient renewed(QStringLiteral("renewed"));
    QVERIFY2(renewed.login(trusting(renewed.name(), ca, fixture_.xbnc().port(), false)),
             qPrintable(renewed.errorString()));
    QVERIFY2(renewed.ping(), qPrintable(renewed.errorString()));
}

QTEST_GUILESS_MAIN(TestCertificates)
#include "tst_certificates.moc"
