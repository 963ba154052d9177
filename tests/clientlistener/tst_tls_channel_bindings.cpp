#include "channel_binding.h"
#include "stream_namespaces.h"
#include "tls_channel_bindings.h"

#include <QSslCertificate>
#include <QTest>

using xbnc::tlsServerEndPoint;

namespace {

// Self-signed certificates made with "openssl req -x509" for these tests; the expected values
// are "openssl x509 -outform DER | openssl dgst -<hash> -binary | base64".
const char kEcdsaSha256[] = R"(-----BEGIN CERTIFICATE-----
MIIBfTCCASOgAwIBAgIUNXK3X9wsxj8gEYUNAkpW29VwcY4wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MB4XDTI2MTIwMzA3MDg0M1oXDTM2MTEzMDA3
MDg0M1owFDESMBAGA1UEAwwJbG9jYWxob3N0MFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEl8CsYpOD5cGwj6c4aW3v9+MDY5cevbTbbppeFVajQF8QBx2vzNbw+qoJ
o9r7sgPHTMNaLpCGieGcyfdf5chDuaNTMFEwHQYDVR0OBBYEFMQZfCJOimixIF86
wkMQFGjtUrq/MB8GA1UdIwQYMBaAFMQZfCJOimixIF86wkMQFGjtUrq/MA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAN242ViDYj7FXh2aXh1HtQmS
SIlNC2Wy4BvCU/x6K/zlAiBMaAAa6T3MwJa2hwBhA8XT2s3e9XEn4wIN1U5RjFKH
Mg==
-----END CERTIFICATE-----)";

const char kEcdsaSha384[] = R"(-----BEGIN CERTIFICATE-----
MIIBfTCCASOgAwIBAgIUD1i8bujAV5UCxnnfp015yHxbIlYwCgYIKoZIzj0EAwMw
FDESMBAGA1UEAwwJbG9jYWxob3N0MB4XDTI2MTIwMzA3MDg0M1oXDTM2MTEzMDA3
MDg0M1owFDESMBAGA1UEAwwJbG9jYWxob3N0MFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEl8CsYpOD5cGwj6c4aW3v9+MDY5cevbTbbppeFVajQF8QBx2vzNbw+qoJ
o9r7sgPHTMNaLpCGieGcyfdf5chDuaNTMFEwHQYDVR0OBBYEFMQZfCJOimixIF86
wkMQFGjtUrq/MB8GA1UdIwQYMBaAFMQZfCJOimixIF86wkMQFGjtUrq/MA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwMDSAAwRQIhALd/WROoZo5/3lnuSw59KeGi
/XLeCXkarbze8Y71VRxiAiB2dJZTeu1yOQ9R9B6E0Fm8ZFztxw6/chhPoTz4lHDI
FA==
-----END CERTIFICATE-----)";

const char kEcdsaSha1[] = R"(-----BEGIN CERTIFICATE-----
MIIBejCCASKgAwIBAgIULR3JIhxjemLdl9BrYKVwEdACP68wCQYHKoZIzj0EATAU
MRIwEAYDVQQDDAlsb2NhbGhvc3QwHhcNMjYxMjAzMDcwODQzWhcNMzYxMTMwMDcw
ODQzWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjOPQMB
BwNCAASXwKxik4PlwbCPpzhpbe/34wNjlx69tNtuml4VVqNAXxAHHa/M1vD6qgmj
2vuyA8dMw1oukIaJ4ZzJ91/lyEO5o1MwUTAdBgNVHQ4EFgQUxBl8Ik6KaLEgXzrC
QxAUaO1Sur8wHwYDVR0jBBgwFoAUxBl8Ik6KaLEgXzrCQxAUaO1Sur8wDwYDVR0T
AQH/BAUwAwEB/zAJBgcqhkjOPQQBA0cAMEQCICRB59/jRx5Q4XZlSdQmPNvwY2ht
mpIx2xX6W+ZvUgssAiBkJNLi87PDO4wfGy4eFHFH+OiVm16UJ0pf5vykDa1Y+A==
-----END CERTIFICATE-----)";

