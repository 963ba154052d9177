// Room MAM for every room (issue #9 item 6), against a real Prosody: a room with archiving
// switched off is answered by xbnc from its room log, paged backwards and forwards as a phone
// catching up would, with the stanza-ids the live messages carried; a room with MAM is left to
// answer itself.
#include "bouncer_fixture.h"
#include "mam_query.h"
#include "muc_helpers.h"

#include <QtTest>

namespace {

const QString mamNs = QStringLiteral("urn:xmpp:mam:2");
const QString rsmNs = QStringLiteral("http://jabber.org/protocol/rsm");
const QString noMamRoom = QStringLiteral("nomam@conference.localhost");
const QString mamRoom = QStringLiteral("withmam@conference.localhost");
const QString quietRoom = QStringLiteral("quiet@conference.localhost");

// The stanza-id the room (or xbnc for it) put on a message; empty when none.
QString stanzaIdBy(const XmlNode &message, const QString &by)
{
    for (const XmlNode &c : message.children)
        if (c.name == u"stanza-id" && c.xmlns == mucns::sid && c.attribute(u"by") == by)
            return c.attribute(u"id");
    return {};
}

struct Page
{
    QStringList ids;    // the <result id/> in the order received
    QStringList bodies; // of the forwarded messages
    XmlNode fin;
    QString error; // what went wrong reading it
};

// Sends a MAM query with that RSM <set/> content to the room and reads the results up to the
// IQ answer.
Page queryRoom(TestClient &client, const QString &room, const QString &id, const QString &set)
{
    client.send(mam::query(id, room, QStringLiteral("qid-") + id, set).toUtf8());
    Page page;
    for (;;) {
        const std::optional<XmlNode> next = client.readUntil([&](const XmlNode &n) {
            return (n.name == u"iq" && n.attribute(u"id") == id) ||
                   (n.name == u"message" && n.child(u"result", mamNs));
        });
        if (!next) {
            page.error = client.errorString();
            return page;
        }
        if (next->name == u"iq") {
            const XmlNode *fin = next->child(u"fin", mamNs);
            if (next->attribute(u"type") != u"result" || !fin)
                page.error = QString::fromUtf8(next->toXml());
            else
                page.fin = *fin;
            return page;
        }
        const XmlNode *result = next->child(u"result", mamNs);
        const XmlNode *forwarded = result->child(u"forwarded");
        const XmlNode *message = forwarded ? forwarded->child(u"message") : nullptr;
        const XmlNode *body = message ? message->child(u"body") : nullptr;
        if (result->attribute(u"queryid") != QStringLiteral("qid-") + id || !body ||
            next->attribute(u"from") != room) {
            page.error = QStringLiteral("unexpected result: ") + QString::fromUtf8(next->toXml());
            return page;
        }
        page.ids << result->attribute(u"id");
        page.bodies << body->text();
    }
}

QString rsmText(const XmlNode &fin, const char16_t *name)
{
    const XmlNode *set = fin.child(u"set", rsmNs);
    const XmlNode *child = set ? set->child(name, rsmNs) : nullptr;
    return child ? child->text() : QStringLiteral("<none>");
}

QStringList bodies(int first, int last)
{
    QStringList list;
    for (int i = first; i <= last; ++i)
        list << QStringLiteral("m%1").arg(i);
    return list;
}

QStringList features(const XmlNode &discoResult)
{
    QStringList vars;
    if (const XmlNode *query = discoResult.child(u"query"))
        for (const XmlNode &c : query->children)
            if (c.name == u"feature")
                vars << c.attribute(u"var");
    return vars;
}

} // namespace

class TestRoomMam : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();
    void roomWithoutMamIsPagedFromXbncsLog();
    void roomWithMamAnswersItself();
    void roomWithoutMamIsXbncsWithoutAnyDisco();

private:
    // The phone asks the room's features (as phones do before joining) and joins it.
    bool discoverAndJoin(TestClient &phone, const QString &room, QStringList *roomFeatures);
    BouncerFixture fixture_;
};

void TestRoomMam::initTestCase()
{
    QVERIFY2(fixture_.start({QStringLiteral("bob")}), qPrintable(fixture_.errorString()));
}

void TestRoomMam::cleanup()
{
    fixture_.finishTest();
}

