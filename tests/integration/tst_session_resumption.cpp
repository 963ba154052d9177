// XEP-0198 between a phone and xbnc, end to end: the real xbnc in front of a real Prosody. alice
// is the bouncer's account; her phone is a raw TestClient that enables stream management, loses
// its TCP connection and resumes on a new one; her laptop is a second session (without stream
// management) whose copy of the fan-out shows when xbnc has handled a stanza; bob writes from a
// direct connection to Prosody, in 1:1 and in a room.
#include "bouncer_fixture.h"
#include "muc_helpers.h"
#include "sm_connection.h"
#include "stanza_match.h"

#include <QtTest>

namespace {

const QString room = QStringLiteral("lounge@conference.localhost");
const QString aliceInRoom = room + QStringLiteral("/alice");
// The fixture's bounds, small enough to overflow in a test.
constexpr int maxHibernationStanzas = 30;

using sm::chatFromBob;
using sm::chatIds;
using sm::numbered;
using SmConnection = sm::Connection;
constexpr auto smNs = sm::ns;

bool isSm(const XmlNode &n, QStringView name)
{
    return sm::is(n, name);
}

QStringList groupchatIds(const QList<XmlNode> &stanzas)
{
    return sm::groupchatIds(stanzas, room);
}

// Messages delivered to a new session from the offline store, in order, up to the one with
// that id; empty on timeout.
QList<XmlNode> readKept(TestClient &client, const QString &lastId)
{
    QList<XmlNode> got;
    for (;;) {
        const std::optional<XmlNode> n = client.readStanza(QDeadlineTimer(10000));
        if (!n)
            return {};
        got.append(*n);
        if (n->name == u"message" && n->attribute(u"id") == lastId)
            return got;
    }
}

} // namespace

class TestSessionResumption : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void enableAndAcks();
    void resumeAfterLostConnectionLosesAndDoublesNothing();
    void resumeWhileOldConnectionIsOpen();
    void hibernationOverflowEndsOnlyThatSession();
    void unknownPrevidFails();
    void cleanCloseEndsTheSessionAtOnce();
    // Restarts xbnc with a short resume timeout: last.
    void expiredSessionFailsAndItsMessagesWait();

private:
    // Sends <enable resume='true'/> and reads up to <enabled/>, which it returns; what came
    // before it is not counted.
    std::optional<XmlNode> enable(SmConnection &phone);
    // A new connection of the phone, authenticated but not bound (ready for <resume/>).
    TestClient *reconnect(const QString &name);
    // A new connection of the phone asks to resume `previd` and is refused with <failed> and
    // <item-not-found/>, as for a session that is gone; the connection, ready to bind, or null.
    TestClient *resumeRefused(const QByteArray &previd);
    bool createRoomWithAlice(TestClient &bob, TestClient &phone, TestClient &laptop);
    bool waitForLog(const QString &line);

    BouncerFixture fixture_;
    std::vector<std::unique_ptr<TestClient>> connections_;
    qsizetype logMark_ = 0;
};

void TestSessionResumption::initTestCase()
{
    fixture_.setXbncConfig(QStringLiteral("sessions/resume_timeout"), QStringLiteral("300"));
    fixture_.setXbncConfig(QStringLiteral("sessions/max_hibernation_stanzas"),
                           QString::number(maxHibernationStanzas));
    QVERIFY2(fixture_.start({QStringLiteral("bob")}), qPrintable(fixture_.errorString()));
}

void TestSessionResumption::cleanup()
{
    connections_.clear();
    fixture_.finishTest();
    logMark_ = fixture_.xbnc().outputSize();
}

void TestSessionResumption::cleanupTestCase()
{
    fixture_.stop();
}

std::optional<XmlNode> TestSessionResumption::enable(SmConnection &phone)
{
    phone.client->send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    for (;;) {
        std::optional<XmlNode> n = phone.client->readStanza(QDeadlineTimer(10000));
        if (!n || isSm(*n, u"enabled") || isSm(*n, u"failed"))
            return n;
    }
}

TestClient *TestSessionResumption::reconnect(const QString &name)
{
    auto client = std::make_unique<TestClient>(name);
    if (!client->connectAndSecure(fixture_.sessionOptions(QStringLiteral("phone"))) ||
        !client->authenticate()) {
        qWarning().noquote() << client->errorString();
        return nullptr;
    }
    connections_.push_back(std::move(client));
    return connections_.back().get();
}

