// The command line as a user meets it: --help, --version, --check-config, --export-ca, and what
// a bad configuration looks like. Runs the real binary; needs no server.
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>

namespace {

struct Run
{
    int exitCode = -1;
    QString out;
    QString err;
};

Run runXbnc(const QStringList &arguments)
{
    QProcess process;
    process.start(QStringLiteral(XBNC_BINARY), arguments);
    Run run;
    if (!process.waitForFinished(10000)) {
        process.kill();
        process.waitForFinished();
        run.err = QStringLiteral("timed out");
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

QString writeFile(const QTemporaryDir &dir, const QByteArray &text)
{
    const QString path = dir.filePath(QStringLiteral("xbnc.ini"));
    QFile file(path);
    file.open(QIODevice::WriteOnly | QIODevice::Truncate);
    file.write(text);
    return path;
}

// One plist value (Apple's DTD): dict as QVariantMap, array as QVariantList, data decoded into
// QByteArray, every other type as its text. Reads from the value's start element.
QVariant plistValue(QXmlStreamReader &xml)
{
    const QString type = xml.name().toString();
    if (type == u"dict") {
        QVariantMap map;
        while (xml.readNextStartElement()) {
            const QString key = xml.readElementText();
            if (!xml.readNextStartElement())
                return {};
            map.insert(key, plistValue(xml));
        }
        return map;
    }
    if (type == u"array") {
        QVariantList list;
        while (xml.readNextStartElement())
            list.append(plistValue(xml));
        return list;
    }
    if (type == u"true" || type == u"false") {
        xml.skipCurrentElement();
        return type == u"true";
    }
    const QString text = xml.readElementText();
    return type == u"data" ? QVariant(QByteArray::fromBase64(text.toLatin1())) : QVariant(text);
}

// The top-level dict of a plist file, or an empty map if it is not one.
QVariantMap readPlist(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QXmlStreamReader xml(&file);
    if (!xml.readNextStartElement() || xml.name() != u"plist" || !xml.readNextStartElement())
        return {};
    const QVariantMap map = plistValue(xml).toMap();
    return xml.hasError() ? QVariantMap() : map;
}

// Owner-only, so that xbnc does not warn about the password in it.
QString writeExportConfig(const QTemporaryDir &dir, const QByteArray &extra = {})
{
    const QString path =
        writeFile(dir, "[upstream]\njid=alice@example.org\npassword=pw\n"
                       "[listener]\nhostnames=bnc.example.net\n" +
                           extra + "[storage]\ndata_dir=" +
                           QFile::encodeName(dir.filePath(QStringLiteral("data"))) + "\n");
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
    return path;
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void version()
    {
        const Run run = runXbnc({QStringLiteral("--version")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out.trimmed(), QStringLiteral("xbnc " XBNC_VERSION));
    }

    void help()
    {
        const Run run = runXbnc({QStringLiteral("--help")});
        QCOMPARE(run.exitCode, 0);
        for (const char *option :
             {"--config", "--check-config", "--export-ca", "--version", "--help"})
            QVERIFY2(run.out.contains(QLatin1String(option)), option);
    }

    void checkConfig_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::newRow("valid") << QByteArray("[upstream]\njid=alice@example.org\npassword=pw\n")
                               << 0 << "configuration OK";
        QTest::newRow("bad port") << QByteArray("[upstream]\njid=alice@example.org\npassword=pw\n"
                                                "[listener]\nport=http\n")
                                  << 2 << "xbnc: [listener] port: not a port number: \"http\"\n";
        QTest::newRow("typo") << QByteArray("[upstream]\njid=alice@example.org\npasswd=pw\n") << 2
                              << "xbnc: [upstream] passwd: unknown key\n";
        QTest::newRow("secret stays secret")
            << QByteArray("[upstream]\npassword=hunter2\njid=nope\n") << 2
            << "xbnc: [upstream] jid: not a bare JID like alice@example.org: \"nope\"\n";
    }
    void checkConfig()
    {
        QFETCH(QByteArray, text);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        QTemporaryDir dir;
        const Run run = runXbnc({QStringLiteral("--check-config"), writeFile(dir, text)});
        QCOMPARE(run.exitCode, exitCode);
        if (exitCode == 0)
            QVERIFY2(run.out.contains(message), qPrintable(run.out));
        else
            QCOMPARE(run.err, message); // exactly one line
        QVERIFY(!run.out.contains(u"hunter2") && !run.err.contains(u"hunter2"));
    }

    // The INI file holds the password: --check-config says so when others may read it.
    void checkConfigWarnsAboutAFileOthersCanRead()
    {
        QTemporaryDir dir;
        const QString path = writeFile(dir, "[upstream]\njid=alice@example.org\npassword=pw\n");
        QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner |
                                                QFile::ReadGroup | QFile::ReadOther));
        Run run = runXbnc({QStringLiteral("--check-config"), path});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.err, QStringLiteral("xbnc: warning: %1 holds the account password and is "
                                         "readable by group or others; run: chmod 600 %1\n")
                              .arg(path));
        QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner));
        run = runXbnc({QStringLiteral("--check-config"), path});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.err, QString());
    }

    void runningWithABadConfigExitsWithCode2()
    {
        QTemporaryDir dir;
        const Run run = runXbnc(
            {QStringLiteral("--config"), writeFile(dir, "[upstream]\njid=alice@example.org\n")});
        QCOMPARE(run.exitCode, 2);
        QCOMPARE(run.err, QStringLiteral("xbnc: [upstream] password: missing\n"));
    }

    void missingConfigFile()
    {
        const Run run = runXbnc({QStringLiteral("--config"), QStringLiteral("/nonexistent/x.ini")});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.startsWith(u"xbnc: /nonexistent/x.ini: "), qPrintable(run.err));
        QCOMPARE(run.err.count(u'\n'), 1);
    }

    // What a user copies to a device: the CA in PEM, and the profile iOS and macOS install.
    void exportCa()
    {
        QTemporaryDir dir;
        const QString config = writeExportConfig(dir);
        const QString pem = dir.filePath(QStringLiteral("ca.pem"));
        const Run run =
            runXbnc({QStringLiteral("--config"), config, QStringLiteral("--export-ca"), pem});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.err, QString());
        const QString profile = dir.filePath(QStringLiteral("ca.mobileconfig"));
        QVERIFY2(run.out.startsWith(QStringLiteral("wrote xbnc's CA to %1 and the iOS/macOS "
                                                   "profile to %2\nCA SHA-256 fingerprint: ")
                                        .arg(pem, profile)),
                 qPrintable(run.out));

        const QList<QSslCertificate> exported = QSslCertificate::fromPath(pem);
        QCOMPARE(exported.size(), 1);
        // The very CA xbnc signs its certificate with, as it made it in data_dir.
        QCOMPARE(
            exported.first(),
            QSslCertificate::fromPath(dir.filePath(QStringLiteral("data/xbnc-ca.pem"))).value(0));
        QVERIFY(run.out.contains(QString::fromLatin1(
            exported.first().digest(QCryptographicHash::Sha256).toHex(':').toUpper())));
        // Nothing secret in it: readable by all, unlike the files in data_dir.
        QCOMPARE(QFileInfo(pem).permissions() & QFileDevice::ReadOther, QFileDevice::ReadOther);

        const QVariantMap plist = readPlist(profile);
        QCOMPARE(plist.value(QStringLiteral("PayloadType")).toString(), u"Configuration");
        QCOMPARE(plist.value(QStringLiteral("PayloadVersion")).toString(), u"1");
        const QRegularExpression uuid(
            QStringLiteral("^[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}$"));
        QVERIFY(uuid.match(plist.value(QStringLiteral("PayloadUUID")).toString()).hasMatch());
        const QVariantList payloads = plist.value(QStringLiteral("PayloadContent")).toList();
        QCOMPARE(payloads.size(), 1);
        const QVariantMap root = payloads.first().toMap();
        QCOMPARE(root.value(QStringLiteral("PayloadType")).toString(), u"com.apple.security.root");
        QCOMPARE(root.value(QStringLiteral("PayloadContent")).toByteArray(),
                 exported.first().toDer());
        QVERIFY(uuid.match(root.value(QStringLiteral("PayloadUUID")).toString()).hasMatch());
        QVERIFY(root.value(QStringLiteral("PayloadUUID")) !=
                plist.value(QStringLiteral("PayloadUUID")));

        // Exported again (any name, this one without a suffix): the same CA, the same profile,
        // UUIDs included, so a device does not see a second one.
        const QString again = dir.filePath(QStringLiteral("again"));
        QCOMPARE(runXbnc({QStringLiteral("--config"), config, QStringLiteral("--export-ca"), again})
                     .exitCode,
                 0);
        QCOMPARE(QSslCertificate::fromPath(again).value(0), exported.first());
        QFile first(profile), second(again + QStringLiteral(".mobileconfig"));
        QVERIFY(first.open(QIODevice::ReadOnly) && second.open(QIODevice::ReadOnly));
        QCOMPARE(second.readAll(), first.readAll());
    }

    void exportCaErrors_data()
    {
        QTest::addColumn<QByteArray>("extra");
        QTest::addColumn<QString>("out");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::newRow("no file") << QByteArray() << QString() << 2
                                 << "xbnc: Missing value after '--export-ca'. (see --help)\n";
        QTest::newRow("own certificate configured")
            << QByteArray("cert=/etc/hostname\nkey=/etc/hostname\n") << "ca.pem" << 2
            << "xbnc: [listener] cert is set, so xbnc serves that certificate and no CA of its "
               "own: there is nothing to export\n";
        QTest::newRow("bad config") << QByteArray("hostnames=a,b c\n") << "ca.pem" << 2
                                    << "xbnc: [listener] hostnames: not a DNS host name: \"b c\"\n";
        QTest::newRow("no such directory")
            << QByteArray() << "missing/ca.pem" << 1 << "xbnc: cannot export the CA: cannot write ";
    }
    void exportCaErrors()
    {
        QFETCH(QByteArray, extra);
        QFETCH(QString, out);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        QTemporaryDir dir;
        QStringList arguments{QStringLiteral("--config"), writeExportConfig(dir, extra),
                              QStringLiteral("--export-ca")};
        if (!out.isEmpty())
            arguments.append(dir.filePath(out));
        const Run run = runXbnc(arguments);
        QCOMPARE(run.exitCode, exitCode);
        QVERIFY2(run.err.startsWith(message), qPrintable(run.err));
        QCOMPARE(run.err.count(u'\n'), 1);
        QCOMPARE(run.out, QString());
    }

    void unexpectedArgument()
    {
        const Run run = runXbnc({QStringLiteral("extra")});
        QCOMPARE(run.exitCode, 2);
        QCOMPARE(run.err, QStringLiteral("xbnc: unexpected argument extra (see --help)\n"));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
