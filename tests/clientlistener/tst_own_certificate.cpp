// xbnc's own CA and leaf (clientlistener/own_certificate.*): what is made, when it is renewed,
// when the CA is replaced, and that OpenSSL's verifier enforces the CA's name constraints.
#include "own_certificate.h"
#include "private_file.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>

using namespace xbnc;

namespace {

const QString kDomain = QStringLiteral("example.org");
const QStringList kNames{kDomain, QStringLiteral("bnc.home.example"),
                         QStringLiteral("xbnc.example.net")};
const QDateTime kNow(QDate(2026, 12, 3), QTime(7, 0), Qt::UTC);

template <auto Free> struct Deleter
{
    template <typename T> void operator()(T *p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreContextPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
struct ChainDeleter
{
    void operator()(STACK_OF(X509) * chain) const { sk_X509_free(chain); } // not the certs
};
using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainDeleter>;

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// Every certificate in a PEM text, in order.
std::vector<X509Ptr> certificates(const QByteArray &pem)
{
    std::unique_ptr<BIO, Deleter<BIO_free>> bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    std::vector<X509Ptr> result;
    while (X509 *cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
        result.emplace_back(cert);
    return result;
}

X509Ptr firstCertificate(const QByteArray &pem)
{
    std::vector<X509Ptr> all = certificates(pem);
    return all.empty() ? nullptr : std::move(all.front());
}

// X509_V_OK when OpenSSL, trusting `caPem` only, accepts the first certificate of `chainPem`
// for a TLS server named `host` at `when`; otherwise the verifier's error.
int verify(const QByteArray &chainPem, const QByteArray &caPem, const QString &host,
           const QDateTime &when)
{
    std::vector<X509Ptr> chain = certificates(chainPem);
    X509Ptr ca = firstCertificate(caPem);
    if (chain.empty() || !ca)
        return -1;
    StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), ca.get());
    ChainPtr untrusted(sk_X509_new_null());
    for (std::size_t i = 1; i < chain.size(); ++i)
        sk_X509_push(untrusted.get(), chain[i].get());
    StoreContextPtr context(X509_STORE_CTX_new());
    X509_STORE_CTX_init(context.get(), store.get(), chain.front().get(), untrusted.get());
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(context.get());
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set_time(param, time_t(when.toSecsSinceEpoch()));
    const QByteArray name = host.toLatin1();
    X509_VERIFY_PARAM_set1_host(param, name.constData(), std::size_t(name.size()));
    const int ok = X509_verify_cert(context.get());
    return ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(context.get());
}

bool isCritical(X509 *cert, int nid)
{
    const int index = X509_get_ext_by_NID(cert, nid, -1);
    return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

QDateTime utc(const ASN1_TIME *time)
{
    std::tm tm{};
    ASN1_TIME_to_tm(time, &tm);
    return QDateTime(QDate(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday),
                     QTime(tm.tm_hour, tm.tm_min, tm.tm_sec), Qt::UTC);
}

QDateTime notAfter(X509 *cert)
{
    return utc(X509_get0_notAfter(cert));
}

QDateTime notBefore(X509 *cert)
{
    return utc(X509_get0_notBefore(cert));
}

std::optional<OwnCertificate> ensure(const QString &dir, const QStringList &names,
                                     const QDateTime &now, QString *error)
{
    return ensureOwnCertificate({dir, names, now}, error);
}

// A data dir in which xbnc made its certificates at kNow, and what they were then.
struct Made
{
    Made()
    {
        own = ensure(temp.path(), kNames, kNow, &error);
        if (own) {
            leaf = readAll(own->certFile);
            ca = readAll(own->caFile);
        }
    }

    QTemporaryDir temp;
    QString error;
    std::optional<OwnCertificate> own;
    QByteArray leaf;
    QByteArray ca;
};

} // namespace

class TestOwnCertificate : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void makesCaAndLeaf();
    void keepsWhatIsValid();
    void renewsLeafButNotCa();
    void newCaWhenNamesGrow();
    void droppedHostNameKeepsCa();
    void nameConstraintsRefuseOtherDomains();
    void leavesOldSelfSignedFiles();
    void replacesBrokenFiles_data();
    void replacesBrokenFiles();
    void refusesBadInput();
    void plan_data();
    void plan();
};

void TestOwnCertificate::makesCaAndLeaf()
{
    QTemporaryDir temp;
    const QString dataDir = temp.filePath(QStringLiteral("data"));
    QString error;
    const auto own = ensure(dataDir, kNames, kNow, &error);
    QVERIFY2(own, qPrintable(error));
    QCOMPARE(own->action, OwnCertificateAction::NewCa);
    QVERIFY(!own->replacedCa);
    QCOMPARE(QFileInfo(dataDir).permissions() & 0x0077, QFileDevice::Permissions());
    for (const QString &name :
         {QStringLiteral("xbnc-ca.pem"), QStringLiteral("xbnc-ca-key.pem"),
          QStringLiteral("xbnc-leaf.pem"), QStringLiteral("xbnc-leaf-key.pem")}) {
        const QFileInfo file(dataDir + u'/' + name);
        QVERIFY2(file.exists(), qPrintable(name));
        QCOMPARE(file.permissions() & 0x0077, QFileDevice::Permissions()); // owner only
    }
    QCOMPARE(own->caFile, dataDir + QStringLiteral("/xbnc-ca.pem"));

    X509Ptr ca = firstCertificate(readAll(own->caFile));
    QVERIFY(ca);
    QCOMPARE(X509_check_ca(ca.get()), 1);
    QVERIFY(isCritical(ca.get(), NID_basic_constraints));
    QCOMPARE(X509_get_pathlen(ca.get()), 0L);
    QCOMPARE(X509_get_key_usage(ca.get()), uint32_t(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    QVERIFY(isCritical(ca.get(), NID_name_constraints));
    QCOMPARE(notAfter(ca.get()), kNow.addDays(3653));

    // The chain file is the leaf, then the CA.
    std::vector<X509Ptr> chain = certificates(readAll(own->certFile));
    QCOMPARE(chain.size(), std::size_t(2));
    QCOMPARE(X509_cmp(chain[1].get(), ca.get()), 0);
    X509 *leaf = chain[0].get();
    QCOMPARE(X509_check_ca(leaf), 0);
    QCOMPARE(X509_get_key_usage(leaf), uint32_t(KU_DIGITAL_SIGNATURE));
    QCOMPARE(X509_get_extended_key_usage(leaf), uint32_t(XKU_SSL_SERVER));
    QCOMPARE(X509_get_signature_nid(leaf), NID_ecdsa_with_SHA256);
    QCOMPARE(EVP_PKEY_get_bits(X509_get0_pubkey(leaf)), 256);
    QVERIFY(EVP_PKEY_is_a(X509_get0_pubkey(leaf), "EC"));
    QVERIFY(notBefore(leaf).daysTo(notAfter(leaf)) <= 825); // Apple's limit
    QCOMPARE(notAfter(leaf), kNow.addDays(820));
    QCOMPARE(own->leafNotAfter, kNow.addDays(820));

    std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>> sans(static_cast<GENERAL_NAMES *>(
        X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
    QStringList names;
    for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(sans.get(), i);
        QCOMPARE(name->type, GEN_DNS);
        names.append(QString::fromLatin1(ASN1_STRING_get0_data(name->d.dNSName)));
    }
    QCOMPARE(names, kNames);
    for (const QString &name : kNames)
        QCOMPARE(verify(readAll(own->certFile), readAll(own->caFile), name, kNow), X509_V_OK);
}

void TestOwnCertificate::keepsWhatIsValid()
{
    Made made;
    QVERIFY2(made.own, qPrintable(made.error));
    QString &error = made.error;
    const QByteArray &leaf = made.leaf;
    const QByteArray &ca = made.ca;
    // A key someone made readable by others is made private again, and kept.
    const QString caKey = made.temp.filePath(QStringLiteral("xbnc-ca-key.pem"));
    QVERIFY(
        QFile::setPermissions(caKey, kOwnerOnly | QFileDevice::ReadGroup | QFileDevice::ReadOther));
    // The day before the renewal point: nothing changes.
    const auto again = ensure(made.temp.path(), kNames, kNow.addDays(820 - 31), &error);
    QVERIFY2(again, qPrintable(error));
    QCOMPARE(again->action, OwnCertificateAction::Keep);
    QCOMPARE(readAll(again->certFile), leaf);
    QCOMPARE(readAll(again->caFile), ca);
    QCOMPARE(QFile::permissions(caKey) & 0x0077, QFileDevice::Permissions());
}

void TestOwnCertificate::renewsLeafButNotCa()
{
    Made made;
    QVERIFY2(made.own, qPrintable(made.error));
    QString &error = made.error;
    const QByteArray &leaf = made.leaf;
    const QByteArray &ca = made.ca;
    const QByteArray caKey = readAll(made.temp.filePath(QStringLiteral("xbnc-ca-key.pem")));

    // Within 30 days of the leaf's end: a new leaf from the same CA, so no device notices.
    const QDateTime later = kNow.addDays(820 - 29);
    const auto renewed = ensure(made.temp.path(), kNames, later, &error);
    QVERIFY2(renewed, qPrintable(error));
    QCOMPARE(renewed->action, OwnCertificateAction::NewLeaf);
    QVERIFY(readAll(renewed->certFile) != leaf);
    QCOMPARE(readAll(renewed->caFile), ca);
    QCOMPARE(readAll(made.temp.filePath(QStringLiteral("xbnc-ca-key.pem"))), caKey);
    QCOMPARE(renewed->leafNotAfter, later.addDays(820));
    QCOMPARE(verify(readAll(renewed->certFile), ca, kDomain, later), X509_V_OK);
    // The old leaf would no longer do by then (it expires), the new one does.
    QCOMPARE(verify(leaf, ca, kDomain, kNow.addDays(821)), X509_V_ERR_CERT_HAS_EXPIRED);
    QCOMPARE(verify(readAll(renewed->certFile), ca, kDomain, kNow.addDays(821)), X509_V_OK);
}

void TestOwnCertificate::newCaWhenNamesGrow()
{
    Made made;
    QVERIFY2(made.own, qPrintable(made.error));
    QString &error = made.error;
    const QByteArray &ca = made.ca;

    const QStringList more = kNames + QStringList{QStringLiteral("new.example.com")};
    const auto grown = ensure(made.temp.path(), more, kNow, &error);
    QVERIFY2(grown, qPrintable(error));
    QCOMPARE(grown->action, OwnCertificateAction::NewCa);
    QVERIFY(grown->replacedCa);
    QVERIFY(readAll(grown->caFile) != ca);
    QCOMPARE(verify(readAll(grown->certFile), readAll(grown->caFile),
                    QStringLiteral("new.example.com"), kNow),
             X509_V_OK);
    // The old CA does not vouch for the new leaf.
    QVERIFY(verify(readAll(grown->certFile), ca, kDomain, kNow) != X509_V_OK);

    // Another account's domain is a change of names too.
    const auto moved = ensure(made.temp.path(), {QStringLiteral("example.com")}, kNow, &error);
    QVERIFY2(moved, qPrintable(error));
    QCOMPARE(moved->action, OwnCertificateAction::NewCa);
}

void TestOwnCertificate::droppedHostNameKeepsCa()
{
    Made made;
    QVERIFY2(made.own, qPrintable(made.error));
    QString &error = made.error;
    const QByteArray &ca = made.ca;
    const auto fewer = ensure(made.temp.path(), {kDomain}, kNow, &error);
    QVERIFY2(fewer, qPrintable(error));
    QCOMPARE(fewer->action, OwnCertificateAction::NewLeaf);
    QCOMPARE(readAll(fewer->caFile), ca);
    QCOMPARE(verify(readAll(fewer->certFile), ca, kDomain, kNow), X509_V_OK);
    QCOMPARE(verify(readAll(fewer->certFile), ca, kNames.at(1), kNow),
             X509_V_ERR_HOSTNAME_MISMATCH);
}

void TestOwnCertificate::nameConstraintsRefuseOtherDomains()
{
    QTemporaryDir temp;
    QString error;
    const auto own = ensure(temp.path(), kNames, kNow, &error);
    QVERIFY2(own, qPrintable(error));
    const PemPair ca{readAll(own->caFile),
                     readAll(temp.filePath(QStringLiteral("xbnc-ca-key.pem")))};

    // Whoever holds the CA's key still cannot make a certificate that a device trusting the
    // CA accepts for someone else's domain: OpenSSL refuses it on the name constraints.
    for (const QString &other : {QStringLiteral("evil.example"), QStringLiteral("example.org.evil"),
                                 QStringLiteral("notexample.org")}) {
        const auto forged =
            signServerCertificate(ca, {other}, kNow.addSecs(-60), kNow.addDays(10), &error);
        QVERIFY2(forged, qPrintable(error));
        QCOMPARE(verify(forged->cert, ca.cert, other, kNow), X509_V_ERR_PERMITTED_VIOLATION);
    }
    // One bad name among good ones spoils the whole certificate.
    const auto mixed = signServerCertificate(ca, {kDomain, QStringLiteral("bank.example")},
                                             kNow.addSecs(-60), kNow.addDays(10), &error);
    QVERIFY2(mixed, qPrintable(error));
    QCOMPARE(verify(mixed->cert, ca.cert, kDomain, kNow), X509_V_ERR_PERMITTED_VIOLATION);
    // A subdomain is inside the permitted subtree (RFC 5280 §4.2.1.10), as documented.
    const auto sub = signServerCertificate(ca, {QStringLiteral("chat.example.org")},
                                           kNow.addSecs(-60), kNow.addDays(10), &error);
    QVERIFY2(sub, qPrintable(error));
    QCOMPARE(verify(sub->cert, ca.cert, QStringLiteral("chat.example.org"), kNow), X509_V_OK);
    // And the real leaf does not pass for a name it does not carry.
    QCOMPARE(verify(readAll(own->certFile), ca.cert, QStringLiteral("evil.example"), kNow),
             X509_V_ERR_HOSTNAME_MISMATCH);
}

void TestOwnCertificate::leavesOldSelfSignedFiles()
{
    // A data_dir from before the own CA holds xbnc-cert.pem and xbnc-key.pem: the new files
    // are made beside them, which stay as they were.
    QTemporaryDir temp;
    for (const char *name : {"xbnc-cert.pem", "xbnc-key.pem"}) {
        QFile file(temp.filePath(QLatin1String(name)));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("old\n");
    }
    QString error;
    const auto own = ensure(temp.path(), kNames, kNow, &error);
    QVERIFY2(own, qPrintable(error));
    QCOMPARE(own->action, OwnCertificateAction::NewCa);
    QVERIFY(!own->replacedCa);
    QCOMPARE(readAll(temp.filePath(QStringLiteral("xbnc-cert.pem"))), QByteArray("old\n"));
    QCOMPARE(own->certFile, temp.filePath(QStringLiteral("xbnc-leaf.pem")));
}

void TestOwnCertificate::replacesBrokenFiles_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<OwnCertificateAction>("action");
    QTest::newRow("CA key garbage")
        << "xbnc-ca-key.pem" << QByteArray("junk") << OwnCertificateAction::NewCa;
    QTest::newRow("CA empty") << "xbnc-ca.pem" << QByteArray() << OwnCertificateAction::NewCa;
    QTest::newRow("leaf key garbage")
        << "xbnc-leaf-key.pem" << QByteArray("junk") << OwnCertificateAction::NewLeaf;
    QTest::newRow("leaf missing") << "xbnc-leaf.pem" << QByteArray()
                                  << OwnCertificateAction::NewLeaf;
}

void TestOwnCertificate::replacesBrokenFiles()
{
    QFETCH(QString, file);
    QFETCH(QByteArray, content);
    QFETCH(OwnCertificateAction, action);
    QTemporaryDir temp;
    QString error;
    QVERIFY2(ensure(temp.path(), kNames, kNow, &error), qPrintable(error));
    QFile broken(temp.filePath(file));
    QVERIFY(broken.open(QIODevice::WriteOnly | QIODevice::Truncate));
    broken.write(content);
    broken.close();
    const auto own = ensure(temp.path(), kNames, kNow, &error);
    QVERIFY2(own, qPrintable(error));
    QCOMPARE(own->action, action);
    QCOMPARE(verify(readAll(own->certFile), readAll(own->caFile), kDomain, kNow), X509_V_OK);
}

void TestOwnCertificate::refusesBadInput()
{
    QTemporaryDir temp;
    QString error;
    QVERIFY(!ensure(temp.path(), {}, kNow, &error));
    QVERIFY(!error.isEmpty());
    for (const QString &bad : {QStringLiteral("a,DNS:evil.example"), QStringLiteral("127.0.0.1"),
                               QStringLiteral("Example.org"), QString()}) {
        error.clear();
        QVERIFY2(!ensure(temp.path(), {bad}, kNow, &error), qPrintable(bad));
        QVERIFY(error.contains(u"not a valid DNS name"));
    }
    QVERIFY(QDir(temp.path()).entryList(QDir::Files).isEmpty()); // nothing written
    QFile file(temp.filePath(QStringLiteral("file")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.close();
    QVERIFY(!ensure(file.fileName() + QStringLiteral("/data"), kNames, kNow, &error));
    QVERIFY(error.contains(u"cannot create data directory"));
}

void TestOwnCertificate::plan_data()
{
    QTest::addColumn<std::optional<CaFacts>>("ca");
    QTest::addColumn<std::optional<LeafFacts>>("leaf");
    QTest::addColumn<QStringList>("names");
    QTest::addColumn<OwnCertificateAction>("action");
    const QStringList names{kDomain, QStringLiteral("bnc.example.net")};
    const CaFacts ca{names, kNow.addYears(9)};
    const LeafFacts leaf{names, kNow.addDays(-10), kNow.addDays(300)};
    using A = OwnCertificateAction;
    QTest::newRow("nothing") << std::optional<CaFacts>() << std::optional<LeafFacts>() << names
                             << A::NewCa;
    QTest::newRow("valid") << std::optional(ca) << std::optional(leaf) << names << A::Keep;
    QTest::newRow("no leaf") << std::optional(ca) << std::optional<LeafFacts>() << names
                             << A::NewLeaf;
    QTest::newRow("leaf ends in 30 days")
        << std::optional(ca) << std::optional(LeafFacts{names, kNow, kNow.addDays(30)}) << names
        << A::NewLeaf;
    QTest::newRow("leaf ends in 31 days")
        << std::optional(ca) << std::optional(LeafFacts{names, kNow, kNow.addDays(31)}) << names
        << A::Keep;
    QTest::newRow("leaf from the future")
        << std::optional(ca) << std::optional(LeafFacts{names, kNow.addDays(2), kNow.addDays(300)})
        << names << A::NewLeaf;
    QTest::newRow("leaf names in another order")
        << std::optional(ca)
        << std::optional(LeafFacts{{names[1], names[0]}, kNow, kNow.addDays(300)}) << names
        << A::Keep;
    QTest::newRow("host name dropped")
        << std::optional(ca) << std::optional(leaf) << QStringList{kDomain} << A::NewLeaf;
    QTest::newRow("host name added")
        << std::optional(ca) << std::optional(leaf)
        << (names + QStringList{QStringLiteral("other.example")}) << A::NewCa;
    QTest::newRow("subdomain of a permitted name")
        << std::optional(ca) << std::optional(leaf)
        << (names + QStringList{QStringLiteral("chat.example.org")}) << A::NewLeaf;
    QTest::newRow("CA ends in 30 days") << std::optional(CaFacts{names, kNow.addDays(30)})
                                        << std::optional(leaf) << names << A::NewCa;
}

void TestOwnCertificate::plan()
{
    QFETCH(std::optional<CaFacts>, ca);
    QFETCH(std::optional<LeafFacts>, leaf);
    QFETCH(QStringList, names);
    QFETCH(OwnCertificateAction, action);
    QCOMPARE(planOwnCertificate(ca, leaf, names, kNow), action);
}

QTEST_GUILESS_MAIN(TestOwnCertificate)
#include "tst_own_certificate.moc"