TestClient *TestSessionResumption::resumeRefused(const QByteArray &previd)
{
    TestClient *again = reconnect(QStringLiteral("phone-again"));
    if (!again)
        return nullptr;
    again->send("<resume xmlns='urn:xmpp:sm:3' previd='" + previd + "' h='0'/>");
    const auto failed = again->readUntil([](const XmlNode &n) { return isSm(n, u"failed"); });
    if (!failed || !failed->child(u"item-not-found", mucns::stanzas)) {
        qWarning().noquote() << "resume of" << previd << "not refused as gone:"
                             << (failed ? QString::fromUtf8(failed->toXml())
                                        : again->errorString());
        return nullptr;
    }
    return again;
}

bool TestSessionResumption::createRoomWithAlice(TestClient &bob, TestClient &phone,
                                                TestClient &laptop)
{
    QString error;
    if (!muc::createRoom(bob, room, QStringLiteral("bob"), {}, &error) ||
        !muc::join(phone, aliceInRoom, &error) || !muc::join(laptop, aliceInRoom, &error) ||
        !bob.readUntil(muc::presenceFrom(aliceInRoom))) {
        qWarning().noquote() << error << bob.errorString();
        return false;
    }
    return true;
}

bool TestSessionResumption::waitForLog(const QString &line)
{
    const qsizetype found = fixture_.xbnc().waitForLog(line, QDeadlineTimer(10000), logMark_);
    if (found < 0)
        return false;
    logMark_ = found;
    return true;
}

void TestSessionResumption::enableAndAcks()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    SmConnection phone(fixture_.session(QStringLiteral("phone")));
    QVERIFY2(phone.client, qPrintable(fixture_.errorString()));
    QVERIFY2(phone.client->features().child(u"sm", smNs),
             phone.client->features().toXml().constData());

    const std::optional<XmlNode> enabled = enable(phone);
    QVERIFY2(enabled && isSm(*enabled, u"enabled"), qPrintable(phone.client->errorString()));
    // Exactly id, resume='true' (Conversations wants the word) and max: no location.
    QCOMPARE(enabled->attributes.size(), 3);
    QVERIFY(!enabled->attribute(u"id").isEmpty());
    QCOMPARE(enabled->attribute(u"resume"), QStringLiteral("true"));
    QCOMPARE(enabled->attribute(u"max"), QStringLiteral("300"));

    phone.client->send("<r xmlns='urn:xmpp:sm:3'/>");
    QVERIFY2(phone.until([](const XmlNode &n) { return isSm(n, u"a"); }),
             qPrintable(phone.client->errorString()));
    QCOMPARE(phone.nonzas.last().attribute(u"h"), QStringLiteral("0"));
    // Two stanzas, then a request: h counts stanzas only, not the nonzas between them.
    phone.client->send("<message to='bob@localhost' type='chat' id='p1'><body>one</body></message>"
                       "<r xmlns='urn:xmpp:sm:3'/>"
                       "<presence><show>away</show></presence><r xmlns='urn:xmpp:sm:3'/>");
    QVERIFY2(phone.until([](const XmlNode &n) { return isSm(n, u"a"); }),
             qPrintable(phone.client->errorString()));
    QCOMPARE(phone.nonzas.last().attribute(u"h"), QStringLiteral("1"));
    QVERIFY2(phone.until([](const XmlNode &n) { return isSm(n, u"a"); }),
             qPrintable(phone.client->errorString()));
    QCOMPARE(phone.nonzas.last().attribute(u"h"), QStringLiteral("2"));

    // xbnc asks for acks itself once stanzas stay unacknowledged.
    for (int i = 1; i <= 3; ++i)
        bob->send(chatFromBob(QStringLiteral("r%1").arg(i)));
    QVERIFY2(phone.until(match::message(QStringLiteral("r3"))),
             qPrintable(phone.client->errorString()));
    QCOMPARE(chatIds(phone.handled), numbered(QStringLiteral("r"), 1, 3));
    const auto isRequest = [](const XmlNode &n) { return isSm(n, u"r"); };
    if (std::none_of(phone.nonzas.begin(), phone.nonzas.end(), isRequest))
        QVERIFY2(phone.until(isRequest), qPrintable(phone.client->errorString()));
    phone.client->send("<a xmlns='urn:xmpp:sm:3' h='" + QByteArray::number(phone.h()) + "'/>");
    // An ack of stanzas never sent ends the stream (XEP-0198 §4).
    phone.client->send("<a xmlns='urn:xmpp:sm:3' h='" + QByteArray::number(phone.h() + 1000) +
                       "'/>");
    QVERIFY2(phone.client->expectStreamError(QStringLiteral("undefined-condition")),
             qPrintable(phone.client->errorString()));
}

