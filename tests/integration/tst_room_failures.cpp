// Rooms that fail the account, against a real Prosody (docs/ROOMS.md, "Failed rejoins"): a
// room destroyed while xbnc was stopped, an autojoin room destroyed while it ran, and an
// autojoin room the account was kicked from. Prosody 0.12 keeps a tombstone of a destroyed
// persistent room (mod_muc, muc_tombstones): a join of it is refused with <gone/> (cancel)
// instead of creating the room again, so the room stays refused for the whole test.
//
// What xbnc sends the room is counted where it arrives: Prosody, at debug level, logs the top
// tag of every stanza a client stream delivers ("Received[c2s]: <presence …>").
#include "bouncer_fixture.h"
#include "muc_helpers.h"
#include "wait.h"

#include <QRegularExpression>
#include <QtTest>

#include <algorithm>

namespace {

const QList<QPair<QString, QString>> persistentRoom = {
    {QStringLiteral("muc#roomconfig_persistentroom"), QStringLiteral("1")}};

// Available presences (joins) to `occupantJid` that Prosody received from any client so far.
int joinsReceivedByProsody(ProsodyFixture &prosody, const QString &occupantJid)
{
    const QRegularExpression join(
        QStringLiteral("Received\\[c2s\\]: <presence (?![^>]*type=)[^>]*to='%1'")
            .arg(QRegularExpression::escape(occupantJid)));
    int count = 0;
    for (auto it = join.globalMatch(prosody.logText()); it.hasNext(); it.next())
        ++count;
    return count;
}

bool waitForJoins(ProsodyFixture &prosody, const QString &occupantJid, int count)
{
    return waitUntil([&] { return joinsReceivedByProsody(prosody, occupantJid) >= count; },
                     QDeadlineTimer(BouncerFixture::timeoutMs));
}

// The owner destroys the room (XEP-0045 §10.9); false with *error unless the room confirms.
bool destroyRoom(TestClient &owner, const QString &room, QString *error)
{
    const QString id = QStringLiteral("destroy-") + room;
    const auto reply = muc::request(owner, id,
                                    "<iq type='set' id='" + id.toUtf8() + "' to='" + room.toUtf8() +
                                        "'><query xmlns='http://jabber.org/protocol/muc#owner'>"
                                        "<destroy><reason>closed for good</reason></destroy>"
                                        "</query></iq>",
                                    error);
    if (!reply)
        return false;
    if (reply->attribute(u"type") != u"result") {
        *error = QStringLiteral("destroying %1: %2").arg(room, QString::fromUtf8(reply->toXml()));
        return false;
    }
    return true;
}

// The premise of the tests: a join of the destroyed room is refused with <gone/>.
bool refusedAsGone(TestClient &client, const QString &occupantJid, QString *error)
{
    const auto answer = muc::join(client, occupantJid, error);
    if (!answer)
        return false;
    const XmlNode &last = answer->last();
    if (last.attribute(u"type") != u"error" || muc::errorCondition(last) != u"gone") {
        *error =
            QStringLiteral("the destroyed room answered a join with\n") + muc::describe(*answer);
        return false;
    }
    return true;
}

// A session publishes an autojoin bookmark (XEP-0402) for the room, with the nick "al".
bool isAvailablePresence(const XmlNode &stanza)
{
    return stanza.name == u"presence" && stanza.attribute(u"type").isEmpty();
}

} // namespace

class TestRoomFailures : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();
    void roomDestroyedWhileAwayIsNeitherReplayedNorRetried();
    void autojoinRoomDestroyedWhileConnectedStaysOutAfterRestart();
    void kickedFromAnAutojoinRoomStaysOut();

private:
    BouncerFixture fixture_;
};

void TestRoomFailures::initTestCase()
{
    fixture_.prosody().setLogLevel(QStringLiteral("debug")); // the received stanzas
    QVERIFY2(fixture_.start({QStringLiteral("bob")}), qPrintable(fixture_.errorString()));
}

void TestRoomFailures::cleanup()
{
    fixture_.finishTest();
}

void TestRoomFailures::cleanupTestCase()
{
    fixture_.stop();
}