void TestRoomMam::cleanupTestCase()
{
    fixture_.stop();
}

bool TestRoomMam::discoverAndJoin(TestClient &phone, const QString &room, QStringList *roomFeatures)
{
    QString error;
    const std::optional<XmlNode> disco =
        muc::request(phone, QStringLiteral("disco-") + room,
                     QStringLiteral("<iq type='get' id='disco-%1' to='%1'><query "
                                    "xmlns='http://jabber.org/protocol/disco#info'/></iq>")
                         .arg(room)
                         .toUtf8(),
                     &error);
    if (!disco) {
        qWarning() << "disco#info of" << room << "failed:" << error;
        return false;
    }
    *roomFeatures = features(*disco);
    if (!muc::join(phone, room + QStringLiteral("/alice"), &error, "<history maxstanzas='0'/>")) {
        qWarning() << "joining" << room << "failed:" << error;
        return false;
    }
    return true;
}

void TestRoomMam::roomWithoutMamIsPagedFromXbncsLog()
{
    QString error;
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::createRoom(*bob, noMamRoom, QStringLiteral("bob"),
                             {{QStringLiteral("muc#roomconfig_enablearchiving"), "0"}}, &error),
             qPrintable(error));
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QStringList roomFeatures;
    QVERIFY(discoverAndJoin(*phone, noMamRoom, &roomFeatures));
    QVERIFY2(roomFeatures.contains(mamNs) && roomFeatures.contains(mucns::sid),
             qPrintable(roomFeatures.join(u' ')));

    QStringList live; // the stanza-ids the phone saw live, m1..m25
    for (int i = 1; i <= 25; ++i)
        bob->send(
            muc::groupchat(noMamRoom, QStringLiteral("b%1").arg(i), QStringLiteral("m%1").arg(i)));
    for (int i = 1; i <= 25; ++i) {
        const std::optional<XmlNode> message =
            phone->readUntil(muc::groupchatWithBody(noMamRoom, QStringLiteral("m%1").arg(i)));
        QVERIFY2(message, qPrintable(phone->errorString()));
        live << stanzaIdBy(*message, noMamRoom);
        QVERIFY2(!live.last().isEmpty(), message->toXml().constData());
    }
    QCOMPARE(QSet<QString>(live.begin(), live.end()).size(), 25);

    // Backwards from the newest, as a phone catching up does.
    Page page = queryRoom(*phone, noMamRoom, QStringLiteral("p1"), "<max>10</max><before/>");
    QVERIFY2(page.error.isEmpty(), qPrintable(page.error));
    QCOMPARE(page.bodies, bodies(16, 25));
    QCOMPARE(page.ids, live.mid(15, 10));
    QCOMPARE(page.fin.attribute(u"complete"), QStringLiteral("false"));
    QCOMPARE(rsmText(page.fin, u"first"), live[15]);
    QCOMPARE(rsmText(page.fin, u"last"), live[24]);
    QCOMPARE(rsmText(page.fin, u"count"), QStringLiteral("25"));

    page = queryRoom(*phone, noMamRoom, QStringLiteral("p2"),
                     "<max>10</max><before>" + live[15] + "</before>");
    QVERIFY2(page.error.isEmpty(), qPrintable(page.error));
    QCOMPARE(page.bodies, bodies(6, 15));
    QCOMPARE(page.ids, live.mid(5, 10));
    QCOMPARE(page.fin.attribute(u"complete"), QStringLiteral("false"));

    page = queryRoom(*phone, noMamRoom, QStringLiteral("p3"),
                     "<max>10</max><before>" + live[5] + "</before>");
    QVERIFY2(page.error.isEmpty(), qPrintable(page.error));
    QCOMPARE(page.bodies, bodies(1, 5));
    QCOMPARE(page.ids, live.mid(0, 5));
    QCOMPARE(page.fin.attribute(u"complete"), QStringLiteral("true"));

    // Forwards from where a phone left off.
    page = queryRoom(*phone, noMamRoom, QStringLiteral("p4"),
                     "<max>10</max><after>" + live[9] + "</after>");
    QVERIFY2(page.error.isEmpty(), qPrintable(page.error));
    QCOMPARE(page.bodies, bodies(11, 20));
    QCOMPARE(page.fin.attribute(u"complete"), QStringLiteral("false"));
    page = queryRoom(*phone, noMamRoom, QStringLiteral("p5"),
                     "<max>10</max><after>" + live[19] + "</after>");
    QVERIFY2(page.error.isEmpty(), qPrintable(page.error));
    QCOMPARE(page.bodies, bodies(21, 25));
    QCOMPARE(page.ids, live.mid(20, 5));
    QCOMPARE(page.fin.attribute(u"complete"), QStringLiteral("true"));

    // A place the log does not know is an error, not an empty page.
    const std::optional<XmlNode> unknown = muc::request(
        *phone, QStringLiteral("p6"),
        mam::query(QStringLiteral("p6"), noMamRoom, {}, QStringLiteral("<after>nope</after>"))
            .toUtf8(),
        &error);
    QVERIFY2(unknown, qPrintable(error));
    QCOMPARE(muc::errorCondition(*unknown), QStringLiteral("item-not-found"));
}

