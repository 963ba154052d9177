// What xbnc leaves on disk and how it treats its data_dir (issue #8 §4): the real binary in a
// temporary directory, with a silent loopback server standing in for upstream (no XMPP needed).
#include "xbnc_process.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTcpServer>
#include <QTest>

#include <csignal>

#include <sys/stat.h>

namespace {

const QString configWarning = QStringLiteral("holds the account password and is readable by");

int modeOf(const QString &path)
{
    struct stat st
    {
    };
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 07777);
}

void writeAll(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(file.write(bytes), bytes.size());
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// Sets the test process's umask for as long as it lives: XbncProcess writes the INI file (with
// the account password) under it.
class Umask
{
public:
    explicit Umask(mode_t mask) : previous_(::umask(mask)) {}
    ~Umask() { ::umask(previous_); }
    Umask(const Umask &) = delete;
    Umask &operator=(const Umask &) = delete;

private:
    mode_t previous_;
};

} // namespace

class TestOnDisk : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();

    void everyFileIsOwnerOnly();
    void ownerOnlyConfigGivesNoWarning();
    void secondInstanceOnTheSameDataDirIsRefused();
    void lockOfAKilledXbncIsTakenOver();
    void corruptDatabaseIsMovedAsideAndXbncStarts();

private:
    XbncProcess::Config config(const QString &dataDir) const;

    QTcpServer upstream_; // accepts and stays silent: xbnc waits for a stream that never comes
    QTemporaryDir dir_;
    QString dataDir_;
};

void TestOnDisk::initTestCase()
{
    QVERIFY(upstream_.listen(QHostAddress::LocalHost, 0));
    QVERIFY(dir_.isValid());
}

void TestOnDisk::init()
{
    static int n = 0;
    dataDir_ = dir_.filePath(QStringLiteral("data%1").arg(++n));
}

XbncProcess::Config TestOnDisk::config(const QString &dataDir) const
{
    return {
        {QStringLiteral("upstream/jid"), QStringLiteral("alice@localhost")},
        {QStringLiteral("upstream/password"), QStringLiteral("alice-pw")},
        {QStringLiteral("upstream/server"), QStringLiteral("127.0.0.1")},
        {QStringLiteral("upstream/port"), QString::number(upstream_.serverPort())},
        {QStringLiteral("listener/address"), QStringLiteral("127.0.0.1")},
        {QStringLiteral("listener/port"), QStringLiteral("0")},
        {QStringLiteral("storage/data_dir"), dataDir},
    };
}

// xbnc sets its own umask: the test's usual 022 must not leak into what xbnc creates.
void TestOnDisk::everyFileIsOwnerOnly()
{
    const Umask usual(022);
    XbncProcess xbnc;
    // A config as an editor leaves it under 022 (the harness writes its own owner-only).
    const QString ini = xbnc.directory() + QStringLiteral("/xbnc.ini");
    QFile loose(ini);
    QVERIFY(loose.open(QIODevice::WriteOnly));
    loose.close();
    QCOMPARE(modeOf(ini), 0644);
    QString error;
    QVERIFY2(xbnc.start(config(dataDir_), &error), qPrintable(error));
    const QDir data(dataDir_);
    QCOMPARE(modeOf(dataDir_), 0700);
    for (const char *name :
         {"xbnc.sqlite", "xbnc.sqlite-wal", "xbnc.sqlite-shm", "xbnc-ca.pem", "xbnc-ca-key.pem",
          "xbnc-leaf.pem", "xbnc-leaf-key.pem", "xbnc.lock"}) {
        const QString path = data.filePath(QLatin1String(name));
        QVERIFY2(QFileInfo::exists(path), name);
        QVERIFY2(modeOf(path) == 0600,
                 qPrintable(QStringLiteral("%1 has mode %2").arg(path).arg(modeOf(path), 0, 8)));
    }
    // The warning names the file and the cure.
    QCOMPARE(modeOf(ini), 0644);
    QVERIFY2(xbnc.waitForLog(QStringLiteral("warning xbnc.main: %1 %2").arg(ini, configWarning)) >=
                 0,
             qPrintable(xbnc.output()));
    QVERIFY2(xbnc.output().contains(QStringLiteral("chmod 600 ") + ini), qPrintable(xbnc.output()));
    QVERIFY2(xbnc.stop(&error), qPrintable(error));
}

