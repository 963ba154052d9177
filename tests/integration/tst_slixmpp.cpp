// Real-client scenarios: each script in tests/scenarios/ drives slixmpp sessions (phone,
// laptop) through xbnc and a contact (bob) straight on Prosody, and exits non-zero with a
// message when something a user would notice went wrong.
#include "prosody_fixture.h"
#include "roster_setup.h"
#include "wait.h"
#include "xbnc_process.h"

#include <QProcess>
#include <QtTest>

namespace {

const QString alicePassword = QStringLiteral("alice-pw");
const QString bobPassword = QStringLiteral("bob-pw");
// The script has its own 30 s deadline; this one only catches a hung interpreter.
constexpr int scriptTimeoutMs = 45000;

} // namespace

class TestSlixmpp : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void scenario_data();
    void scenario();
    void cleanupTestCase();

private:
    ProsodyFixture prosody_;
    XbncProcess xbnc_;
};

void TestSlixmpp::initTestCase()
{
    if (!QFile::exists(QStringLiteral("/usr/bin/python3")))
        QSKIP("no /usr/bin/python3");
    QString error;
    QVERIFY2(prosody_.start(&error), qPrintable(error));
    QVERIFY2(makeContacts(prosody_, QStringLiteral("alice"), alicePassword, QStringLiteral("bob"),
                          bobPassword, &error),
             qPrintable(error));
    QVERIFY2(xbnc_.start(xbnc_.configFor(prosody_, QStringLiteral("alice"), alicePassword), &error),
             qPrintable(error));
    QVERIFY2(xbnc_.waitForLog(QStringLiteral("upstream online as alice@localhost/xbnc")) >= 0,
             qPrintable(xbnc_.output()));
}

void TestSlixmpp::scenario_data()
{
    QTest::addColumn<QString>("script");
    QTest::newRow("two_sessions_fanout") << QStringLiteral("two_sessions_fanout.py");
    QTest::newRow("roster_retrieval") << QStringLiteral("roster_retrieval.py");
    QTest::newRow("scram_sha256_login") << QStringLiteral("scram_sha256_login.py");
    QTest::newRow("bound_jid_answers") << QStringLiteral("bound_jid_answers.py");
}

void TestSlixmpp::scenario()
{
    QFETCH(QString, script);
    QProcess python;
    python.setProcessChannelMode(QProcess::MergedChannels);
    QByteArray output;
    QObject::connect(&python, &QProcess::readyRead, &python, [&] { output += python.readAll(); });
    python.start(QStringLiteral("/usr/bin/python3"),
                 {QStringLiteral(XBNC_SCENARIO_DIR "/") + script, QStringLiteral("--host"),
                  QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                  QString::number(xbnc_.port()), QStringLiteral("--fingerprint"),
                  xbnc_.fingerprint(), QStringLiteral("--jid"), QStringLiteral("alice@localhost"),
                  QStringLiteral("--password"), alicePassword, QStringLiteral("--bob-jid"),
                  QStringLiteral("bob@localhost"), QStringLiteral("--bob-password"), bobPassword,
                  QStringLiteral("--prosody-port"), QString::number(prosody_.c2sPort()),
                  QStringLiteral("--prosody-ca"), prosody_.caCertificatePath()});
    QVERIFY2(python.waitForStarted(), qPrintable(python.errorString()));
    if (python.state() != QProcess::NotRunning &&
        !waitForSignal(&python, &QProcess::finished, QDeadlineTimer(scriptTimeoutMs))) {
        python.kill();
        python.waitForFinished();
        QFAIL(qPrintable(
            QStringLiteral("%1 hung; output:\n%2").arg(script, QString::fromUtf8(output))));
    }
    output += python.readAll();
    const bool passed = python.exitStatus() == QProcess::NormalExit && python.exitCode() == 0;
    if (!passed)
        qInfo().noquote() << "--- xbnc output ---\n" << xbnc_.output();
    QVERIFY2(passed, qPrintable(QString::fromUtf8(output)));
    QVERIFY2(xbnc_.isRunning(), qPrintable(xbnc_.output()));
}

void TestSlixmpp::cleanupTestCase()
{
    QString error;
    QVERIFY2(xbnc_.stop(&error), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestSlixmpp)
#include "tst_slixmpp.moc"
