// Real-client scenarios: each script in tests/scenarios/ drives slixmpp sessions (phone,
// laptop) through xbnc and a contact (bob) straight on Prosody, and exits non-zero with a
// message when something a user would notice went wrong.
#include "bouncer_fixture.h"
#include "wait.h"

#include <QProcess>
#include <QtTest>

namespace {

// The script has its own 30 s deadline; this one only catches a hung interpreter.
constexpr int scriptTimeoutMs = 45000;
// What a script prints to have xbnc restarted (scenario.py's restart_xbnc).
constexpr QByteArrayView restartRequest = "xbnc-scenario: restart xbnc\n";

} // namespace

class TestSlixmpp : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void scenario_data();
    void scenario();
    void cleanup();
    void cleanupTestCase();

private:
    BouncerFixture fixture_;
};

void TestSlixmpp::initTestCase()
{
    if (!QFile::exists(QStringLiteral("/usr/bin/python3")))
        QSKIP("no /usr/bin/python3");
    QVERIFY2(fixture_.start({QStringLiteral("bob")}, BouncerFixture::Roster::OthersAreContacts),
             qPrintable(fixture_.errorString()));
}

void TestSlixmpp::scenario_data()
{
    QTest::addColumn<QString>("script");
    QTest::newRow("two_sessions_fanout") << QStringLiteral("two_sessions_fanout.py");
    QTest::newRow("roster_retrieval") << QStringLiteral("roster_retrieval.py");
    QTest::newRow("scram_sha256_login") << QStringLiteral("scram_sha256_login.py");
    QTest::newRow("bound_jid_answers") << QStringLiteral("bound_jid_answers.py");
    QTest::newRow("phone_resumes_after_drop") << QStringLiteral("phone_resumes_after_drop.py");
    // Restarts xbnc when the script asks (scenario.restart_xbnc): last.
    QTest::newRow("phone_resumes_after_restart")
        << QStringLiteral("phone_resumes_after_restart.py");
}

void TestSlixmpp::scenario()
{
    QFETCH(QString, script);
    const XbncProcess &xbnc = fixture_.xbnc();
    const ProsodyFixture &prosody = fixture_.prosody();
    QProcess python;
    python.setProcessChannelMode(QProcess::MergedChannels);
    QByteArray output;
    QObject::connect(&python, &QProcess::readyRead, &python, [&] { output += python.readAll(); });
    python.start(QStringLiteral("/usr/bin/python3"),
                 {QStringLiteral(XBNC_SCENARIO_DIR "/") + script, QStringLiteral("--host"),
                  QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                  QString::number(xbnc.port()), QStringLiteral("--fingerprint"), xbnc.fingerprint(),
                  QStringLiteral("--jid"), QStringLiteral("alice@localhost"),
                  QStringLiteral("--password"),
                  BouncerFixture::password(BouncerFixture::accountUser()),
                  QStringLiteral("--bob-jid"), QStringLiteral("bob@localhost"),
                  QStringLiteral("--bob-password"), BouncerFixture::password(QStringLiteral("bob")),
                  QStringLiteral("--prosody-port"), QString::number(prosody.c2sPort()),
                  QStringLiteral("--prosody-ca"), prosody.caCertificatePath()});
    QVERIFY2(python.waitForStarted(), qPrintable(python.errorString()));
    const QDeadlineTimer deadline(scriptTimeoutMs);
    if (waitUntil(
            [&] {
                return python.state() == QProcess::NotRunning || output.contains(restartRequest);
            },
            deadline) &&
        python.state() != QProcess::NotRunning) {
        // The script asked for an xbnc restart: it gets the new port on its stdin.
        const bool restarted = fixture_.stopXbnc() && fixture_.startXbnc();
        python.write(restarted ? QByteArray::number(fixture_.xbnc().port()) + '\n'
                               : QByteArrayLiteral("failed\n"));
        QVERIFY2(restarted, qPrintable(fixture_.errorString()));
    }
    if (python.state() != QProcess::NotRunning &&
        !waitForSignal(&python, &QProcess::finished, deadline)) {
        python.kill();
        python.waitForFinished();
        QFAIL(qPrintable(
            QStringLiteral("%1 hung; output:\n%2").arg(script, QString::fromUtf8(output))));
    }
    output += python.readAll();
    QVERIFY2(python.exitStatus() == QProcess::NormalExit && python.exitCode() == 0,
             qPrintable(QString::fromUtf8(output)));
}

void TestSlixmpp::cleanup()
{
    fixture_.finishTest();
}

void TestSlixmpp::cleanupTestCase()
{
    fixture_.stop();
}

QTEST_GUILESS_MAIN(TestSlixmpp)
#include "tst_slixmpp.moc"
