// XEP-0357 through the real xbnc and Prosody with mod_cloud_notify (issue #10 §2). The app
// servers are raw clients on Prosody that record the publishes they get: fpush@localhost/app
// stands for Monal's fpush (the direct route: xbnc publishes from the account's full JID);
// pushsvc@localhost/app for Conversations' app server, which takes a publish only from a bare
// JID of the domain (the server route: Prosody publishes).
#include "bouncer_fixture.h"
#include "stanza_match.h"
#include "wait.h"

#include <QtTest>

namespace {

const QString fpush = QStringLiteral("fpush@localhost/app");
const QString conversationsPush = QStringLiteral("pushsvc@localhost/app");

// <enable/> for that app server with a publish-options form of one field: Monal sends
// pushModule, Conversations secret.
QByteArray enablePush(const QString &appServer, const QString &node,
                      const QString &field = QStringLiteral("pushModule"),
                      const QString &value = QStringLiteral("prod"))
{
    return "<iq type='set' id='push-on'><enable xmlns='urn:xmpp:push:0' jid='" +
           appServer.toUtf8() + "' node='" + node.toUtf8() +
           "'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"
           "http://jabber.org/protocol/pubsub#publish-options</value></field><field var='" +
           field.toUtf8() + "'><value>" + value.toUtf8() + "</value></field></x></enable></iq>";
}

QByteArray chatFromBob(const QString &id)
{
    return "<message to='alice@localhost' type='chat' id='" + id.toUtf8() + "'><body>" +
           id.toUtf8() + "</body></message>";
}

bool isPublish(const XmlNode &n)
{
    const XmlNode *pubsub = n.child(u"pubsub", u"http://jabber.org/protocol/pubsub");
    return n.name == u"iq" && n.attribute(u"type") == u"set" && pubsub && pubsub->child(u"publish");
}

bool isFromABareJidOfLocalhost(const XmlNode &n)
{
    const QString from = n.attribute(u"from");
    return !from.contains(u'/') && (from == u"localhost" || from.endsWith(u"@localhost"));
}

QString nodeOf(const XmlNode &publish)
{
    return publish.child(u"pubsub")->child(u"publish")->attribute(u"node");
}

// The value of a field of a data form, or a null string.
QString fieldValue(const XmlNode *form, const QString &var)
{
    if (!form)
        return {};
    for (const XmlNode &field : form->children)
        if (field.name == u"field" && field.attribute(u"var") == var && field.child(u"value"))
            return field.child(u"value")->text();
    return {};
}

const XmlNode *publishOptions(const XmlNode &publish)
{
    const XmlNode *options = publish.child(u"pubsub")->child(u"publish-options");
    return options ? options->child(u"x", u"jabber:x:data") : nullptr;
}

// The answer of Conversations' app server: it refuses what does not come from its users'
// servers.
QByteArray conversationsAnswer(const XmlNode &publish)
{
    const QByteArray head = "<iq id='" + publish.attribute(u"id").toUtf8() + "' to='" +
                            publish.attribute(u"from").toUtf8() + "' type=";
    if (!isFromABareJidOfLocalhost(publish))
        return head + "'error'><error type='auth'><forbidden "
                      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
    return head + "'result'/>";
}

} // namespace

class TestPush : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void enableIsAnsweredAndTheBareJidShowsPush();
    void aHibernatingPhoneGetsOnePublishPerBurst();
    void anAppServerErrorEndsTheRegistration();
    void theServerRoutePublishesFromTheDomainWhileThePhoneIsAway();

private:
    // Bob straight to Prosody, and the laptop, a device of alice's that stays connected: the
    // witnesses of a test (nullptr on failure).
    std::pair<TestClient *, TestClient *> bobAndLaptop();
    // An app server's connection, as `user`/app; null on failure.
    std::unique_ptr<TestClient> appServerClient(const QString &user);
    // A session of `device` through xbnc whose <enable/> (enablePush) was answered.
    TestClient *pushingSession(const QString &device, const QByteArray &enable);
    // Bob's message reaches the laptop, a device of alice's connected before bob wrote (so xbnc
    // has handled it, and sent any publish of its own before it), then the laptop sends the app
    // server a marker through xbnc's upstream stream: xbnc's publishes for that message come
    // before the marker, and so do Prosody's, made before it routed the message on. Returns the
    // publishes read until then, answered as that app server does.
    std::optional<QList<XmlNode>> publishesUpTo(TestClient &laptop, const QString &bobMessageId,
                                                TestClient &appServer);
    bool waitForLog(const QString &line);
    // Until xbnc's hub has ended the latest session of `device` (its client closed it).
    bool waitUntilClosed(const QString &device);

    BouncerFixture fixture_;
    std::unique_ptr<TestClient> fpush_;
    std::unique_ptr<TestClient> conversationsPush_;
    qsizetype logMark_ = 0;
};

