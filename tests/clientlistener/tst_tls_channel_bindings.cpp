#include "channel_binding.h"
#include "tls_channel_bindings.h"

#include <QFile>
#include <QSslCertificate>
#include <QTest>

using xbnc::tlsServerEndPoint;

namespace {

QByteArray readCertificate(const char *name)
{
    QFile file(QStringLiteral(CERTIFICATE_DIR "/") + QString::fromLatin1(name));
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

class TestTlsChannelBindings : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void serverEndPoint_data();
    void serverEndPoint();
    void unreadableCertificate();
    void feature();
};

void TestTlsChannelBindings::serverEndPoint_data()
{
    QTest::addColumn<QByteArray>("pem");
    QTest::addColumn<QByteArray>("expected"); // base64; empty: undefined (RFC 5929 §4.1)

    // certificates/: self-signed, made with "openssl req -x509" for these tests; the expected
    // values are "openssl x509 -outform DER | openssl dgst -<hash> -binary | base64".
    QTest::newRow("ECDSA with SHA-256")
        << readCertificate("ecdsa_sha256.pem")
        << QByteArray("yzP6X83U6ylvC7N3inlmM6C/Wi6y9ApdUF8pD8gXGBA=");
    QTest::newRow("ECDSA with SHA-384")
        << readCertificate("ecdsa_sha384.pem")
        << QByteArray("t7C3YV/jnhvOLe5oTkIir/RrzboFyM5oDYa+20ybdXxP6kEEpijIMqawTB78HFkE");
    QTest::newRow("ECDSA with SHA-1 hashes with SHA-256")
        << readCertificate("ecdsa_sha1.pem")
        << QByteArray("V9FfxT2DopMNHCyb+IrYu/cfRF8T0WfIinrPRe8p1F4=");
    QTest::newRow("RSA-PSS with SHA-512")
        << readCertificate("rsa_pss_sha512.pem")
        << QByteArray("Hyf1QgzHcHtbe+UL4/nX6zInVg4/OyxPiJkksJTpRb/4I+f4fougCnv9ncvoF9EL9gPSGI/"
                      "qFC6fgiR0AeOiOw==");
    QTest::newRow("Ed25519 has no hash") << readCertificate("ed25519.pem") << QByteArray("");
}

void TestTlsChannelBindings::serverEndPoint()
{
    QFETCH(QByteArray, pem);
    QFETCH(QByteArray, expected);
    const QSslCertificate certificate(pem, QSsl::Pem);
    QVERIFY(!certificate.isNull());
    QCOMPARE(tlsServerEndPoint(certificate).toBase64(), expected);
}

void TestTlsChannelBindings::unreadableCertificate()
{
    QVERIFY(tlsServerEndPoint(QSslCertificate()).isEmpty());
}

// XEP-0440 §3, as the stream features carry it.
void TestTlsChannelBindings::feature()
{
    const xbnc::ChannelBindings bindings{
        {QStringLiteral("tls-server-end-point"), QByteArray(32, 'a')},
        {QStringLiteral("tls-exporter"), QByteArray(32, 'b')}};
    QCOMPARE(xbnc::channelBindingTypes(bindings),
             QStringList({QStringLiteral("tls-server-end-point"), QStringLiteral("tls-exporter")}));
    QCOMPARE(xbnc::findChannelBinding(bindings, u"tls-exporter")->data, QByteArray(32, 'b'));
    QCOMPARE(xbnc::findChannelBinding(bindings, u"tls-unique"), nullptr);
    QCOMPARE(
        QString::fromUtf8(xbnc::channelBindingFeature(xbnc::channelBindingTypes(bindings)).toXml()),
        QStringLiteral("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>"
                       "<channel-binding type='tls-server-end-point'/>"
                       "<channel-binding type='tls-exporter'/></sasl-channel-binding>"));
}

QTEST_GUILESS_MAIN(TestTlsChannelBindings)
#include "tst_tls_channel_bindings.moc"
