// XEP-0198 across an xbnc restart, end to end: a phone with stream management on is cut off when
// xbnc stops (cleanly, or killed), the world goes on meanwhile — bob writes to alice and in a
// room — and after xbnc starts again the phone resumes its session: it gets exactly what it
// missed, stays in its rooms, and the account's presence is the phone's again.
#include "bouncer_fixture.h"
#include "muc_helpers.h"
#include "sm_connection.h"
#include "stanza_match.h"

#include <QtTest>

#include <csignal>

namespace {

const QString room = QStringLiteral("attic@conference.localhost");
const QString aliceInRoom = room + QStringLiteral("/alice");
const QString aliceJid = QStringLiteral("alice@localhost");

QStringList groupchatIds(const QList<XmlNode> &stanzas)
{
    return sm::groupchatIds(stanzas, room);
}

bool isItemNotFound(const XmlNode &n)
{
    return sm::is(n, u"failed") && n.child(u"item-not-found");
}

bool isAlicePresence(const XmlNode &n)
{
    return n.name == u"presence" && n.attribute(u"from").startsWith(aliceJid + u'/');
}

} // namespace

class TestRestartResumption : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void resumeAfterCleanRestart();
    void resumeAfterCrash();
    void tooManyHibernatingSessionsEndTheOldest();
    // Restarts xbnc with a short resume timeout: last.
    void sessionExpiredAcrossRestartLeavesItsMessagesForCatchUp();

private:
    // The phone logged in through xbnc as `resource`, owned by the test (the fixture would end
    // it cleanly when xbnc stops), with stream management and resumption on.
    // `beforeEnable` runs first (what it reads is not counted, as stream management is off).
    std::optional<sm::Connection>
    phoneWithSm(const QString &resource, const QByteArray &presence = "<presence/>",
                const std::function<bool(TestClient &)> &beforeEnable = {});
    // A new connection of the phone that sends <resume previd h/> after SASL: the first element
    // it gets back (<resumed/> or <failed/>), with the connection in *connection.
    std::optional<XmlNode> resume(const QString &resource, const QString &previd, quint32 h,
                                  TestClient **connection = nullptr);
    bool restartXbnc(bool crash);
    bool waitForLog(const QString &line);

    BouncerFixture fixture_;
    std::vector<std::unique_ptr<TestClient>> connections_;
    QString previd_;
    qsizetype logMark_ = 0;
};

void TestRestartResumption::initTestCase()
{
    fixture_.setXbncConfig(QStringLiteral("sessions/resume_timeout"), QStringLiteral("300"));
    QVERIFY2(fixture_.start({QStringLiteral("bob")}, BouncerFixture::Roster::OthersAreContacts),
             qPrintable(fixture_.errorString()));
}

void TestRestartResumption::cleanup()
{
    connections_.clear();
    fixture_.finishTest();
    logMark_ = fixture_.xbnc().outputSize();
}

void TestRestartResumption::cleanupTestCase()
{
    fixture_.stop();
}

std::optional<sm::Connection>
TestRestartResumption::phoneWithSm(const QString &resource, const QByteArray &presence,
                                   const std::function<bool(TestClient &)> &beforeEnable)
{
    auto client = std::make_unique<TestClient>(resource);
    TestClientOptions options = fixture_.sessionOptions(resource);
    options.initialPresence = presence;
    if (!client->login(options) || !client->roundTrip()) {
        qWarning().noquote() << client->errorString();
        return std::nullopt;
    }
    if (beforeEnable && !beforeEnable(*client))
        return std::nullopt;
    connections_.push_back(std::move(client));
    sm::Connection phone(connections_.back().get());
    const std::optional<XmlNode> enabled = phone.enable();
    if (!enabled || !sm::is(*enabled, u"enabled")) {
        qWarning().noquote() << "no <enabled/>:" << phone.client->errorString();
        return std::nullopt;
    }
    previd_ = enabled->attribute(u"id");
    return phone;
}

std::optional<XmlNode> TestRestartResumption::resume(const QString &resource, const QString &previd,
                                                     quint32 h, TestClient **connection)
{
    auto client = std::make_unique<TestClient>(resource + QStringLiteral("-again"));
    if (!client->connectAndSecure(fixture_.sessionOptions(resource)) || !client->authenticate()) {
        qWarning().noquote() << client->errorString();
        return std::nullopt;
    }
    client->send("<resume xmlns='urn:xmpp:sm:3' previd='" + previd.toUtf8() + "' h='" +
                 QByteArray::number(h) + "'/>");
    std::optional<XmlNode> answer = client->readStanza(QDeadlineTimer(10000));
    if (!answer)
        qWarning().noquote() << client->errorString();
    connections_.push_back(std::move(client));
    if (connection)
        *connection = connections_.back().get();
    return answer;
}

bool TestRestartResumption::restartXbnc(bool crash)
{
    if (crash) {
        if (!fixture_.xbnc().sendSignal(SIGKILL))
            return false;
        fixture_.xbnc().stop(); // reaps it; a killed process is no clean exit
    } else if (!fixture_.stopXbnc()) {
        qWarning().noquote() << fixture_.errorString();
        return false;
    }
    logMark_ = 0;
    if (!fixture_.startXbnc()) {
        qWarning().noquote() << fixture_.errorString();
        return false;
    }
    return true;
}