void TestPush::initTestCase()
{
    fixture_.prosody().enableModules({QStringLiteral("cloud_notify")});
    // Debug: the server route's test waits for the end of xbnc's login as the device.
    fixture_.prosody().setLogLevel(QStringLiteral("debug"));
    QVERIFY2(
        fixture_.start({QStringLiteral("bob"), QStringLiteral("fpush"), QStringLiteral("pushsvc")}),
        qPrintable(fixture_.errorString()));
    fpush_ = appServerClient(QStringLiteral("fpush"));
    conversationsPush_ = appServerClient(QStringLiteral("pushsvc"));
    QVERIFY(fpush_ && conversationsPush_);
}

void TestPush::cleanup()
{
    fixture_.finishTest();
    logMark_ = fixture_.xbnc().outputSize();
}

void TestPush::cleanupTestCase()
{
    fpush_.reset();
    conversationsPush_.reset();
    fixture_.stop();
}

std::pair<TestClient *, TestClient *> TestPush::bobAndLaptop()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    return {bob, bob ? fixture_.session(QStringLiteral("laptop")) : nullptr};
}

std::unique_ptr<TestClient> TestPush::appServerClient(const QString &user)
{
    auto client = std::make_unique<TestClient>(user);
    if (!client->login(fixture_.directOptions(user, QStringLiteral("app")))) {
        qWarning().noquote() << user << "login:" << client->errorString();
        return nullptr;
    }
    return client;
}

TestClient *TestPush::pushingSession(const QString &device, const QByteArray &enable)
{
    TestClient *session = fixture_.session(device);
    if (!session)
        return nullptr;
    session->send(enable);
    const std::optional<XmlNode> answer = session->readUntil(match::iq(QStringLiteral("push-on")));
    if (!answer || answer->attribute(u"type") != u"result") {
        qWarning().noquote() << "enable:" << (answer ? answer->toXml() : session->errorString());
        return nullptr;
    }
    return session;
}

std::optional<QList<XmlNode>>
TestPush::publishesUpTo(TestClient &laptop, const QString &bobMessageId, TestClient &appServer)
{
    if (!laptop.readUntil(match::message(bobMessageId))) {
        qWarning().noquote() << "laptop:" << laptop.errorString();
        return std::nullopt;
    }
    laptop.send("<message to='" + appServer.name().toUtf8() +
                "@localhost/app' type='chat' id='marker'><body>marker</body></message>");
    if (!appServer.readUntil(match::message(QStringLiteral("marker")))) {
        qWarning().noquote() << "app server:" << appServer.errorString();
        return std::nullopt;
    }
    QList<XmlNode> publishes;
    for (const XmlNode &n : appServer.takeBuffered()) {
        if (!isPublish(n))
            continue;
        if (&appServer == conversationsPush_.get())
            appServer.send(conversationsAnswer(n));
        publishes.append(n);
    }
    return publishes;
}

bool TestPush::waitForLog(const QString &line)
{
    const qsizetype found = fixture_.xbnc().waitForLog(line, QDeadlineTimer(10000), logMark_);
    if (found < 0)
        return false;
    logMark_ = found;
    return true;
}

bool TestPush::waitUntilClosed(const QString &device)
{
    const QRegularExpression bound(QStringLiteral("session (\\d+) bound as resource ") +
                                   QRegularExpression::escape(device) + u'\n');
    QString id;
    for (const QRegularExpressionMatch &m : bound.globalMatch(fixture_.xbnc().output()))
        id = m.captured(1);
    if (id.isEmpty())
        return false;
    const QRegularExpression closed(QStringLiteral("xbnc\\.bouncer: session %1 closed\n").arg(id));
    const qsizetype found = fixture_.xbnc().waitForLog(closed, QDeadlineTimer(10000), logMark_);
    if (found < 0)
        return false;
    logMark_ = found;
    return true;
}

