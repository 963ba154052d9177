// A full disk while xbnc runs (issue #8 §4.3): the database refuses every new page from the
// start (XBNC_TEST_STORE_MAX_PAGES), as a full file system would. xbnc says so in its log with
// SQLite's reason, keeps the stanza in memory, and delivers it: nothing is lost while it runs.
// alice is the bouncer's account, bob a contact logged in straight to Prosody.
#include "bouncer_fixture.h"
#include "muc_helpers.h"
#include "stanza_match.h"

#include <QtTest>

#include <algorithm>

namespace {

const QString online = QStringLiteral("upstream online as alice@localhost/xbnc");
const QString diskFull = QStringLiteral("database or disk is full");

// Larger than a database page, so it needs new pages however much room the tables have left.
QByteArray bigMessage(const QString &to, const QString &id)
{
    return QStringLiteral("<message to='%1' type='chat' id='%2'><body>%3</body></message>")
        .arg(to, id, QString(6000, u'z'))
        .toUtf8();
}

} // namespace

class TestDiskFull : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void offlineMessageThatCannotBeStoredIsDelivered();
    void roomMessageThatCannotBeLoggedIsReplayedFromMemory();
    void queuedStanzaThatCannotBeStoredGoesOutLater();

private:
    BouncerFixture fixture_;
};

void TestDiskFull::initTestCase()
{
    qputenv("XBNC_TEST_STORE_MAX_PAGES", "1"); // SQLite keeps it at the size after migrations
    QVERIFY2(fixture_.start({QStringLiteral("bob")}, BouncerFixture::Roster::OthersAreContacts),
             qPrintable(fixture_.errorString()));
}

void TestDiskFull::cleanup()
{
    fixture_.finishTest();
}

void TestDiskFull::cleanupTestCase()
{
    fixture_.stop();
}

void TestDiskFull::offlineMessageThatCannotBeStoredIsDelivered()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    const qsizetype mark = fixture_.xbnc().outputSize();
    bob->send(bigMessage(QStringLiteral("alice@localhost"), QStringLiteral("while-full")));
    QVERIFY2(fixture_.xbnc().waitForLog(
                 QStringLiteral("could not store an offline message; it waits in memory only "
                                "(lost if xbnc stops first): ") +
                     diskFull,
                 QDeadlineTimer(BouncerFixture::timeoutMs), mark) >= 0,
             qPrintable(fixture_.xbnc().output().mid(mark)));

    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    const auto message = phone->readUntil(match::message(QStringLiteral("while-full")));
    QVERIFY2(message, qPrintable(phone->errorString()));
    QCOMPARE(message->child(u"body")->text().size(), 6000);
}

void TestDiskFull::roomMessageThatCannotBeLoggedIsReplayedFromMemory()
{
    const QString room = QStringLiteral("full@conference.localhost");
    const QString body = QString(6000, u'r');
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    QString error;
    QVERIFY2(muc::createRoom(*bob, room, QStringLiteral("bob"), {}, &error), qPrintable(error));
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::join(*phone, room + QStringLiteral("/al"), &error), qPrintable(error));

    const qsizetype mark = fixture_.xbnc().outputSize();
    bob->send(muc::groupchat(room, QStringLiteral("big"), body));
    QVERIFY2(phone->readUntil(muc::groupchatWithBody(room, body)),
             qPrintable(phone->errorString()));
    QVERIFY2(fixture_.xbnc().waitForLog(
                 QStringLiteral("could not store 1 room messages; they stay in memory only: ") +
                     diskFull,
                 QDeadlineTimer(BouncerFixture::timeoutMs), mark) >= 0,
             qPrintable(fixture_.xbnc().output().mid(mark)));

    // A session joining now gets the message as history, from the room's log in memory.
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    const auto joined =
        muc::join(*laptop, room + QStringLiteral("/al"), &error, "<history maxstanzas='5'/>");
    QVERIFY2(joined, qPrintable(error));
    QVERIFY2(std::any_of(joined->begin(), joined->end(), muc::groupchatWithBody(room, body)),
             qPrintable(muc::describe(*joined)));
}

void TestDiskFull::queuedStanzaThatCannotBeStoredGoesOutLater()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    qsizetype mark = fixture_.xbnc().outputSize();
    fixture_.prosody().stop();
    QVERIFY2(fixture_.xbnc().waitForLog(QStringLiteral("upstream offline:"),
                                        QDeadlineTimer(BouncerFixture::timeoutMs), mark) >= 0,
             "xbnc never noticed that Prosody went away");
    phone->send(bigMessage(QStringLiteral("bob@localhost"), QStringLiteral("queued-while-full")));
    QVERIFY2(phone->roundTripWithinXbnc(), qPrintable(phone->errorString()));
    QVERIFY2(fixture_.xbnc().output().mid(mark).contains(
                 QStringLiteral("could not store a queued message; it waits in memory only (lost "
                                "if xbnc stops first; bounced to its sender if it expires): ") +
                 diskFull),
             qPrintable(fixture_.xbnc().output().mid(mark)));

    mark = fixture_.xbnc().outputSize();
    QString error;
    QVERIFY2(fixture_.prosody().start(&error), qPrintable(error));
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.xbnc().waitForLog(online, QDeadlineTimer(BouncerFixture::timeoutMs), mark) >=
                 0,
             "xbnc did not come back online after Prosody restarted");
    const auto message = bob->readUntil(match::message(QStringLiteral("queued-while-full")));
    QVERIFY2(message, qPrintable(bob->errorString()));
    QCOMPARE(message->child(u"body")->text().size(), 6000);
    QVERIFY2(phone->expectNone([](const XmlNode &n) { return n.attribute(u"type") == u"error"; }),
             qPrintable(phone->errorString()));
}

QTEST_GUILESS_MAIN(TestDiskFull)
#include "tst_disk_full.moc"