bool TestRestartResumption::waitForLog(const QString &line)
{
    const qsizetype found = fixture_.xbnc().waitForLog(line, QDeadlineTimer(10000), logMark_);
    if (found < 0)
        return false;
    logMark_ = found;
    return true;
}

void TestRestartResumption::resumeAfterCleanRestart()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    QString error;
    QVERIFY2(muc::createRoom(*bob, room, QStringLiteral("bob"), {}, &error), qPrintable(error));
    std::optional<sm::Connection> phone =
        phoneWithSm(QStringLiteral("phone"), "<presence><show>dnd</show></presence>",
                    [&error](TestClient &client) {
                        return muc::join(client, aliceInRoom, &error).has_value();
                    });
    QVERIFY2(phone, qPrintable(error));
    QVERIFY2(bob->readUntil(muc::presenceFrom(aliceInRoom)), qPrintable(bob->errorString()));
    phone->client->send(
        "<message to='bob@localhost' type='chat' id='p1'><body>hi</body></message>");
    QVERIFY2(bob->readUntil(match::message(QStringLiteral("p1"))), qPrintable(bob->errorString()));

    // Traffic flows; the phone has handled part of it when xbnc stops.
    for (int i = 1; i <= 3; ++i) {
        bob->send(sm::chatFromBob(QStringLiteral("c%1").arg(i)));
        bob->send(muc::groupchat(room, QStringLiteral("g%1").arg(i), QStringLiteral("g%1").arg(i)));
    }
    QVERIFY2(phone->until(match::message(QStringLiteral("c2"))),
             qPrintable(phone->client->errorString()));
    QVERIFY2(bob->readUntil(muc::groupchatWithBody(room, QStringLiteral("g3"))),
             qPrintable(bob->errorString()));
    const QList<XmlNode> beforeRestart = phone->handled;
    const quint32 h = phone->h();
    bob->takeBuffered();

    QVERIFY(restartXbnc(false));
    // While xbnc was down the world went on.
    for (int i = 4; i <= 6; ++i) {
        bob->send(sm::chatFromBob(QStringLiteral("c%1").arg(i)));
        bob->send(muc::groupchat(room, QStringLiteral("g%1").arg(i), QStringLiteral("g%1").arg(i)));
    }
    QVERIFY2(bob->readUntil(muc::groupchatWithBody(room, QStringLiteral("g6"))),
             qPrintable(bob->errorString()));
    // The account is back with the phone's presence, never the idle one.
    const std::optional<XmlNode> presence = bob->readUntil(
        [](const XmlNode &n) { return isAlicePresence(n) && n.attribute(u"type").isEmpty(); });
    QVERIFY2(presence, qPrintable(bob->errorString()));
    QVERIFY2(presence->child(u"show") && presence->child(u"show")->text() == u"dnd",
             presence->toXml().constData());

    TestClient *again = nullptr;
    const std::optional<XmlNode> resumed = resume(QStringLiteral("phone"), previd_, h, &again);
    QVERIFY(resumed);
    QVERIFY2(sm::is(*resumed, u"resumed"), resumed->toXml().constData());
    QCOMPARE(resumed->attribute(u"h"), QStringLiteral("1")); // the phone's one message
    QCOMPARE(resumed->attribute(u"previd"), previd_);

    // Exactly what the phone missed, from before the stop and while xbnc was down.
    sm::Connection resumedPhone(again, h);
    QVERIFY2(resumedPhone.until(match::message(QStringLiteral("c6"))),
             qPrintable(again->errorString()));
    if (!groupchatIds(resumedPhone.handled).contains(QStringLiteral("g6")))
        QVERIFY2(resumedPhone.until(muc::groupchatWithBody(room, QStringLiteral("g6"))),
                 qPrintable(again->errorString()));
    const QList<XmlNode> all = beforeRestart + resumedPhone.handled;
    QCOMPARE(sm::chatIds(all), sm::numbered(QStringLiteral("c"), 1, 6));
    QCOMPARE(groupchatIds(all), sm::numbered(QStringLiteral("g"), 1, 6));

    // Still in the room, without joining again, and acks line up with the restored count.
    bob->send(muc::groupchat(room, QStringLiteral("g7"), QStringLiteral("g7")));
    QVERIFY2(resumedPhone.until(muc::groupchatWithBody(room, QStringLiteral("g7"))),
             qPrintable(again->errorString()));
    again->send("<a xmlns='urn:xmpp:sm:3' h='" + QByteArray::number(resumedPhone.h()) + "'/>");
    again->send("<message to='bob@localhost' type='chat' id='p2'><body>back</body></message>"
                "<r xmlns='urn:xmpp:sm:3'/>");
    QVERIFY2(bob->readUntil(match::message(QStringLiteral("p2"))), qPrintable(bob->errorString()));
    QVERIFY2(resumedPhone.until(
                 [](const XmlNode &n) { return sm::is(n, u"a") && n.attribute(u"h") == u"2"; }),
             qPrintable(again->errorString()));
    QVERIFY(again->isOpen());
}

