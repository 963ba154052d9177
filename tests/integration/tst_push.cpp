// XEP-0357 through the real xbnc and Prosody (issue #10 §2), the direct route of Monal's
// fpush-style app servers: a phone's <enable/> is answered by xbnc, the account's bare JID
// shows urn:xmpp:push:0, and while the phone is away xbnc publishes to the app server, here a
// raw client logged in as pushsvc@localhost/app that records the publishes.
#include "bouncer_fixture.h"
#include "stanza_match.h"

#include <QtTest>

namespace {

const QString appServer = QStringLiteral("pushsvc@localhost/app");

QByteArray enablePush(const QString &id, const QString &node)
{
    return "<iq type='set' id='" + id.toUtf8() + "'><enable xmlns='urn:xmpp:push:0' jid='" +
           appServer.toUtf8() + "' node='" + node.toUtf8() +
           "'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"
           "http://jabber.org/protocol/pubsub#publish-options</value></field><field "
           "var='pushModule'><value>prod</value></field></x></enable></iq>";
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

private:
    // The app server's connection; null on failure.
    TestClient *appServerClient();
    // A session of `device` through xbnc that enabled push for `node`.
    TestClient *pushingSession(const QString &device, const QString &node);
    // Bob's message reaches the laptop (so xbnc has handled it and sent any publish before it),
    // then the laptop sends the app server a marker through the same upstream stream: every
    // publish for that message is before the marker. Returns the publishes read until then.
    // The laptop, another device of alice's, connected before bob writes.
    std::optional<QList<XmlNode>> publishesUpTo(TestClient &laptop, const QString &bobMessageId);
    bool waitForLog(const QString &line);

    BouncerFixture fixture_;
    std::unique_ptr<TestClient> appServer_;
    qsizetype logMark_ = 0;
};

void TestPush::initTestCase()
{
    QVERIFY2(fixture_.start({QStringLiteral("bob"), QStringLiteral("pushsvc")}),
             qPrintable(fixture_.errorString()));
    QVERIFY(appServerClient());
}

void TestPush::cleanup()
{
    fixture_.finishTest();
    logMark_ = fixture_.xbnc().outputSize();
}

void TestPush::cleanupTestCase()
{
    appServer_.reset();
    fixture_.stop();
}

TestClient *TestPush::appServerClient()
{
    if (!appServer_) {
        appServer_ = std::make_unique<TestClient>(QStringLiteral("pushsvc"));
        if (!appServer_->login(
                fixture_.directOptions(QStringLiteral("pushsvc"), QStringLiteral("app")))) {
            qWarning().noquote() << "app server login:" << appServer_->errorString();
            appServer_.reset();
        }
    }
    return appServer_.get();
}

TestClient *TestPush::pushingSession(const QString &device, const QString &node)
{
    TestClient *session = fixture_.session(device);
    if (!session)
        return nullptr;
    session->send(enablePush(QStringLiteral("push-on"), node));
    const std::optional<XmlNode> answer = session->readUntil(match::iq(QStringLiteral("push-on")));
    if (!answer || answer->attribute(u"type") != u"result") {
        qWarning().noquote() << "enable:" << (answer ? answer->toXml() : session->errorString());
        return nullptr;
    }
    return session;
}

std::optional<QList<XmlNode>> TestPush::publishesUpTo(TestClient &laptop,
                                                      const QString &bobMessageId)
{
    if (!laptop.readUntil(match::message(bobMessageId))) {
        qWarning().noquote() << "laptop:" << laptop.errorString();
        return std::nullopt;
    }
    laptop.send("<message to='" + appServer.toUtf8() +
                "' type='chat' id='marker'><body>marker</body></message>");
    if (!appServer_->readUntil(match::message(QStringLiteral("marker")))) {
        qWarning().noquote() << "app server:" << appServer_->errorString();
        return std::nullopt;
    }
    QList<XmlNode> publishes;
    for (const XmlNode &n : appServer_->takeBuffered())
        if (isPublish(n))
            publishes.append(n);
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

void TestPush::enableIsAnsweredAndTheBareJidShowsPush()
{
    TestClient *phone = pushingSession(QStringLiteral("disco-phone"), QStringLiteral("n0"));
    QVERIFY(phone);
    phone->send("<iq type='get' id='d1' to='alice@localhost'><query "
                "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    const std::optional<XmlNode> info = phone->readUntil(match::iq(QStringLiteral("d1")));
    QVERIFY2(info, qPrintable(phone->errorString()));
    QCOMPARE(info->attribute(u"type"), QStringLiteral("result"));
    bool push = false;
    for (const XmlNode &feature : info->child(u"query")->children)
        push = push || feature.attribute(u"var") == u"urn:xmpp:push:0";
    QVERIFY2(push, info->toXml().constData());
    // A bad request is refused, and nothing of it reaches the app server.
    phone->send("<iq type='set' id='bad'><enable xmlns='urn:xmpp:push:0' node='x'/></iq>");
    const std::optional<XmlNode> refused = phone->readUntil(match::iq(QStringLiteral("bad")));
    QVERIFY2(refused, qPrintable(phone->errorString()));
    QCOMPARE(refused->attribute(u"type"), QStringLiteral("error"));
    QVERIFY(refused->child(u"error")->child(u"bad-request"));
    phone->send("<iq type='set' id='off'><disable xmlns='urn:xmpp:push:0' jid='" +
                appServer.toUtf8() + "'/></iq>");
    const std::optional<XmlNode> off = phone->readUntil(match::iq(QStringLiteral("off")));
    QVERIFY2(off, qPrintable(phone->errorString()));
    QCOMPARE(off->attribute(u"type"), QStringLiteral("result"));
}

void TestPush::aHibernatingPhoneGetsOnePublishPerBurst()
{
    TestClient *phone = pushingSession(QStringLiteral("phone"), QStringLiteral("n1"));
    QVERIFY(phone);
    phone->send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    QVERIFY(phone->readUntil([](const XmlNode &n) { return n.name == u"enabled"; }));
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    phone->abortConnection();
    QVERIFY(waitForLog(QStringLiteral("hibernates: its connection was lost")));

    bob->send(chatFromBob(QStringLiteral("m1")));
    bob->send(chatFromBob(QStringLiteral("m2")));
    const std::optional<QList<XmlNode>> publishes = publishesUpTo(*laptop, QStringLiteral("m2"));
    QVERIFY(publishes);
    QCOMPARE(publishes->size(), 1); // two messages, one burst
    const XmlNode &publish = publishes->first();
    QCOMPARE(publish.attribute(u"from"), QStringLiteral("alice@localhost/xbnc"));
    QCOMPARE(nodeOf(publish), QStringLiteral("n1"));
    const XmlNode *pubsub = publish.child(u"pubsub");
    const XmlNode *summary =
        pubsub->child(u"publish")->child(u"item")->child(u"notification", u"urn:xmpp:push:0");
    QVERIFY(summary);
    const XmlNode *form = summary->child(u"x", u"jabber:x:data");
    QCOMPARE(fieldValue(form, QStringLiteral("FORM_TYPE")),
             QStringLiteral("urn:xmpp:push:summary"));
    QCOMPARE(fieldValue(form, QStringLiteral("message-count")), QStringLiteral("1"));
    QVERIFY(fieldValue(form, QStringLiteral("last-message-body")).isNull()); // not configured
    const XmlNode *options = pubsub->child(u"publish-options");
    QVERIFY(options);
    QCOMPARE(fieldValue(options->child(u"x", u"jabber:x:data"), QStringLiteral("pushModule")),
             QStringLiteral("prod"));
    appServer_->send("<iq type='result' id='" + publish.attribute(u"id").toUtf8() + "' to='" +
                     publish.attribute(u"from").toUtf8() + "'/>");
}

void TestPush::anAppServerErrorEndsTheRegistration()
{
    TestClient *tablet = pushingSession(QStringLiteral("tablet"), QStringLiteral("n2"));
    QVERIFY(tablet);
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    tablet->disconnectFromServer();
    QVERIFY(waitForLog(QStringLiteral(" closed")));

    bob->send(chatFromBob(QStringLiteral("m3")));
    std::optional<QList<XmlNode>> publishes = publishesUpTo(*laptop, QStringLiteral("m3"));
    QVERIFY(publishes);
    QCOMPARE(publishes->size(), 1);
    const XmlNode &publish = publishes->first();
    QCOMPARE(nodeOf(publish), QStringLiteral("n2"));
    appServer_->send("<iq type='error' id='" + publish.attribute(u"id").toUtf8() + "' to='" +
                     publish.attribute(u"from").toUtf8() +
                     "'><error type='cancel'><item-not-found "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    QVERIFY(waitForLog(QStringLiteral("that registration is removed")));

    // The tablet comes back (a new burst) and goes again: nothing is published any more.
    tablet = fixture_.session(QStringLiteral("tablet"));
    QVERIFY2(tablet, qPrintable(fixture_.errorString()));
    tablet->disconnectFromServer();
    QVERIFY(waitForLog(QStringLiteral(" closed")));
    bob->send(chatFromBob(QStringLiteral("m4")));
    publishes = publishesUpTo(*laptop, QStringLiteral("m4"));
    QVERIFY(publishes);
    QCOMPARE(publishes->size(), 0);
}

QTEST_GUILESS_MAIN(TestPush)
#include "tst_push.moc"