void TestSessionResumption::resumeAfterLostConnectionLosesAndDoublesNothing()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    SmConnection phone(fixture_.session(QStringLiteral("phone")));
    QVERIFY2(phone.client, qPrintable(fixture_.errorString()));
    QVERIFY(createRoomWithAlice(*bob, *phone.client, *laptop));
    const std::optional<XmlNode> enabled = enable(phone);
    QVERIFY2(enabled && isSm(*enabled, u"enabled"), qPrintable(phone.client->errorString()));
    const QString previd = enabled->attribute(u"id");
    phone.client->send("<message to='bob@localhost' type='chat' id='p1'><body>hi</body></message>");
    QVERIFY2(bob->readUntil(match::message(QStringLiteral("p1"))), qPrintable(bob->errorString()));

    // Traffic flows; the phone handles the first two chat messages and loses its network with
    // the rest unread or still on the wire.
    for (int i = 1; i <= 4; ++i) {
        bob->send(chatFromBob(QStringLiteral("c%1").arg(i)));
        bob->send(muc::groupchat(room, QStringLiteral("g%1").arg(i), QStringLiteral("g%1").arg(i)));
    }
    QVERIFY2(phone.until(match::message(QStringLiteral("c2"))),
             qPrintable(phone.client->errorString()));
    const QList<XmlNode> firstConnection = phone.handled;
    phone.client->abortConnection();
    QVERIFY2(waitForLog(QStringLiteral("hibernates: its connection was lost")),
             qPrintable(fixture_.xbnc().output().mid(logMark_)));

    // More arrives while the phone is away; the laptop's copy shows xbnc has handled it.
    for (int i = 5; i <= 8; ++i) {
        bob->send(chatFromBob(QStringLiteral("c%1").arg(i)));
        bob->send(muc::groupchat(room, QStringLiteral("g%1").arg(i), QStringLiteral("g%1").arg(i)));
    }
    QVERIFY2(laptop->readUntil(match::message(QStringLiteral("c8"))),
             qPrintable(laptop->errorString()));
    QVERIFY2(laptop->readUntil(match::message(QStringLiteral("g8"))),
             qPrintable(laptop->errorString()));

    TestClient *again = reconnect(QStringLiteral("phone-again"));
    QVERIFY(again);
    QVERIFY(again->features().child(u"sm", smNs));
    again->send("<resume xmlns='urn:xmpp:sm:3' previd='" + previd.toUtf8() + "' h='" +
                QByteArray::number(phone.h()) + "'/>");
    const std::optional<XmlNode> resumed = again->readStanza(QDeadlineTimer(10000));
    QVERIFY2(resumed, qPrintable(again->errorString()));
    // Always with h (the phone's one message), and the previd.
    QVERIFY2(isSm(*resumed, u"resumed"), resumed->toXml().constData());
    QCOMPARE(resumed->attributes.size(), 2);
    QCOMPARE(resumed->attribute(u"h"), QStringLiteral("1"));
    QCOMPARE(resumed->attribute(u"previd"), previd);

    // Then everything the phone missed, before xbnc's <r/>.
    SmConnection resumedPhone(again, phone.h());
    QVERIFY2(resumedPhone.until([](const XmlNode &n) { return isSm(n, u"r"); }),
             qPrintable(again->errorString()));
    const QList<XmlNode> all = firstConnection + resumedPhone.handled;
    QCOMPARE(chatIds(all), numbered(QStringLiteral("c"), 1, 8));
    QCOMPARE(groupchatIds(all), numbered(QStringLiteral("g"), 1, 8));
    // What waited while the phone was away says when it came (XEP-0203); what went out on the
    // lost connection does not.
    for (const XmlNode &n : resumedPhone.handled) {
        const QString id = n.attribute(u"id");
        const XmlNode *delay = n.child(u"delay", u"urn:xmpp:delay");
        if (numbered(QStringLiteral("c"), 5, 8).contains(id))
            QVERIFY2(delay && delay->attribute(u"from") == u"localhost", qPrintable(n.toXml()));
        if (numbered(QStringLiteral("c"), 1, 4).contains(id))
            QVERIFY2(!delay, qPrintable(n.toXml()));
    }
    // The first stanza after <resumed/> is the first one the phone had not handled.
    QVERIFY(!resumedPhone.handled.isEmpty());
    again->send("<a xmlns='urn:xmpp:sm:3' h='" + QByteArray::number(resumedPhone.h()) + "'/>");

    // The session goes on: it still is in the room, and nothing comes twice.
    again->send(muc::groupchat(room, QStringLiteral("after"), QStringLiteral("back")));
    QVERIFY2(bob->readUntil(match::message(QStringLiteral("after"))),
             qPrintable(bob->errorString()));
    QVERIFY2(resumedPhone.until(match::message(QStringLiteral("after"))),
             qPrintable(again->errorString()));
    QVERIFY2(again->expectNone([](const XmlNode &n) {
        return n.name == u"message" && n.attribute(u"id") != u"after";
    }),
             qPrintable(again->errorString()));
    // bob never saw alice leave the room or join it again.
    QVERIFY2(bob->expectNone(muc::anyPresenceFrom(aliceInRoom)), qPrintable(bob->errorString()));
}