void TestRestartResumption::resumeAfterCrash()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    std::optional<sm::Connection> phone = phoneWithSm(QStringLiteral("tablet"));
    QVERIFY(phone);
    QVERIFY2(waitForLog(QStringLiteral("resumable session of resource \"tablet\" saved")),
             qPrintable(fixture_.xbnc().output().mid(logMark_)));
    for (int i = 11; i <= 13; ++i)
        bob->send(sm::chatFromBob(QStringLiteral("c%1").arg(i)));
    QVERIFY2(phone->until(match::message(QStringLiteral("c13"))),
             qPrintable(phone->client->errorString()));
    const quint32 h = phone->h();

    // Killed: whatever the last save missed of the tablet's counters is lost with it.
    QVERIFY(restartXbnc(true));
    bob->send(sm::chatFromBob(QStringLiteral("c14")));

    TestClient *again = nullptr;
    const std::optional<XmlNode> resumed = resume(QStringLiteral("tablet"), previd_, h, &again);
    QVERIFY(resumed);
    QVERIFY2(sm::is(*resumed, u"resumed"), resumed->toXml().constData());
    sm::Connection resumedPhone(again, h);
    QVERIFY2(resumedPhone.until(match::message(QStringLiteral("c14"))),
             qPrintable(again->errorString()));
    // What the tablet had before the crash does not come again.
    QCOMPARE(sm::chatIds(resumedPhone.handled), QStringList{QStringLiteral("c14")});
}

// Not about restarts, but it needs its own bound, and a restart to set it.
void TestRestartResumption::tooManyHibernatingSessionsEndTheOldest()
{
    fixture_.setXbncConfig(QStringLiteral("sessions/max_hibernating_sessions"),
                           QStringLiteral("1"));
    QVERIFY(restartXbnc(false));
    std::optional<sm::Connection> first = phoneWithSm(QStringLiteral("first"));
    QVERIFY(first);
    const QString firstId = previd_;
    first->client->abortConnection();
    QVERIFY2(waitForLog(QStringLiteral("hibernates: its connection was lost")),
             qPrintable(fixture_.xbnc().output()));
    std::optional<sm::Connection> second = phoneWithSm(QStringLiteral("second"));
    QVERIFY(second);
    second->client->abortConnection();
    QVERIFY2(waitForLog(QStringLiteral("resource \"first\" ends: more sessions hibernate than "
                                       "max_hibernating_sessions")),
             qPrintable(fixture_.xbnc().output()));

    const std::optional<XmlNode> failed = resume(QStringLiteral("first"), firstId, 0);
    QVERIFY(failed);
    QVERIFY2(isItemNotFound(*failed), failed->toXml().constData());
    const std::optional<XmlNode> resumed = resume(QStringLiteral("second"), previd_, 0);
    QVERIFY(resumed);
    QVERIFY2(sm::is(*resumed, u"resumed"), resumed->toXml().constData());
}

void TestRestartResumption::sessionExpiredAcrossRestartLeavesItsMessagesForCatchUp()
{
    // A session keeps the resume timeout it was given when it enabled resumption.
    fixture_.setXbncConfig(QStringLiteral("sessions/resume_timeout"), QStringLiteral("1"));
    QVERIFY(restartXbnc(false));
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    std::optional<sm::Connection> phone = phoneWithSm(QStringLiteral("watch"));
    QVERIFY(phone);
    bob->send(sm::chatFromBob(QStringLiteral("c21")));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    bob->send(sm::chatFromBob(QStringLiteral("c22")));
    QVERIFY2(laptop->readUntil(match::message(QStringLiteral("c22"))),
             qPrintable(laptop->errorString()));

    // Back after longer than the watch may hibernate: its session ends, and the messages it
    // never acknowledged wait for its next session.
    QVERIFY(restartXbnc(false));
    QVERIFY2(waitForLog(QStringLiteral("ends: its resume timeout ran out")),
             qPrintable(fixture_.xbnc().output()));
    const std::optional<XmlNode> failed = resume(QStringLiteral("watch"), previd_, 0);
    QVERIFY(failed);
    QVERIFY2(isItemNotFound(*failed), failed->toXml().constData());

    TestClient *fresh = fixture_.session(QStringLiteral("watch"));
    QVERIFY2(fresh, qPrintable(fixture_.errorString()));
    QList<XmlNode> got = fresh->takeBuffered();
    while (!sm::chatIds(got).contains(QStringLiteral("c22"))) {
        const std::optional<XmlNode> n = fresh->readStanza(QDeadlineTimer(10000));
        QVERIFY2(n, qPrintable(fresh->errorString()));
        got.append(*n);
    }
    QCOMPARE(sm::chatIds(got), sm::numbered(QStringLiteral("c"), 21, 22));
}

QTEST_GUILESS_MAIN(TestRestartResumption)
#include "tst_restart_resumption.moc"
