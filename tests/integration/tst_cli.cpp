// The command line as a user meets it: --help, --version, --check-config, and what a bad
// configuration looks like. Runs the real binary; needs no server.
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

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
        for (const char *option : {"--config", "--check-config", "--version", "--help"})
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

    void unexpectedArgument()
    {
        const Run run = runXbnc({QStringLiteral("extra")});
        QCOMPARE(run.exitCode, 2);
        QCOMPARE(run.err, QStringLiteral("xbnc: unexpected argument extra (see --help)\n"));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