void TestSessionResumption::resumeWhileOldConnectionIsOpen()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    SmConnection phone(fixture_.session(QStringLiteral("phone")));
    QVERIFY2(phone.client, qPrintable(fixture_.errorString()));
    const std::optional<XmlNode> enabled = enable(phone);
    QVERIFY2(enabled && isSm(*enabled, u"enabled"), qPrintable(phone.client->errorString()));
    for (int i = 1; i <= 3; ++i)
        bob->send(chatFromBob(QStringLiteral("o%1").arg(i)));
    QVERIFY2(phone.until(match::message(QStringLiteral("o1"))),
             qPrintable(phone.client->errorString()));

    // The phone gave up on a connection xbnc still thinks is fine.
    TestClient *again = reconnect(QStringLiteral("phone-again"));
    QVERIFY(again);
    again->send("<resume xmlns='urn:xmpp:sm:3' previd='" + enabled->attribute(u"id").toUtf8() +
                "' h='" + QByteArray::number(phone.h()) + "'/>");
    SmConnection resumedPhone(again, phone.h());
    QVERIFY2(resumedPhone.until([](const XmlNode &n) { return isSm(n, u"resumed"); }),
             qPrintable(again->errorString()));
    QCOMPARE(resumedPhone.nonzas.last().attribute(u"h"), QStringLiteral("0"));
    QVERIFY2(resumedPhone.until([](const XmlNode &n) { return isSm(n, u"r"); }),
             qPrintable(again->errorString()));
    QCOMPARE(chatIds(resumedPhone.handled), numbered(QStringLiteral("o"), 2, 3));
    QVERIFY2(phone.client->expectStreamError(QStringLiteral("conflict")),
             qPrintable(phone.client->errorString()));

    // From now on the new connection alone gets what the session is sent.
    bob->send(chatFromBob(QStringLiteral("o4")));
    QVERIFY2(resumedPhone.until(match::message(QStringLiteral("o4"))),
             qPrintable(again->errorString()));
    QCOMPARE(chatIds(resumedPhone.handled), numbered(QStringLiteral("o"), 2, 4));
}

void TestSessionResumption::hibernationOverflowEndsOnlyThatSession()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    SmConnection phone(fixture_.session(QStringLiteral("phone")));
    QVERIFY2(phone.client, qPrintable(fixture_.errorString()));
    QString error;
    QVERIFY2(muc::join(*phone.client, aliceInRoom, &error), qPrintable(error));
    const std::optional<XmlNode> enabled = enable(phone);
    QVERIFY2(enabled && isSm(*enabled, u"enabled"), qPrintable(phone.client->errorString()));
    QVERIFY2(phone.client->roundTrip(), qPrintable(phone.client->errorString()));
    phone.client->abortConnection();
    QVERIFY2(waitForLog(QStringLiteral("hibernates: its connection was lost")),
             qPrintable(fixture_.xbnc().output().mid(logMark_)));

    const int sent = maxHibernationStanzas + 5;
    for (int i = 1; i <= sent; ++i)
        bob->send(chatFromBob(QStringLiteral("v%1").arg(i)));
    QVERIFY2(laptop->readUntil(match::message(QStringLiteral("v%1").arg(sent))),
             qPrintable(laptop->errorString()));
    QVERIFY2(waitForLog(QStringLiteral("ends: its queue is full")),
             qPrintable(fixture_.xbnc().output().mid(logMark_)));

    // The session is gone: a resume fails, and the laptop carries on.
    TestClient *again = resumeRefused(enabled->attribute(u"id").toUtf8());
    QVERIFY(again);
    bob->send(chatFromBob(QStringLiteral("still")));
    QVERIFY2(laptop->readUntil(match::message(QStringLiteral("still"))),
             qPrintable(laptop->errorString()));
    // The room never saw the account leave.
    QVERIFY2(bob->expectNone(muc::anyPresenceFrom(aliceInRoom)), qPrintable(bob->errorString()));
    // What the phone never acknowledged waits for the next session with presence: every
    // message up to the one that overflowed (and any the hub sent before it heard of the end).
    QVERIFY2(again->bind(), qPrintable(again->errorString()));
    again->send("<presence/>");
    const QList<XmlNode> kept = readKept(*again, QStringLiteral("v%1").arg(maxHibernationStanzas));
    QVERIFY2(!kept.isEmpty(), qPrintable(again->errorString()));
    QStringList keptIds;
    for (const QString &id : chatIds(kept))
        if (id.startsWith(u'v'))
            keptIds.append(id);
    QVERIFY2(keptIds.size() >= maxHibernationStanzas && keptIds.size() <= sent,
             qPrintable(keptIds.join(u' ')));
    QCOMPARE(keptIds, numbered(QStringLiteral("v"), 1, int(keptIds.size())));
}

