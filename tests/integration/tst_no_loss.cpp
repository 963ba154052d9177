// Nothing is silently lost (issue #7 §1.1, §1.2), end to end: the real xbnc in front of a real
// Prosody. alice is the bouncer's account and her phone a session of it; bob is a contact logged
// in straight to Prosody.
#include "bouncer_fixture.h"
#include "stanza_match.h"

#include <QtTest>

namespace {

const QString online = QStringLiteral("upstream online as alice@localhost/xbnc");

bool isMessage(const XmlNode &n)
{
    return n.name == u"message";
}

std::function<bool(const XmlNode &)> messageWithId(const QString &id)
{
    return match::message(id);
}

} // namespace

class TestNoLoss : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void sentWhileUpstreamIsDownArrivesOnceAfterwards();
    void queuedStanzaSurvivesAnXbncRestart();
    void receivedWhileNoSessionIsDeliveredWithDelay();

private:
    // Stops Prosody (and keeps it down) once xbnc has noticed.
    bool takeUpstreamDown();

    BouncerFixture fixture_;
};

void TestNoLoss::initTestCase()
{
    QVERIFY2(fixture_.start({QStringLiteral("bob")}, BouncerFixture::Roster::OthersAreContacts),
             qPrintable(fixture_.errorString()));
}

void TestNoLoss::cleanup()
{
    fixture_.finishTest();
}

void TestNoLoss::cleanupTestCase()
{
    fixture_.stop();
}

bool TestNoLoss::takeUpstreamDown()
{
    const qsizetype mark = fixture_.xbnc().outputSize();
    fixture_.prosody().stop();
    return fixture_.xbnc().waitForLog(QStringLiteral("upstream offline:"),
                                      QDeadlineTimer(BouncerFixture::timeoutMs), mark) >= 0;
}

void TestNoLoss::sentWhileUpstreamIsDownArrivesOnceAfterwards()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(takeUpstreamDown(), "xbnc never noticed that Prosody went away");
    phone->send("<message to='bob@localhost' type='chat' id='while-down'>"
                "<body>sent while the server was down</body></message>");
    QVERIFY2(phone->roundTripWithinXbnc(), qPrintable(phone->errorString()));

    const qsizetype mark = fixture_.xbnc().outputSize();
    QString error;
    QVERIFY2(fixture_.prosody().start(&error), qPrintable(error));
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.xbnc().waitForLog(online, QDeadlineTimer(BouncerFixture::timeoutMs), mark) >=
                 0,
             "xbnc did not come back online after Prosody restarted");
    // Whether xbnc was back before bob (Prosody kept it for him) or after: once.
    const auto message = bob->readUntil(messageWithId(QStringLiteral("while-down")));
    QVERIFY2(message, qPrintable(bob->errorString()));
    QCOMPARE(message->child(u"body")->text(), QStringLiteral("sent while the server was down"));
    QCOMPARE(message->attribute(u"from"), QStringLiteral("alice@localhost/xbnc"));
    // Sent after it, received after it, and no second copy.
    phone->send("<message to='bob@localhost' type='chat' id='after'><body>back</body></message>");
    QVERIFY2(bob->readUntil(messageWithId(QStringLiteral("after"))),
             qPrintable(bob->errorString()));
    QVERIFY2(bob->expectNone(messageWithId(QStringLiteral("while-down"))),
             qPrintable(bob->errorString()));
    // Nothing came back to the phone as an error either.
    QVERIFY2(phone->expectNone([](const XmlNode &n) { return n.attribute(u"type") == u"error"; }),
             qPrintable(phone->errorString()));
}

void TestNoLoss::queuedStanzaSurvivesAnXbncRestart()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(takeUpstreamDown(), "xbnc never noticed that Prosody went away");
    phone->send("<message to='bob@localhost' type='chat' id='across-restart'>"
                "<body>kept on disk</body></message>");
    QVERIFY2(phone->roundTripWithinXbnc(), qPrintable(phone->errorString()));
    // xbnc stops with the message still queued, and starts again on the same data.
    QVERIFY2(fixture_.stopXbnc(), qPrintable(fixture_.errorString()));
    QString error;
    QVERIFY2(fixture_.prosody().start(&error), qPrintable(error));
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.startXbnc(), qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.xbnc().waitForLog(
                 QStringLiteral("1 stanzas wait for upstream since before the restart")) >= 0,
             qPrintable(fixture_.xbnc().output()));

    const auto message = bob->readUntil(messageWithId(QStringLiteral("across-restart")));
    QVERIFY2(message, qPrintable(bob->errorString()));
    QCOMPARE(message->child(u"body")->text(), QStringLiteral("kept on disk"));
    QVERIFY2(bob->expectNone(messageWithId(QStringLiteral("across-restart"))),
             qPrintable(bob->errorString()));
}

void TestNoLoss::receivedWhileNoSessionIsDeliveredWithDelay()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    const QDateTime before = QDateTime::currentDateTimeUtc().addSecs(-1);
    bob->send("<message to='alice@localhost' type='chat' id='first'><body>one</body></message>");
    bob->send("<message to='alice@localhost' type='chat' id='second'><body>two</body></message>");
    // xbnc answers pings to its own resource: once bob has the answer, xbnc has both messages.
    bob->send("<iq type='get' id='through-xbnc' to='alice@localhost/xbnc'>"
              "<ping xmlns='urn:xmpp:ping'/></iq>");
    const auto pong = bob->readUntil(match::iq(QStringLiteral("through-xbnc")));
    QVERIFY2(pong, qPrintable(bob->errorString()));
    QCOMPARE(pong->attribute(u"type"), QStringLiteral("result"));

    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QList<XmlNode> messages;
    for (int i = 0; i < 2; ++i) {
        const auto message = phone->readUntil(isMessage);
        QVERIFY2(message, qPrintable(phone->errorString()));
        messages.append(*message);
    }
    QCOMPARE(messages[0].attribute(u"id"), QStringLiteral("first"));
    QCOMPARE(messages[1].attribute(u"id"), QStringLiteral("second"));
    QCOMPARE(messages[1].child(u"body")->text(), QStringLiteral("two"));
    for (const XmlNode &m : messages) {
        const XmlNode *delay = m.child(u"delay", u"urn:xmpp:delay");
        QVERIFY2(delay, m.toXml().constData());
        QCOMPARE(delay->attribute(u"from"), QStringLiteral("localhost"));
        const QDateTime stamp =
            QDateTime::fromString(delay->attribute(u"stamp"), Qt::ISODateWithMs);
        QVERIFY2(stamp.isValid() && stamp.timeSpec() == Qt::UTC, m.toXml().constData());
        QVERIFY(stamp >= before && stamp <= QDateTime::currentDateTimeUtc());
    }

    // Delivered once: a second session does not get them again.
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    QVERIFY2(laptop->expectNone(isMessage), qPrintable(laptop->errorString()));
}

QTEST_GUILESS_MAIN(TestNoLoss)
#include "tst_no_loss.moc"
