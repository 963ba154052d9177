// XEP-0198 on xbnc's upstream connection (issue #9 §3), against Prosody's mod_smacks through a
// TcpRelay that the test cuts like a network does. A short drop is resumed: the session gets
// every message exactly once and in order, bob and the room see no presence of the account
// change, and what the session sent meanwhile reaches bob once. When the server will not resume
// (its hibernation ran out), xbnc logs in again and sends what the server had not received,
// still exactly once.
#include "bouncer_fixture.h"
#include "muc_helpers.h"
#include "tcp_relay.h"
#include "wait.h"

#include <QtTest>

#include <functional>

namespace {

const QString room = QStringLiteral("resume@conference.localhost");
const QString aliceInRoom = room + QStringLiteral("/alice");
const QString bobInRoom = room + QStringLiteral("/bob");
const QString alice = QStringLiteral("alice@localhost");
const QString bob = QStringLiteral("bob@localhost");
// Short, so that the refused resumption is seconds away; a resumption is far quicker.
constexpr int hibernationSeconds = 3;

QByteArray chat(const QString &to, const QString &body)
{
    return QStringLiteral("<message to='%1' type='chat' id='%2'><body>%2</body></message>")
        .arg(to, body)
        .toUtf8();
}

QString bodyOf(const XmlNode &stanza)
{
    const XmlNode *body = stanza.name == u"message" ? stanza.child(u"body") : nullptr;
    return body ? body->text() : QString();
}

// The bodies of the messages among `stanzas` that are of that type, in order.
QStringList bodies(const QList<XmlNode> &stanzas, const QString &type)
{
    QStringList out;
    for (const XmlNode &stanza : stanzas)
        if (stanza.attribute(u"type") == type && !bodyOf(stanza).isEmpty())
            out << bodyOf(stanza);
    return out;
}

QStringList numbered(const QString &prefix, int from, int to)
{
    QStringList out;
    for (int i = from; i <= to; ++i)
        out << prefix + QString::number(i);
    return out;
}

// What `client` receives, in order, until `last` arrived, then up to a ping round trip.
std::optional<QList<XmlNode>> receiveThrough(TestClient &client,
                                             const std::function<bool(const XmlNode &)> &last)
{
    QList<XmlNode> received;
    const QDeadlineTimer deadline(BouncerFixture::timeoutMs);
    for (;;) {
        std::optional<XmlNode> stanza = client.readStanza(deadline);
        if (!stanza)
            return std::nullopt;
        received.append(*stanza);
        if (last(*stanza))
            break;
    }
    std::optional<QList<XmlNode>> rest = client.ping(deadline);
    if (!rest)
        return std::nullopt;
    return received + *rest;
}

std::function<bool(const XmlNode &)> withBody(const QString &body)
{
    return [body](const XmlNode &stanza) { return bodyOf(stanza) == body; };
}

bool isAccountPresence(const XmlNode &stanza)
{
    const QString from = stanza.attribute(u"from");
    return stanza.name == u"presence" && (from.startsWith(alice) || from == aliceInRoom);
}

} // namespace

class TestUpstreamResume : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void shortDropIsResumedUnnoticed();
    void refusedResumptionLogsInAgainWithoutLossOrDoubles();
    void silentLinkIsNoticedAndResumed();

private:
    bool phoneInRoom(TestClient **phone, TestClient **bobClient);

    BouncerFixture fixture_;
    TcpRelay relay_;
    bool roomCreated_ = false;
};

void TestUpstreamResume::initTestCase()
{
    fixture_.prosody().enableStreamManagement(hibernationSeconds);
    QVERIFY2(
        fixture_.startProsody({QStringLiteral("bob")}, BouncerFixture::Roster::OthersAreContacts),
        qPrintable(fixture_.errorString()));
    QVERIFY(relay_.listen(fixture_.prosody().c2sPort()));
    fixture_.setXbncConfig(QStringLiteral("upstream/port"), QString::number(relay_.port()));
    QVERIFY2(fixture_.startXbnc(), qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.xbnc().waitForLog(QStringLiteral("stream management enabled with "
                                                       "resumption")) >= 0,
             qPrintable(fixture_.xbnc().output()));
}

void TestUpstreamResume::cleanup()
{
    relay_.setFrozen(false);
    relay_.setRefusing(false);
    fixture_.finishTest();
}

void TestUpstreamResume::cleanupTestCase()
{
    fixture_.stop();
}