void TestSessionResumption::unknownPrevidFails()
{
    TestClient *again = resumeRefused("nonsense");
    QVERIFY(again);
    // The client then binds as usual.
    QVERIFY2(again->bind(), qPrintable(again->errorString()));
    QVERIFY2(again->roundTrip(), qPrintable(again->errorString()));
}

void TestSessionResumption::cleanCloseEndsTheSessionAtOnce()
{
    SmConnection phone(fixture_.session(QStringLiteral("phone")));
    QVERIFY2(phone.client, qPrintable(fixture_.errorString()));
    const std::optional<XmlNode> enabled = enable(phone);
    QVERIFY2(enabled && isSm(*enabled, u"enabled"), qPrintable(phone.client->errorString()));
    // </stream:stream>: the client is done with the session; no hibernation.
    phone.client->disconnectFromServer();
    QVERIFY2(phone.client->expectClosed(), qPrintable(phone.client->errorString()));
    QVERIFY2(waitForLog(QStringLiteral("closed its stream")),
             qPrintable(fixture_.xbnc().output().mid(logMark_)));
    TestClient *again = resumeRefused(enabled->attribute(u"id").toUtf8());
    QVERIFY(again);
    QVERIFY2(!fixture_.xbnc().output().mid(logMark_).contains(u"hibernates"),
             qPrintable(fixture_.xbnc().output().mid(logMark_)));
}

void TestSessionResumption::expiredSessionFailsAndItsMessagesWait()
{
    QVERIFY2(fixture_.stopXbnc(), qPrintable(fixture_.errorString()));
    fixture_.setXbncConfig(QStringLiteral("sessions/resume_timeout"), QStringLiteral("1"));
    QVERIFY2(fixture_.startXbnc(), qPrintable(fixture_.errorString()));
    logMark_ = 0;

    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    SmConnection phone(fixture_.session(QStringLiteral("phone")));
    QVERIFY2(phone.client, qPrintable(fixture_.errorString()));
    const std::optional<XmlNode> enabled = enable(phone);
    QVERIFY2(enabled && isSm(*enabled, u"enabled"), qPrintable(phone.client->errorString()));
    QCOMPARE(enabled->attribute(u"max"), QStringLiteral("1"));
    for (int i = 1; i <= 3; ++i)
        bob->send(chatFromBob(QStringLiteral("e%1").arg(i)));
    QVERIFY2(phone.client->readUntil(match::message(QStringLiteral("e3"))),
             qPrintable(phone.client->errorString()));
    // The phone dies before handling any of them.
    phone.client->abortConnection();
    QVERIFY2(waitForLog(QStringLiteral("ends: its resume timeout ran out")),
             qPrintable(fixture_.xbnc().output().mid(logMark_)));

    TestClient *again = resumeRefused(enabled->attribute(u"id").toUtf8());
    QVERIFY(again);
    QVERIFY2(again->bind(), qPrintable(again->errorString()));
    again->send("<presence/>");
    const QList<XmlNode> kept = readKept(*again, QStringLiteral("e3"));
    QVERIFY2(!kept.isEmpty(), qPrintable(again->errorString()));
    QStringList keptIds;
    for (const XmlNode &n : kept) {
        if (!chatIds({n}).isEmpty() && n.attribute(u"id").startsWith(u'e')) {
            keptIds.append(n.attribute(u"id"));
            QVERIFY(n.child(u"delay", mucns::delay));
        }
    }
    QCOMPARE(keptIds, numbered(QStringLiteral("e"), 1, 3));
    QVERIFY2(again->expectNone(match::message(QStringLiteral("e1"))),
             qPrintable(again->errorString()));
}

QTEST_GUILESS_MAIN(TestSessionResumption)
#include "tst_session_resumption.moc"