const char kRsaPssSha512[] = R"(-----BEGIN CERTIFICATE-----
MIICbDCCAaGgAwIBAgIUX+rREgS+lmLjcBtxjbx/SBczTcUwQQYJKoZIhvcNAQEK
MDSgDzANBglghkgBZQMEAgMFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgMF
AKIDAgE+MBQxEjAQBgNVBAMMCWxvY2FsaG9zdDAeFw0yNjEyMDMwNzA4NDNaFw0z
NjExMzAwNzA4NDNaMBQxEjAQBgNVBAMMCWxvY2FsaG9zdDCBnzANBgkqhkiG9w0B
AQEFAAOBjQAwgYkCgYEArkdXCB+38ocgPMRngjKFJlCvBQ1dWz6hnxqQSH7BiUkn
aCOk0ock8RHAlUftFEqXLEwG7g88qDKYMqJ9WoK6NsXYQoXXNHK2Rk38hiJFlBQF
JJRDqk9ii6gYI/7s26ZAK4NwfI2viOY0mNCDPCVcANPoV1gVpAWTSloUalf/txMC
AwEAAaNTMFEwHQYDVR0OBBYEFJc6e/oyR7EVMtqZfQ2Yh/M42/y8MB8GA1UdIwQY
MBaAFJc6e/oyR7EVMtqZfQ2Yh/M42/y8MA8GA1UdEwEB/wQFMAMBAf8wQQYJKoZI
hvcNAQEKMDSgDzANBglghkgBZQMEAgMFAKEcMBoGCSqGSIb3DQEBCDANBglghkgB
ZQMEAgMFAKIDAgE+A4GBADNeldcIq8X0EKm07wcpeiB0mNURYlk952MWyrIMUt+q
2GHxX70L71ZxkcnM0sLg+lXioIE6K4CzBSyRLyb7V3JoeQpi5VnfSf6SyOnBkvSl
+TyLK3QaMj4tDyHczSPuIiQp22aiI1jkLiIWdj5cTg1/5aOjGm/Z1tRy31974NxK
-----END CERTIFICATE-----)";

const char kEd25519[] = R"(-----BEGIN CERTIFICATE-----
MIIBPDCB76ADAgECAhQy7e7PNZsftn9MGH9MWygwq5RlhzAFBgMrZXAwFDESMBAG
A1UEAwwJbG9jYWxob3N0MB4XDTI2MTIwMzA3MDg0M1oXDTM2MTEzMDA3MDg0M1ow
FDESMBAGA1UEAwwJbG9jYWxob3N0MCowBQYDK2VwAyEAGLiCYK6vxZEyanSYdTL6
VuCPNhrmljafk5trcTELq+CjUzBRMB0GA1UdDgQWBBTZnP1ITp9B5rAw5YklbR2L
eQ/sqjAfBgNVHSMEGDAWgBTZnP1ITp9B5rAw5YklbR2LeQ/sqjAPBgNVHRMBAf8E
BTADAQH/MAUGAytlcANBAJksXTx5cP7+PVgVgWbyRQrcwwbyIqhA+n4tnINgbvS3
47fktmPFxS9p5MhS98Fd2QpAkByGlnoEub4Xh2bDiQM=
-----END CERTIFICATE-----)";

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

    QTest::newRow("ECDSA with SHA-256")
        << QByteArray(kEcdsaSha256) << QByteArray("yzP6X83U6ylvC7N3inlmM6C/Wi6y9ApdUF8pD8gXGBA=");
    QTest::newRow("ECDSA with SHA-384")
        << QByteArray(kEcdsaSha384)
        << QByteArray("t7C3YV/jnhvOLe5oTkIir/RrzboFyM5oDYa+20ybdXxP6kEEpijIMqawTB78HFkE");
    QTest::newRow("ECDSA with SHA-1 hashes with SHA-256")
        << QByteArray(kEcdsaSha1) << QByteArray("V9FfxT2DopMNHCyb+IrYu/cfRF8T0WfIinrPRe8p1F4=");
    QTest::newRow("RSA-PSS with SHA-512")
        << QByteArray(kRsaPssSha512)
        << QByteArray("Hyf1QgzHcHtbe+UL4/nX6zInVg4/OyxPiJkksJTpRb/4I+f4fougCnv9ncvoF9EL9gPSGI/"
                      "qFC6fgiR0AeOiOw==");
    QTest::newRow("Ed25519 has no hash") << QByteArray(kEd25519) << QByteArray("");
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