void TestRoomMam::roomWithMamAnswersItself()
{
    QString error;
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::createRoom(*bob, mamRoom, QStringLiteral("bob"), {}, &error), qPrintable(error));
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QStringList roomFeatures;
    QVERIFY(discoverAndJoin(*phone, mamRoom, &roomFeatures));
    QCOMPARE(roomFeatures.count(mamNs), 1); // the room's own, not doubled

    bob->send(muc::groupchat(mamRoom, QStringLiteral("b1"), QStringLiteral("archived")));
    const std::optional<XmlNode> message =
        phone->readUntil(muc::groupchatWithBody(mamRoom, QStringLiteral("archived")));
    QVERIFY2(message, qPrintable(phone->errorString()));
    const QString live = stanzaIdBy(*message, mamRoom);
    QVERIFY(!live.isEmpty());

    // Prosody's archive answers, with its own ids: the one the live message carried.
    const Page page = queryRoom(*phone, mamRoom, QStringLiteral("r1"), "<max>10</max><before/>");
    QVERIFY2(page.error.isEmpty(), qPrintable(page.error));
    QCOMPARE(page.bodies, QStringList{"archived"});
    QCOMPARE(page.ids, QStringList{live});
    QCOMPARE(page.fin.attribute(u"complete"), QStringLiteral("true"));
}

// No client asks the room's features: xbnc asks them itself once its join completes, and from
// then on stamps its own stanza-ids and answers the room's MAM queries.
void TestRoomMam::roomWithoutMamIsXbncsWithoutAnyDisco()
{
    QString error;
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::createRoom(*bob, quietRoom, QStringLiteral("bob"),
                             {{QStringLiteral("muc#roomconfig_enablearchiving"), "0"}}, &error),
             qPrintable(error));
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::join(*phone, quietRoom + QStringLiteral("/alice"), &error,
                       "<history maxstanzas='0'/>"),
             qPrintable(error));
    // xbnc sent its disco#info to the room when the join ended, before this request reaches the
    // same MUC service: its answer is in when this one is.
    QVERIFY2(muc::request(*phone, QStringLiteral("barrier"),
                          "<iq type='get' id='barrier' to='conference.localhost'><query "
                          "xmlns='http://jabber.org/protocol/disco#info'/></iq>",
                          &error),
             qPrintable(error));

    bob->send(muc::groupchat(quietRoom, QStringLiteral("q1"), QStringLiteral("unarchived")));
    const std::optional<XmlNode> message =
        phone->readUntil(muc::groupchatWithBody(quietRoom, QStringLiteral("unarchived")));
    QVERIFY2(message, qPrintable(phone->errorString()));
    const QString live = stanzaIdBy(*message, quietRoom);
    QVERIFY2(!live.isEmpty(), message->toXml().constData());

    const Page page = queryRoom(*phone, quietRoom, QStringLiteral("x1"), "<max>10</max><before/>");
    QVERIFY2(page.error.isEmpty(), qPrintable(page.error));
    QCOMPARE(page.bodies, QStringList{"unarchived"});
    QCOMPARE(page.ids, QStringList{live});
    QCOMPARE(page.fin.attribute(u"complete"), QStringLiteral("true"));
}

QTEST_GUILESS_MAIN(TestRoomMam)
#include "tst_room_mam.moc"