void TestOnDisk::ownerOnlyConfigGivesNoWarning()
{
    const Umask strict(077);
    XbncProcess xbnc;
    QString error;
    QVERIFY2(xbnc.start(config(dataDir_), &error), qPrintable(error));
    QCOMPARE(modeOf(xbnc.directory() + QStringLiteral("/xbnc.ini")), 0600);
    QVERIFY2(xbnc.stop(&error), qPrintable(error)); // all its output is in now
    QVERIFY2(!xbnc.output().contains(configWarning), qPrintable(xbnc.output()));
}

void TestOnDisk::secondInstanceOnTheSameDataDirIsRefused()
{
    XbncProcess first;
    QString error;
    QVERIFY2(first.start(config(dataDir_), &error), qPrintable(error));

    XbncProcess second;
    QVERIFY(!second.start(config(dataDir_), &error));
    QVERIFY(!second.isRunning());
    QVERIFY(!second.stop()); // exited on its own, with an error code
    QCOMPARE(second.exitCode(), 1);
    QVERIFY2(second.output().contains(
                 QStringLiteral("xbnc: data_dir %1 is in use by another xbnc (pid ").arg(dataDir_)),
             qPrintable(second.output()));

    // The first one never noticed, and the directory is free again once it stops.
    QVERIFY(first.isRunning());
    QVERIFY2(first.stop(&error), qPrintable(error));
    XbncProcess third;
    QVERIFY2(third.start(config(dataDir_), &error), qPrintable(error));
    QVERIFY2(third.stop(&error), qPrintable(error));
}

void TestOnDisk::lockOfAKilledXbncIsTakenOver()
{
    XbncProcess killed;
    QString error;
    QVERIFY2(killed.start(config(dataDir_), &error), qPrintable(error));
    QVERIFY(killed.sendSignal(SIGKILL));
    QVERIFY(!killed.stop()); // reaped; it left its lock file behind
    const QString lock = QDir(dataDir_).filePath(QStringLiteral("xbnc.lock"));
    QVERIFY(QFileInfo::exists(lock));
    // Whatever it says: here, that a live process on another host holds it, as a lock file from
    // the previous container of a service would (pid, program, host name). Only a held lock counts.
    writeAll(lock, QByteArray::number(QCoreApplication::applicationPid()) +
                       "\nxbnc\nan-earlier-container\n");

    XbncProcess next;
    QVERIFY2(next.start(config(dataDir_), &error), qPrintable(error));
    QVERIFY2(next.stop(&error), qPrintable(error));
}

void TestOnDisk::corruptDatabaseIsMovedAsideAndXbncStarts()
{
    QVERIFY(QDir().mkdir(dataDir_, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
    const QString database = QDir(dataDir_).filePath(QStringLiteral("xbnc.sqlite"));
    const QByteArray garbage = QByteArray("\x01\x02 not SQLite at all ", 21).repeated(300);
    writeAll(database, garbage);

    XbncProcess xbnc;
    QString error;
    QVERIFY2(xbnc.start(config(dataDir_), &error), qPrintable(error));
    QVERIFY2(
        xbnc.output().contains(
            QStringLiteral("error xbnc.store: the database %1 is damaged (not an SQLite file)")
                .arg(database)) &&
            xbnc.output().contains(QStringLiteral("moved it aside to %1.corrupt-").arg(database)),
        qPrintable(xbnc.output()));
    const QStringList aside =
        QDir(dataDir_).entryList({QStringLiteral("xbnc.sqlite.corrupt-*")}, QDir::Files);
    QCOMPARE(aside.size(), 1);
    QCOMPARE(readAll(QDir(dataDir_).filePath(aside.first())), garbage);
    QCOMPARE(modeOf(database), 0600);
    QVERIFY2(xbnc.stop(&error), qPrintable(error));

    // The fresh database is a real one: the next start finds nothing to move aside.
    XbncProcess again;
    QVERIFY2(again.start(config(dataDir_), &error), qPrintable(error));
    QVERIFY2(again.stop(&error), qPrintable(error));
    QVERIFY2(!again.output().contains(u"damaged"), qPrintable(again.output()));
    QCOMPARE(
        QDir(dataDir_).entryList({QStringLiteral("xbnc.sqlite.corrupt-*")}, QDir::Files).size(), 1);
}

QTEST_GUILESS_MAIN(TestOnDisk)
#include "tst_on_disk.moc"
