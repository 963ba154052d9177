// The account's own room membership, against a real Prosody: xbnc restarting (the account
// rejoins its rooms by itself and history replay still works from the stored log), the upstream
// server restarting (sessions stay in the room and see new messages once, old ones not again),
// and XEP-0402 bookmarks published through xbnc joining and leaving rooms.
#include "bouncer_fixture.h"
#include "muc_helpers.h"

#include <QtTest>

#include <algorithm>

namespace {
const QString room = QStringLiteral("keep@conference.localhost");
const QString aliceInRoom = room + QStringLiteral("/alice");
const QList<QPair<QString, QString>> persistentRoom = {
    {QStringLiteral("muc#roomconfig_persistentroom"), QStringLiteral("1")}};

int countBodies(const QList<XmlNode> &stanzas, const QString &body)
{
    int count = 0;
    for (const XmlNode &stanza : stanzas)
        if (stanza.name == u"message" && stanza.child(u"body") &&
            stanza.child(u"body")->text() == body)
            ++count;
    return count;
}
} // namespace

class TestRoomsAccount : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();
    void xbncRestartRejoinsAndKeepsHistory();
    void serverRestartKeepsSessionsInTheRoomWithoutRepeats();
    void autojoinBookmarkJoinsAndItsRetractionLeaves();

private:
    BouncerFixture fixture_;
};

void TestRoomsAccount::initTestCase()
{
    QVERIFY2(fixture_.start({QStringLiteral("bob")}), qPrintable(fixture_.errorString()));
}

void TestRoomsAccount::cleanup()
{
    fixture_.finishTest();
}

void TestRoomsAccount::cleanupTestCase()
{
    fixture_.stop();
}

void TestRoomsAccount::xbncRestartRejoinsAndKeepsHistory()
{
    QString error;
    TestClient *observer = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(observer, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::createRoom(*observer, room, QStringLiteral("bob"), persistentRoom, &error),
             qPrintable(error));
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::join(*phone, aliceInRoom, &error), qPrintable(error));
    observer->send(muc::groupchat(room, QStringLiteral("b1"), QStringLiteral("before restart")));
    QVERIFY2(phone->readUntil(muc::groupchatWithBody(room, QStringLiteral("before restart"))),
             qPrintable(phone->errorString()));
    QVERIFY2(fixture_.stopXbnc(), qPrintable(fixture_.errorString()));
    // The stream closing made the server take the account out of the room.
    QVERIFY2(observer->readUntil(muc::presenceFrom(aliceInRoom, QStringLiteral("unavailable"))),
             qPrintable(observer->errorString()));
    observer->takeBuffered(); // the next presence of alice must be a new one

    QVERIFY2(fixture_.startXbnc(), qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.xbnc().waitForLog(
                 QStringLiteral("will rejoin keep@conference.localhost as alice")) >= 0,
             qPrintable(fixture_.xbnc().output()));
    // With no session connected, the account is back in the room.
    QVERIFY2(observer->readUntil(muc::presenceFrom(aliceInRoom)),
             qPrintable(observer->errorString()));

    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    const auto joined = muc::join(*laptop, aliceInRoom, &error, "<history maxstanzas='5'/>");
    QVERIFY2(joined, qPrintable(error));
    QCOMPARE(countBodies(*joined, QStringLiteral("before restart")), 1);
    const XmlNode *last = &joined->last();
    QVERIFY2(muc::isSubjectMessage(*last), qPrintable(muc::describe(*joined)));
}

void TestRoomsAccount::serverRestartKeepsSessionsInTheRoomWithoutRepeats()
{
    QString error;
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::join(*phone, aliceInRoom, &error), qPrintable(error));
    const qsizetype mark = fixture_.xbnc().outputSize();

    QVERIFY2(fixture_.restartProsody(), qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.xbnc().waitForLog(QStringLiteral("upstream offline:"), QDeadlineTimer(10000),
                                        mark) >= 0,
             "xbnc never noticed that Prosody went away");

    // bob comes back into the (persistent) room and writes.
    TestClient *observer = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(observer, qPrintable(fixture_.errorString()));
    const auto bobJoined = muc::join(*observer, room + QStringLiteral("/bob"), &error);
    QVERIFY2(bobJoined, qPrintable(error));
    // alice is back: in the occupant list bob got, or arriving after it.
    const auto alicePresent = muc::presenceFrom(aliceInRoom);
    const bool inList = std::any_of(bobJoined->begin(), bobJoined->end(), alicePresent);
    QVERIFY2(inList || observer->readUntil(alicePresent),
             "the account is not back in the room after the server restart");
    observer->send(muc::groupchat(room, QStringLiteral("b2"), QStringLiteral("after restart")));
    QVERIFY2(phone->readUntil(muc::groupchatWithBody(room, QStringLiteral("after restart"))),
             qPrintable(phone->errorString()));
    const auto rest = phone->ping();
    QVERIFY2(rest, qPrintable(phone->errorString()));
    QVERIFY(!phone->wasClosed());
    // The rejoin's history (everything since xbnc was last there) showed nothing twice.
    QList<XmlNode> everything = phone->takeBuffered();
    everything += *rest;
    QCOMPARE(countBodies(everything, QStringLiteral("before restart")), 0);
    QCOMPARE(countBodies(everything, QStringLiteral("after restart")), 0);
}

void TestRoomsAccount::autojoinBookmarkJoinsAndItsRetractionLeaves()
{
    const QString other = QStringLiteral("marks@conference.localhost");
    const QString aliceThere = other + QStringLiteral("/al");
    QString error;
    TestClient *observer = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(observer, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::createRoom(*observer, other, QStringLiteral("bob"), {}, &error),
             qPrintable(error));
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::publishAutojoinBookmark(*phone, other, QStringLiteral("al"), &error),
             qPrintable(error));
    // The account joins by itself; no session is shown the room.
    QVERIFY2(observer->readUntil(muc::presenceFrom(aliceThere)),
             qPrintable(observer->errorString()));
    const auto quiet = phone->ping();
    QVERIFY2(quiet, qPrintable(phone->errorString()));
    QVERIFY(std::none_of(quiet->begin(), quiet->end(), muc::fromRoom(other)));

    const auto retracted = muc::request(
        *phone, QStringLiteral("bm2"),
        "<iq type='set' id='bm2'><pubsub xmlns='http://jabber.org/protocol/pubsub'><retract "
        "node='urn:xmpp:bookmarks:1' notify='true'><item id='" +
            other.toUtf8() + "'/></retract></pubsub></iq>",
        &error);
    QVERIFY2(retracted, qPrintable(error));
    QVERIFY2(observer->readUntil(muc::presenceFrom(aliceThere, QStringLiteral("unavailable"))),
             qPrintable(observer->errorString()));
}

QTEST_GUILESS_MAIN(TestRoomsAccount)
#include "tst_rooms_account.moc"