void TestRoomFailures::roomDestroyedWhileAwayIsNeitherReplayedNorRetried()
{
    const QString room = QStringLiteral("gone@conference.localhost");
    const QString aliceInRoom = room + QStringLiteral("/alice");
    const QString staleSubject = QStringLiteral("the subject before the destruction");
    QString error;

    TestClient *owner = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(owner, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::createRoom(*owner, room, QStringLiteral("bob"), persistentRoom, &error),
             qPrintable(error));
    owner->send("<message to='" + room.toUtf8() + "' type='groupchat'><subject>" +
                staleSubject.toUtf8() + "</subject></message>");
    QVERIFY2(owner->readUntil(muc::subjectOf(room)), qPrintable(owner->errorString()));

    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    const auto joined = muc::join(*phone, aliceInRoom, &error);
    QVERIFY2(joined, qPrintable(error));
    QVERIFY2(muc::isSubjectMessage(joined->last()), qPrintable(muc::describe(*joined)));
    QCOMPARE(joined->last().child(u"subject")->text(), staleSubject);

    // Stopped, xbnc keeps the room as one to rejoin.
    QVERIFY2(fixture_.stopXbnc(), qPrintable(fixture_.errorString()));
    QVERIFY2(owner->readUntil(muc::presenceFrom(aliceInRoom, QStringLiteral("unavailable"))),
             qPrintable(owner->errorString()));
    QVERIFY2(destroyRoom(*owner, room, &error), qPrintable(error));
    QVERIFY2(refusedAsGone(*owner, room + QStringLiteral("/bob"), &error), qPrintable(error));

    const int joinsBefore = joinsReceivedByProsody(fixture_.prosody(), aliceInRoom);
    QVERIFY2(fixture_.startXbnc(), qPrintable(fixture_.errorString()));
    // The account's rejoin reaches the room's tombstone, which refuses it.
    QVERIFY2(waitForJoins(fixture_.prosody(), aliceInRoom, joinsBefore + 1),
             "xbnc never tried to rejoin the room it was in before the restart");

    // A ping sent upstream after the rejoin comes back after the refusal: by the end of the
    // session's login, xbnc has handled the room's error. Nobody had joined, nobody is told.
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    QVERIFY2(laptop->expectNone(muc::fromRoom(room)), qPrintable(laptop->errorString()));

    // (1) A session's join is not answered from the cache of the room before the restart: it
    // goes to the room, and the room's refusal comes back.
    const auto answer = muc::join(*laptop, aliceInRoom, &error);
    QVERIFY2(answer, qPrintable(error));
    QVERIFY2(
        std::none_of(answer->begin(), answer->end(), isAvailablePresence),
        qPrintable(QStringLiteral("occupants of a destroyed room:\n") + muc::describe(*answer)));
    QVERIFY2(
        std::none_of(answer->begin(), answer->end(), muc::isSubjectMessage),
        qPrintable(QStringLiteral("the subject of a destroyed room:\n") + muc::describe(*answer)));
    QCOMPARE(answer->last().attribute(u"type"), QStringLiteral("error"));
    QCOMPARE(muc::errorCondition(answer->last()), QStringLiteral("gone"));
    QCOMPARE(joinsReceivedByProsody(fixture_.prosody(), aliceInRoom), joinsBefore + 2);

    // (2) After the refusals the account does not join again by itself: nothing more reaches
    // the room by the time a later ping has been through Prosody and back.
    QVERIFY2(laptop->expectNone(muc::fromRoom(room)), qPrintable(laptop->errorString()));
    QCOMPARE(joinsReceivedByProsody(fixture_.prosody(), aliceInRoom), joinsBefore + 2);
    // The log says so too: a permanent failure, and no retry scheduled.
    const QRegularExpression permanent(
        QStringLiteral("joining\\W+%1\\W+failed:\\W+gone\\W+; not trying again")
            .arg(QRegularExpression::escape(room)));
    QVERIFY2(fixture_.xbnc().waitForLog(permanent, QDeadlineTimer(BouncerFixture::timeoutMs), 0) >=
                 0,
             "xbnc did not log the rejoin's permanent failure");
    const QString since = fixture_.xbnc().output(); // a new process, a new output
    QVERIFY2(!since.contains(QStringLiteral("again in")), qPrintable(since));
}