// The phone in the room with bob (direct to Prosody); both buffers empty.
bool TestUpstreamResume::phoneInRoom(TestClient **phone, TestClient **bobClient)
{
    QString error;
    *bobClient = fixture_.direct(QStringLiteral("bob"));
    *phone = fixture_.session(QStringLiteral("phone"));
    if (!*bobClient || !*phone) {
        qWarning() << fixture_.errorString();
        return false;
    }
    // A new bob replaces the previous test's, which leaves the room with its connection.
    const bool inRoom = roomCreated_
                            ? bool(muc::join(**bobClient, bobInRoom, &error))
                            : muc::createRoom(**bobClient, room, QStringLiteral("bob"), {}, &error);
    if (!inRoom) {
        qWarning() << error;
        return false;
    }
    roomCreated_ = true;
    if (!muc::join(**phone, aliceInRoom, &error)) {
        qWarning() << error;
        return false;
    }
    if (!(*phone)->ping() || !(*bobClient)->ping())
        return false;
    (*phone)->takeBuffered();
    (*bobClient)->takeBuffered();
    return true;
}

void TestUpstreamResume::shortDropIsResumedUnnoticed()
{
    TestClient *phone = nullptr;
    TestClient *bobClient = nullptr;
    QVERIFY(phoneInRoom(&phone, &bobClient));
    const qsizetype logMark = fixture_.xbnc().output().size();

    // Half of bob's burst arrives; the link goes dead for the other half and for what the
    // phone sends; then the connection is reset.
    QList<XmlNode> atPhone;
    for (int i = 1; i <= 10; ++i) {
        if (i == 6) {
            const std::optional<QList<XmlNode>> firstHalf =
                receiveThrough(*phone, withBody(QStringLiteral("g5")));
            QVERIFY2(firstHalf, qPrintable(phone->errorString()));
            atPhone = *firstHalf;
            relay_.setFrozen(true);
            for (const QString &body : numbered(QStringLiteral("p"), 1, 3))
                phone->send(chat(bob, body));
            QVERIFY(phone->roundTripWithinXbnc());
        }
        bobClient->send(chat(alice, QStringLiteral("b%1").arg(i)));
        bobClient->send(
            muc::groupchat(room, QStringLiteral("g%1").arg(i), QStringLiteral("g%1").arg(i)));
    }
    QVERIFY(bobClient->roundTrip()); // Prosody has routed all of it
    QVERIFY(waitUntil([&] { return relay_.lostToClient() > 0; },
                      QDeadlineTimer(BouncerFixture::timeoutMs)));
    relay_.cut();
    relay_.setFrozen(false);
    phone->send(chat(bob, QStringLiteral("p4"))); // while xbnc resumes
    QVERIFY2(fixture_.xbnc().waitForLog(QStringLiteral("upstream resumed"),
                                        QDeadlineTimer(BouncerFixture::timeoutMs), logMark) >= 0,
             qPrintable(fixture_.xbnc().output().mid(logMark)));

    // phone: b1…b10 and g1…g10 exactly once each, in order.
    const std::optional<QList<XmlNode>> secondHalf =
        receiveThrough(*phone, withBody(QStringLiteral("g10")));
    QVERIFY2(secondHalf, qPrintable(phone->errorString()));
    atPhone += *secondHalf;
    QCOMPARE(bodies(atPhone, QStringLiteral("chat")), numbered(QStringLiteral("b"), 1, 10));
    QCOMPARE(bodies(atPhone, QStringLiteral("groupchat")), numbered(QStringLiteral("g"), 1, 10));
    for (const XmlNode &stanza : std::as_const(atPhone))
        QVERIFY2(stanza.name != u"presence" || !muc::isFromRoom(stanza, room),
                 qPrintable("room presence churn at the phone: " + stanza.toXml()));

    // bob: p1…p4 exactly once, in order; no presence of alice, direct or in the room.
    const std::optional<QList<XmlNode>> atBob =
        receiveThrough(*bobClient, withBody(QStringLiteral("p4")));
    QVERIFY2(atBob, qPrintable(bobClient->errorString()));
    QCOMPARE(bodies(*atBob, QStringLiteral("chat")), numbered(QStringLiteral("p"), 1, 4));
    QVERIFY2(bobClient->expectNone(isAccountPresence), qPrintable(bobClient->errorString()));
    for (const XmlNode &stanza : *atBob)
        QVERIFY2(!isAccountPresence(stanza), qPrintable("bob saw " + stanza.toXml()));
    QVERIFY(!fixture_.xbnc().output().mid(logMark).contains(QStringLiteral("upstream online")));
}

