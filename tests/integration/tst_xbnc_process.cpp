// The harness side of the sanitized CI run: XbncProcess must fail a test when the xbnc it ran
// printed a sanitizer report, even when xbnc then exited 0. A stub script stands in for a
// sanitized xbnc so that this runs (and proves itself) in every build.
#include "xbnc_process.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

namespace {

const QByteArray fingerprint =
    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
    "EE:FF";

// Prints what XbncProcess::start() waits for, then `whileRunning`; on SIGTERM prints `atExit`
// and exits 0, as a sanitized xbnc does with exitcode=0 or with a recoverable UBSan report.
// The trap comes first: start() returns, and the test may stop it, as soon as it has printed.
QByteArray stubScript(const QByteArray &whileRunning, const QByteArray &atExit)
{
    return "#!/bin/sh\n"
           "pid=''\n"
           "trap '[ -n \"$pid\" ] && kill $pid; printf \"%s\" \"" +
           atExit +
           "\"; exit 0' TERM\n"
           "echo 'xbnc: listening for clients on 127.0.0.1 port 5999'\n"
           "echo 'xbnc: certificate SHA-256 fingerprint: " +
           fingerprint + "'\n" + "printf '%s' '" + whileRunning + "'\n" +
           "while :; do sleep 60 & pid=$!; wait $pid; done\n";
}

} // namespace

class TestXbncProcess : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void stopFailsOnASanitizerReport_data();
    void stopFailsOnASanitizerReport();
    void cleanup() { qunsetenv("XBNC_TEST_BINARY"); }
};

void TestXbncProcess::stopFailsOnASanitizerReport_data()
{
    QTest::addColumn<QByteArray>("whileRunning");
    QTest::addColumn<QByteArray>("atExit");
    QTest::addColumn<QString>("expected"); // in stop()'s error; empty: stop() succeeds

    QTest::newRow("clean run") << QByteArray("xbnc: upstream online\n")
                               << QByteArray("xbnc: stopped\n") << QString();
    QTest::newRow("leak report at exit")
        << QByteArray()
        << QByteArray("\n=================================================================\n"
                      "==4242==ERROR: LeakSanitizer: detected memory leaks\n"
                      "Direct leak of 24 byte(s) in 1 object(s) allocated from:\n")
        << QStringLiteral("ERROR: LeakSanitizer: detected memory leaks");
    QTest::newRow("undefined behaviour while running")
        << QByteArray("clientlistener/downstream.cpp:12:7: runtime error: signed integer "
                      "overflow: 2147483647 + 1 cannot be represented in type int\n")
        << QByteArray() << QStringLiteral("downstream.cpp:12:7: runtime error: signed integer");
    QTest::newRow("address error")
        << QByteArray("==4242==ERROR: AddressSanitizer: heap-use-after-free on address "
                      "0x602000000010\n")
        << QByteArray() << QStringLiteral("ERROR: AddressSanitizer: heap-use-after-free");
}

void TestXbncProcess::stopFailsOnASanitizerReport()
{
    QFETCH(QByteArray, whileRunning);
    QFETCH(QByteArray, atExit);
    QFETCH(QString, expected);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile stub(dir.filePath(QStringLiteral("xbnc-stub")));
    QVERIFY(stub.open(QIODevice::WriteOnly));
    stub.write(stubScript(whileRunning, atExit));
    stub.close();
    QVERIFY(stub.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
    qputenv("XBNC_TEST_BINARY", stub.fileName().toLocal8Bit());

    XbncProcess xbnc;
    QString error;
    QVERIFY2(xbnc.start({{QStringLiteral("listener/port"), QStringLiteral("0")}}, &error),
             qPrintable(error));
    if (!whileRunning.isEmpty())
        QVERIFY(xbnc.waitForLog(QString::fromUtf8(whileRunning.trimmed())) >= 0);
    const bool stopped = xbnc.stop(&error);
    if (expected.isEmpty()) {
        QVERIFY2(stopped, qPrintable(error));
    } else {
        QVERIFY2(!stopped, "stop() passed over a sanitizer report");
        QVERIFY2(error.contains(u"sanitizer report"), qPrintable(error));
        QVERIFY2(error.contains(expected), qPrintable(error));
    }
}

QTEST_GUILESS_MAIN(TestXbncProcess)
#include "tst_xbnc_process.moc"
