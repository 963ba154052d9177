#include "self_signed_certificate.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QSslCertificate>
#include <QSslCertificateExtension>
#include <QSslKey>
#include <QTemporaryDir>
#include <QTest>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

using xbnc::CertificatePaths;
using xbnc::ensureSelfSignedCertificate;

namespace {

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QSslCertificate loadCertificate(const QString &path)
{
    return QSslCertificate(readAll(path), QSsl::Pem);
}

QByteArray fingerprint(const QString &certFile)
{
    return loadCertificate(certFile).digest(QCryptographicHash::Sha256);
}

// Qt cannot tell whether a private key belongs to a certificate; OpenSSL can.
bool keyMatches(const CertificatePaths &paths)
{
    const QByteArray certPem = readAll(paths.certFile);
    const QByteArray keyPem = readAll(paths.keyFile);
    std::unique_ptr<BIO, decltype(&BIO_free)> certBio(
        BIO_new_mem_buf(certPem.constData(), int(certPem.size())), &BIO_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> keyBio(
        BIO_new_mem_buf(keyPem.constData(), int(keyPem.size())), &BIO_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr), &X509_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    return cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
}

QVariant extensionValue(const QSslCertificate &cert, const QString &name)
{
    for (const QSslCertificateExtension &extension : cert.extensions()) {
        if (extension.name() == name)
            return extension.value();
    }
    return {};
}

constexpr QFileDevice::Permissions kGroupOrOther =
    QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup |
    QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther;

} // namespace

class TestSelfSignedCertificate : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void generates_data();
    void generates();
    void reusesValidCertificate();
    void regeneratesForAnotherDomain();
    void regeneratesBrokenFiles_data();
    void regeneratesBrokenFiles();
    void refusesBadInput();
};

void TestSelfSignedCertificate::generates_data()
{
    QTest::addColumn<QString>("domain");
    QTest::addColumn<QString>("dnsName");

    QTest::newRow("plain") << "example.org"
                           << "example.org";
    QTest::newRow("upper case") << "Example.ORG"
                                << "example.org";
    QTest::newRow("IDN as A-label") << QStringLiteral("bücher.example") << "xn--bcher-kva.example";
}

void TestSelfSignedCertificate::generates()
{
    QFETCH(QString, domain);
    QFETCH(QString, dnsName);

    QTemporaryDir temp;
    QVERIFY(temp.isValid());
    const QString dataDir = temp.filePath(QStringLiteral("nested/data"));
    QString error;
    const std::optional<CertificatePaths> paths =
        ensureSelfSignedCertificate(dataDir, domain, &error);
    QVERIFY2(paths, qPrintable(error));
    QCOMPARE(paths->certFile, dataDir + QStringLiteral("/xbnc-cert.pem"));
    QCOMPARE(paths->keyFile, dataDir + QStringLiteral("/xbnc-key.pem"));

    // The data dir and the key are the owner's alone.
    QCOMPARE(QFileInfo(dataDir).permissions() & kGroupOrOther, QFileDevice::Permissions());
    QCOMPARE(QFileInfo(paths->keyFile).permissions() & kGroupOrOther, QFileDevice::Permissions());
    QVERIFY(!QFile::exists(paths->keyFile + QStringLiteral(".tmp")));
    QVERIFY(!QFile::exists(paths->certFile + QStringLiteral(".tmp")));

    const QSslCertificate cert = loadCertificate(paths->certFile);
    QVERIFY(!cert.isNull());
    QCOMPARE(cert.subjectAlternativeNames().values(QSsl::DnsEntry), QStringList{dnsName});
    QCOMPARE(cert.subjectInfo(QSslCertificate::CommonName), QStringList{dnsName});
    QVERIFY(cert.isSelfSigned());
    QCOMPARE(cert.version(), QByteArray("3"));
    QVERIFY(!cert.serialNumber().isEmpty());
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(cert.effectiveDate() <= now);
    QVERIFY(cert.expiryDate() > now.addYears(10).addDays(-2));
    QVERIFY(cert.expiryDate() < now.addYears(10).addDays(2));
    QCOMPARE(cert.publicKey().algorithm(), QSsl::Ec);
    QCOMPARE(cert.publicKey().length(), 256);

    const QVariantMap constraints =
        extensionValue(cert, QStringLiteral("basicConstraints")).toMap();
    QCOMPARE(constraints.value(QStringLiteral("ca")).toBool(), false);
    // Qt lists the purposes by their OpenSSL long names.
    QCOMPARE(extensionValue(cert, QStringLiteral("extendedKeyUsage")).toStringList(),
             QStringList{QStringLiteral("TLS Web Server Authentication")});
    QCOMPARE(cert.extensions().size(), 3);
    const QSslKey key(readAll(paths->keyFile), QSsl::Ec, QSsl::Pem, QSsl::PrivateKey);
    QVERIFY(!key.isNull());
    QVERIFY(keyMatches(*paths));
}