void TestUpstreamResume::refusedResumptionLogsInAgainWithoutLossOrDoubles()
{
    TestClient *phone = nullptr;
    TestClient *bobClient = nullptr;
    QVERIFY(phoneInRoom(&phone, &bobClient));
    const qsizetype logMark = fixture_.xbnc().output().size();

    phone->send(chat(bob, QStringLiteral("q1")));
    QVERIFY(bobClient->readUntil(withBody(QStringLiteral("q1"))));
    relay_.setFrozen(true);
    for (const QString &body : numbered(QStringLiteral("q"), 2, 4))
        phone->send(chat(bob, body));
    QVERIFY(phone->roundTripWithinXbnc());
    relay_.setRefusing(true);
    relay_.cut();
    relay_.setFrozen(false);
    phone->send(chat(bob, QStringLiteral("q5"))); // while xbnc tries to resume
    // Prosody ends the hibernated session: bob sees alice go.
    QVERIFY2(bobClient->readUntil(
                 [](const XmlNode &s) {
                     return s.name == u"presence" && s.attribute(u"from").startsWith(alice) &&
                            s.attribute(u"type") == u"unavailable";
                 },
                 QDeadlineTimer((hibernationSeconds + 5) * 1000)),
             qPrintable(bobClient->errorString()));
    relay_.setRefusing(false);
    QVERIFY2(fixture_.xbnc().waitForLog(QStringLiteral("upstream online"),
                                        QDeadlineTimer(BouncerFixture::timeoutMs), logMark) >= 0,
             qPrintable(fixture_.xbnc().output().mid(logMark)));
    QVERIFY(fixture_.xbnc().output().mid(logMark).contains(
        QStringLiteral("would not resume the stream")));

    // q2…q4 were lost on the wire: sent again after the login, before q5 that waited in the
    // hub; q1 not again.
    const std::optional<QList<XmlNode>> atBob =
        receiveThrough(*bobClient, withBody(QStringLiteral("q5")));
    QVERIFY2(atBob, qPrintable(bobClient->errorString()));
    QCOMPARE(bodies(*atBob, QStringLiteral("chat")), numbered(QStringLiteral("q"), 2, 5));
    // The account is back in the room for the phone, which saw it rejoin without a leave.
    bobClient->send(muc::groupchat(room, QStringLiteral("after"), QStringLiteral("after")));
    QVERIFY2(phone->readUntil(muc::groupchatWithBody(room, QStringLiteral("after"))),
             qPrintable(phone->errorString()));
}

void TestUpstreamResume::silentLinkIsNoticedAndResumed()
{
    // No reset, no FIN: only the missing <a/> tells xbnc that the link is gone.
    TestClient *phone = nullptr;
    TestClient *bobClient = nullptr;
    QVERIFY(phoneInRoom(&phone, &bobClient));
    const qsizetype logMark = fixture_.xbnc().output().size();
    relay_.setFrozen(true);
    phone->send(chat(bob, QStringLiteral("s1")));
    bobClient->send(chat(alice, QStringLiteral("c1")));
    QVERIFY2(fixture_.xbnc().waitForLog(QStringLiteral("no acknowledgement from the server"),
                                        QDeadlineTimer(BouncerFixture::timeoutMs), logMark) >= 0,
             qPrintable(fixture_.xbnc().output().mid(logMark)));
    relay_.setFrozen(false);
    QVERIFY2(fixture_.xbnc().waitForLog(QStringLiteral("upstream resumed"),
                                        QDeadlineTimer(BouncerFixture::timeoutMs), logMark) >= 0,
             qPrintable(fixture_.xbnc().output().mid(logMark)));
    const std::optional<QList<XmlNode>> atPhone =
        receiveThrough(*phone, withBody(QStringLiteral("c1")));
    QVERIFY2(atPhone, qPrintable(phone->errorString()));
    QCOMPARE(bodies(*atPhone, QStringLiteral("chat")), QStringList{QStringLiteral("c1")});
    const std::optional<QList<XmlNode>> atBob =
        receiveThrough(*bobClient, withBody(QStringLiteral("s1")));
    QVERIFY2(atBob, qPrintable(bobClient->errorString()));
    QCOMPARE(bodies(*atBob, QStringLiteral("chat")), QStringList{QStringLiteral("s1")});
    for (const XmlNode &stanza : *atBob)
        QVERIFY2(!isAccountPresence(stanza), qPrintable("bob saw " + stanza.toXml()));
}

QTEST_GUILESS_MAIN(TestUpstreamResume)
#include "tst_upstream_resume.moc"