void TestRoomFailures::autojoinRoomDestroyedWhileConnectedStaysOutAfterRestart()
{
    const QString room = QStringLiteral("marked@conference.localhost");
    const QString aliceInRoom = room + QStringLiteral("/al");
    QString error;

    TestClient *owner = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(owner, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::createRoom(*owner, room, QStringLiteral("bob"), persistentRoom, &error),
             qPrintable(error));

    // A session publishes an autojoin bookmark (XEP-0402); the account joins by itself.
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::publishAutojoinBookmark(*phone, room, QStringLiteral("al"), &error),
             qPrintable(error));
    QVERIFY2(owner->readUntil(muc::presenceFrom(aliceInRoom)), qPrintable(owner->errorString()));
    QVERIFY2(muc::join(*phone, aliceInRoom, &error), qPrintable(error));

    // Destroyed while xbnc is there: the joined session is told, with the <destroy/>.
    QVERIFY2(destroyRoom(*owner, room, &error), qPrintable(error));
    const auto removed =
        phone->readUntil(muc::presenceFrom(aliceInRoom, QStringLiteral("unavailable")));
    QVERIFY2(removed, qPrintable(phone->errorString()));
    const XmlNode *x = removed->child(u"x", mucns::user);
    QVERIFY2(x && x->child(u"destroy"), removed->toXml().constData());
    QVERIFY2(refusedAsGone(*owner, room + QStringLiteral("/bob"), &error), qPrintable(error));

    // The destroy is remembered across a restart (docs/ROOMS.md, room_removals): the autojoin
    // bookmark does not send the account to the room again, not even once.
    const int joinsBefore = joinsReceivedByProsody(fixture_.prosody(), aliceInRoom);
    QVERIFY2(fixture_.stopXbnc(), qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.startXbnc(), qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    QVERIFY2(laptop->expectNone(muc::fromRoom(room)), qPrintable(laptop->errorString()));
    QCOMPARE(joinsReceivedByProsody(fixture_.prosody(), aliceInRoom), joinsBefore);
}

void TestRoomFailures::kickedFromAnAutojoinRoomStaysOut()
{
    const QString room = QStringLiteral("kicks@conference.localhost");
    const QString aliceInRoom = room + QStringLiteral("/al");
    QString error;

    TestClient *owner = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(owner, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::createRoom(*owner, room, QStringLiteral("bob"), persistentRoom, &error),
             qPrintable(error));
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::publishAutojoinBookmark(*phone, room, QStringLiteral("al"), &error),
             qPrintable(error));
    QVERIFY2(owner->readUntil(muc::presenceFrom(aliceInRoom)), qPrintable(owner->errorString()));
    QVERIFY2(muc::join(*phone, aliceInRoom, &error), qPrintable(error));

    // The owner kicks the account (XEP-0045 §8.2); the joined session sees the 307.
    const auto kicked = muc::request(
        *owner, QStringLiteral("kick"),
        "<iq type='set' id='kick' to='" + room.toUtf8() +
            "'><query xmlns='http://jabber.org/protocol/muc#admin'><item nick='al' role='none'>"
            "<reason>out</reason></item></query></iq>",
        &error);
    QVERIFY2(kicked, qPrintable(error));
    QCOMPARE(kicked->attribute(u"type"), QStringLiteral("result"));
    const auto removed =
        phone->readUntil(muc::presenceFrom(aliceInRoom, QStringLiteral("unavailable")));
    QVERIFY2(removed, qPrintable(phone->errorString()));
    QVERIFY2(muc::statusCodes(*removed).contains(307), removed->toXml().constData());
    const int joinsBefore = joinsReceivedByProsody(fixture_.prosody(), aliceInRoom);

    // The next connection upstream reads the bookmark, and remembers the kick: no join. Two
    // round trips: the first comes back after the bookmarks' answer, the second after any
    // join that answer caused.
    QVERIFY2(fixture_.restartProsody(), qPrintable(fixture_.errorString()));
    QVERIFY2(phone->ping(), qPrintable(phone->errorString()));
    QVERIFY2(phone->expectNone(muc::fromRoom(room)), qPrintable(phone->errorString()));
    QCOMPARE(joinsReceivedByProsody(fixture_.prosody(), aliceInRoom), joinsBefore);

    // Nor does an xbnc restart bring the account back.
    QVERIFY2(fixture_.stopXbnc(), qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.startXbnc(), qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    QVERIFY2(laptop->expectNone(muc::fromRoom(room)), qPrintable(laptop->errorString()));
    QCOMPARE(joinsReceivedByProsody(fixture_.prosody(), aliceInRoom), joinsBefore);
}

QTEST_GUILESS_MAIN(TestRoomFailures)
#include "tst_room_failures.moc"