void TestSelfSignedCertificate::reusesValidCertificate()
{
    QTemporaryDir temp;
    QString error;
    const auto first =
        ensureSelfSignedCertificate(temp.path(), QStringLiteral("example.org"), &error);
    QVERIFY2(first, qPrintable(error));
    const QByteArray firstFingerprint = fingerprint(first->certFile);
    const QByteArray firstKey = readAll(first->keyFile);

    // A loosened key file is tightened again, and the pair is kept.
    QVERIFY(QFile::setPermissions(first->keyFile,
                                  QFile::permissions(first->keyFile) | QFileDevice::ReadOther));
    const auto second =
        ensureSelfSignedCertificate(temp.path(), QStringLiteral("EXAMPLE.org"), &error);
    QVERIFY2(second, qPrintable(error));
    QCOMPARE(second->certFile, first->certFile);
    QCOMPARE(fingerprint(second->certFile), firstFingerprint);
    QCOMPARE(readAll(second->keyFile), firstKey);
    QCOMPARE(QFileInfo(second->keyFile).permissions() & kGroupOrOther, QFileDevice::Permissions());
}

void TestSelfSignedCertificate::regeneratesForAnotherDomain()
{
    QTemporaryDir temp;
    QString error;
    const auto first =
        ensureSelfSignedCertificate(temp.path(), QStringLiteral("example.org"), &error);
    QVERIFY2(first, qPrintable(error));
    const QByteArray firstFingerprint = fingerprint(first->certFile);

    const auto second =
        ensureSelfSignedCertificate(temp.path(), QStringLiteral("example.net"), &error);
    QVERIFY2(second, qPrintable(error));
    QVERIFY(fingerprint(second->certFile) != firstFingerprint);
    const QSslCertificate cert = loadCertificate(second->certFile);
    QCOMPARE(cert.subjectAlternativeNames().values(QSsl::DnsEntry),
             QStringList{QStringLiteral("example.net")});
    QVERIFY(keyMatches(*second));
    // Serial numbers are random, so a client never confuses the two.
    QVERIFY(!cert.serialNumber().isEmpty());
}

void TestSelfSignedCertificate::regeneratesBrokenFiles_data()
{
    QTest::addColumn<QString>("damage");
    QTest::newRow("certificate missing") << "remove-cert";
    QTest::newRow("key missing") << "remove-key";
    QTest::newRow("certificate garbage") << "garbage-cert";
    QTest::newRow("key garbage") << "garbage-key";
    QTest::newRow("key of another pair") << "swap-key";
}

void TestSelfSignedCertificate::regeneratesBrokenFiles()
{
    QFETCH(QString, damage);

    QTemporaryDir temp;
    QTemporaryDir other;
    QString error;
    const auto first =
        ensureSelfSignedCertificate(temp.path(), QStringLiteral("example.org"), &error);
    QVERIFY2(first, qPrintable(error));
    const QByteArray firstFingerprint = fingerprint(first->certFile);

    auto overwrite = [](const QString &path, const QByteArray &data) {
        QFile file(path);
        return file.open(QIODevice::WriteOnly | QIODevice::Truncate) &&
               file.write(data) == data.size();
    };
    if (damage == u"remove-cert") {
        QVERIFY(QFile::remove(first->certFile));
    } else if (damage == u"remove-key") {
        QVERIFY(QFile::remove(first->keyFile));
    } else if (damage == u"garbage-cert") {
        QVERIFY(overwrite(first->certFile, "-----BEGIN CERTIFICATE-----\nAAAA\n"));
    } else if (damage == u"garbage-key") {
        QVERIFY(overwrite(first->keyFile, "not a key"));
    } else if (damage == u"swap-key") {
        const auto foreign =
            ensureSelfSignedCertificate(other.path(), QStringLiteral("example.org"), &error);
        QVERIFY2(foreign, qPrintable(error));
        QVERIFY(overwrite(first->keyFile, readAll(foreign->keyFile)));
        QVERIFY(!keyMatches(*first));
    }

    const auto second =
        ensureSelfSignedCertificate(temp.path(), QStringLiteral("example.org"), &error);
    QVERIFY2(second, qPrintable(error));
    QVERIFY(fingerprint(second->certFile) != firstFingerprint);
    QVERIFY(keyMatches(*second));
    QCOMPARE(QFileInfo(second->keyFile).permissions() & kGroupOrOther, QFileDevice::Permissions());
}

void TestSelfSignedCertificate::refusesBadInput()
{
    QTemporaryDir temp;
    QString error;
    QVERIFY(!ensureSelfSignedCertificate(temp.path(), QString(), &error));
    QVERIFY(!error.isEmpty());
    error.clear();
    QVERIFY(
        !ensureSelfSignedCertificate(temp.path(), QStringLiteral("a,DNS:evil.example"), &error));
    QVERIFY(!error.isEmpty());

    // The data dir cannot be created under a regular file.
    const QString file = temp.filePath(QStringLiteral("file"));
    QFile blocker(file);
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    error.clear();
    QVERIFY(!ensureSelfSignedCertificate(file + QStringLiteral("/data"),
                                         QStringLiteral("example.org"), &error));
    QVERIFY(!error.isEmpty());
    // A null error pointer is allowed.
    QVERIFY(!ensureSelfSignedCertificate(file + QStringLiteral("/data"),
                                         QStringLiteral("example.org"), nullptr));
}

QTEST_GUILESS_MAIN(TestSelfSignedCertificate)
#include "tst_self_signed_certificate.moc"