void TestPush::enableIsAnsweredAndTheBareJidShowsPush()
{
    TestClient *phone =
        pushingSession(QStringLiteral("disco-phone"), enablePush(fpush, QStringLiteral("n0")));
    QVERIFY(phone);
    phone->send("<iq type='get' id='d1' to='alice@localhost'><query "
                "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    const std::optional<XmlNode> info = phone->readUntil(match::iq(QStringLiteral("d1")));
    QVERIFY2(info, qPrintable(phone->errorString()));
    QCOMPARE(info->attribute(u"type"), QStringLiteral("result"));
    int push = 0;
    for (const XmlNode &feature : info->child(u"query")->children)
        push += feature.attribute(u"var") == u"urn:xmpp:push:0" ? 1 : 0;
    QCOMPARE(push, 1); // Prosody has it too: once
    // A bad request is refused, and nothing of it reaches the app server.
    phone->send("<iq type='set' id='bad'><enable xmlns='urn:xmpp:push:0' node='x'/></iq>");
    const std::optional<XmlNode> refused = phone->readUntil(match::iq(QStringLiteral("bad")));
    QVERIFY2(refused, qPrintable(phone->errorString()));
    QCOMPARE(refused->attribute(u"type"), QStringLiteral("error"));
    QVERIFY(refused->child(u"error")->child(u"bad-request"));
    phone->send("<iq type='set' id='off'><disable xmlns='urn:xmpp:push:0' jid='" + fpush.toUtf8() +
                "'/></iq>");
    const std::optional<XmlNode> off = phone->readUntil(match::iq(QStringLiteral("off")));
    QVERIFY2(off, qPrintable(phone->errorString()));
    QCOMPARE(off->attribute(u"type"), QStringLiteral("result"));
}

void TestPush::aHibernatingPhoneGetsOnePublishPerBurst()
{
    TestClient *phone =
        pushingSession(QStringLiteral("phone"), enablePush(fpush, QStringLiteral("n1")));
    QVERIFY(phone);
    phone->send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    QVERIFY(phone->readUntil([](const XmlNode &n) { return n.name == u"enabled"; }));
    const auto [bob, laptop] = bobAndLaptop();
    QVERIFY2(bob && laptop, qPrintable(fixture_.errorString()));
    phone->abortConnection();
    QVERIFY(waitForLog(QStringLiteral("hibernates: its connection was lost")));

    bob->send(chatFromBob(QStringLiteral("m1")));
    bob->send(chatFromBob(QStringLiteral("m2")));
    const std::optional<QList<XmlNode>> publishes =
        publishesUpTo(*laptop, QStringLiteral("m2"), *fpush_);
    QVERIFY(publishes);
    QCOMPARE(publishes->size(), 1); // two messages, one burst
    const XmlNode &publish = publishes->first();
    QCOMPARE(publish.attribute(u"from"), QStringLiteral("alice@localhost/xbnc"));
    QCOMPARE(nodeOf(publish), QStringLiteral("n1"));
    const XmlNode *summary = publish.child(u"pubsub")
                                 ->child(u"publish")
                                 ->child(u"item")
                                 ->child(u"notification", u"urn:xmpp:push:0");
    QVERIFY(summary);
    const XmlNode *form = summary->child(u"x", u"jabber:x:data");
    QCOMPARE(fieldValue(form, QStringLiteral("FORM_TYPE")),
             QStringLiteral("urn:xmpp:push:summary"));
    QCOMPARE(fieldValue(form, QStringLiteral("message-count")), QStringLiteral("1"));
    QVERIFY(fieldValue(form, QStringLiteral("last-message-body")).isNull()); // not configured
    QCOMPARE(fieldValue(publishOptions(publish), QStringLiteral("pushModule")),
             QStringLiteral("prod"));
    fpush_->send("<iq type='result' id='" + publish.attribute(u"id").toUtf8() + "' to='" +
                 publish.attribute(u"from").toUtf8() + "'/>");
}

void TestPush::anAppServerErrorEndsTheRegistration()
{
    TestClient *tablet =
        pushingSession(QStringLiteral("tablet"), enablePush(fpush, QStringLiteral("n2")));
    QVERIFY(tablet);
    const auto [bob, laptop] = bobAndLaptop();
    QVERIFY2(bob && laptop, qPrintable(fixture_.errorString()));
    tablet->disconnectFromServer();
    QVERIFY(waitUntilClosed(QStringLiteral("tablet")));

    // Conversations' app server refuses what xbnc publishes from the account's full JID; so
    // would fpush once the device is unknown to it: either way the registration is dead.
    bob->send(chatFromBob(QStringLiteral("m3")));
    std::optional<QList<XmlNode>> publishes = publishesUpTo(*laptop, QStringLiteral("m3"), *fpush_);
    QVERIFY(publishes);
    QCOMPARE(publishes->size(), 1);
    const XmlNode &publish = publishes->first();
    QCOMPARE(nodeOf(publish), QStringLiteral("n2"));
    fpush_->send("<iq type='error' id='" + publish.attribute(u"id").toUtf8() + "' to='" +
                 publish.attribute(u"from").toUtf8() +
                 "'><error type='cancel'><item-not-found "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    QVERIFY(waitForLog(QStringLiteral("that registration is removed")));

    // The tablet comes back (a new burst) and goes again: nothing is published any more.
    tablet = fixture_.session(QStringLiteral("tablet"));
    QVERIFY2(tablet, qPrintable(fixture_.errorString()));
    tablet->disconnectFromServer();
    QVERIFY(waitUntilClosed(QStringLiteral("tablet")));
    bob->send(chatFromBob(QStringLiteral("m4")));
    publishes = publishesUpTo(*laptop, QStringLiteral("m4"), *fpush_);
    QVERIFY(publishes);
    QCOMPARE(publishes->size(), 0);
}

// Conversations' app server: nothing xbnc can send from its connection is accepted. The
// phone's registration goes to Prosody's mod_cloud_notify from a short login of xbnc's as the
// phone, and Prosody publishes from its domain; while the phone is connected xbnc disables it
// there again.
void TestPush::theServerRoutePublishesFromTheDomainWhileThePhoneIsAway()
{
    const auto [bob, laptop] = bobAndLaptop();
    QVERIFY2(bob && laptop, qPrintable(fixture_.errorString()));
    const QString device = QStringLiteral("conversations");
    TestClient *phone = fixture_.session(device);
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    // Conversations asks first whether the account has push; xbnc learns the server has it.
    phone->send("<iq type='get' id='d2' to='alice@localhost'><query "
                "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    QVERIFY2(phone->readUntil(match::iq(QStringLiteral("d2"))), qPrintable(phone->errorString()));
    phone = pushingSession(device, enablePush(conversationsPush, QStringLiteral("n3"),
                                              QStringLiteral("secret"), QStringLiteral("s3cr3t")));
    QVERIFY(phone);
    phone->disconnectFromServer();
    QVERIFY(waitForLog(QStringLiteral("push for device conversations: enabled on the server")));
    // Prosody notifies for a registration only while no session of it is alive; the login has
    // just been closed, and Prosody may not have read that yet when bob's message comes.
    QVERIFY(waitUntil(
        [this] {
            return fixture_.prosody().logText().contains(
                u"Unbinding resource for alice@localhost/xbnc-push-conversations");
        },
        QDeadlineTimer(10000)));

    bob->send(chatFromBob(QStringLiteral("m5")));
    std::optional<QList<XmlNode>> publishes =
        publishesUpTo(*laptop, QStringLiteral("m5"), *conversationsPush_);
    QVERIFY(publishes);
    QCOMPARE(publishes->size(), 1); // Prosody's, and none of xbnc's
    const XmlNode &publish = publishes->first();
    QVERIFY2(isFromABareJidOfLocalhost(publish), publish.toXml().constData());
    QCOMPARE(nodeOf(publish), QStringLiteral("n3"));
    QCOMPARE(fieldValue(publishOptions(publish), QStringLiteral("secret")),
             QStringLiteral("s3cr3t"));

    // Back through xbnc: disabled on the server, so the phone is not woken for nothing.
    phone = fixture_.session(device);
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY(waitForLog(QStringLiteral("push for device \"conversations\" disabled on the server")));
    bob->send(chatFromBob(QStringLiteral("m6")));
    QVERIFY(phone->readUntil(match::message(QStringLiteral("m6"))));
    publishes = publishesUpTo(*laptop, QStringLiteral("m6"), *conversationsPush_);
    QVERIFY(publishes);
    QCOMPARE(publishes->size(), 0);
}

QTEST_GUILESS_MAIN(TestPush)
#include "tst_push.moc"
