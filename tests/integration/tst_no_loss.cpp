// Nothing is silently lost (issue #7 §1.1, §1.2), end to end: the real xbnc in front of a real
// Prosody. alice is the bouncer's account and her phone a session of it; bob is a contact logged
// in straight to Prosody. Each test gets its own Prosody and xbnc, since they stop both.
#include "prosody_fixture.h"
#include "roster_setup.h"
#include "stanza_match.h"
#include "test_client.h"
#include "xbnc_process.h"

#include <QtTest>

#include <memory>

namespace {

const QString alicePassword = QStringLiteral("alice-pw");
const QString bobPassword = QStringLiteral("bob-pw");
const QString online = QStringLiteral("upstream online as alice@localhost/xbnc");

int countMessages(const QList<XmlNode> &stanzas, const QString &id)
{
    return int(std::count_if(stanzas.begin(), stanzas.end(), [&id](const XmlNode &n) {
        return n.name == u"message" && n.attribute(u"id") == id;
    }));
}

} // namespace

class TestNoLoss : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void sentWhileUpstreamIsDownArrivesOnceAfterwards();
    void queuedStanzaSurvivesAnXbncRestart();
    void receivedWhileNoSessionIsDeliveredWithDelay();

private:
    std::unique_ptr<TestClient> session(const XbncProcess &xbnc, const QString &resource);
    std::unique_ptr<TestClient> connectBob();
    // A round trip through xbnc that never leaves it (a ping to the session's own JID), so it
    // works while upstream is down: afterwards xbnc has handled everything sent before.
    static bool localBarrier(TestClient &client);
    bool stopProsodyAndWaitOffline(XbncProcess &xbnc);

    std::unique_ptr<ProsodyFixture> prosody_;
    std::unique_ptr<XbncProcess> xbnc_;
};

void TestNoLoss::init()
{
    prosody_ = std::make_unique<ProsodyFixture>();
    QString error;
    QVERIFY2(prosody_->start(&error), qPrintable(error));
    QVERIFY2(makeContacts(*prosody_, QStringLiteral("alice"), alicePassword, QStringLiteral("bob"),
                          bobPassword, &error),
             qPrintable(error));
    xbnc_ = std::make_unique<XbncProcess>();
    QVERIFY2(
        xbnc_->start(xbnc_->configFor(*prosody_, QStringLiteral("alice"), alicePassword), &error),
        qPrintable(error));
    QVERIFY2(xbnc_->waitForLog(online) >= 0, qPrintable(xbnc_->output()));
}

void TestNoLoss::cleanup()
{
    if (QTest::currentTestFailed()) {
        qInfo().noquote() << "--- xbnc output ---\n" << xbnc_->output();
        qInfo().noquote() << "--- prosody log (tail) ---\n" << prosody_->logText().right(6000);
    }
    QString error;
    QVERIFY2(xbnc_->stop(&error), qPrintable(error));
    xbnc_.reset();
    prosody_.reset();
}

std::unique_ptr<TestClient> TestNoLoss::session(const XbncProcess &xbnc, const QString &resource)
{
    auto client = std::make_unique<TestClient>(resource);
    TestClientOptions o;
    o.port = xbnc.port();
    o.fingerprint = xbnc.fingerprint();
    o.user = QStringLiteral("alice");
    o.password = alicePassword;
    o.resource = resource;
    if (!client->login(o)) {
        qWarning("%s", qPrintable(client->errorString()));
        return nullptr;
    }
    return client;
}

std::unique_ptr<TestClient> TestNoLoss::connectBob()
{
    auto bob = std::make_unique<TestClient>(QStringLiteral("bob"));
    TestClientOptions o;
    o.port = prosody_->c2sPort();
    o.caFile = prosody_->caCertificatePath();
    o.user = QStringLiteral("bob");
    o.password = bobPassword;
    o.resource = QStringLiteral("desk");
    if (!bob->login(o)) {
        qWarning("%s", qPrintable(bob->errorString()));
        return nullptr;
    }
    return bob;
}

bool TestNoLoss::localBarrier(TestClient &client)
{
    const QString id = QStringLiteral("barrier-") + client.name();
    client.send(QStringLiteral("<iq type='get' id='%1' to='%2'><ping xmlns='urn:xmpp:ping'/></iq>")
                    .arg(id, client.fullJid())
                    .toUtf8());
    const auto reply = client.readUntil(match::iq(id));
    return reply && reply->attribute(u"type") == u"result";
}

bool TestNoLoss::stopProsodyAndWaitOffline(XbncProcess &xbnc)
{
    const qsizetype mark = xbnc.outputSize();
    prosody_->stop();
    return xbnc.waitForLog(QStringLiteral("upstream offline:"), QDeadlineTimer(10000), mark) >= 0;
}

void TestNoLoss::sentWhileUpstreamIsDownArrivesOnceAfterwards()
{
    auto phone = session(*xbnc_, QStringLiteral("phone"));
    QVERIFY(phone);
    QVERIFY2(stopProsodyAndWaitOffline(*xbnc_), "xbnc never noticed that Prosody went away");
    phone->send("<message to='bob@localhost' type='chat' id='while-down'>"
                "<body>sent while the server was down</body></message>");
    QVERIFY2(localBarrier(*phone), qPrintable(phone->errorString()));

    const qsizetype mark = xbnc_->outputSize();
    QString error;
    QVERIFY2(prosody_->start(&error), qPrintable(error));
    auto bob = connectBob();
    QVERIFY(bob);
    QVERIFY2(xbnc_->waitForLog(online, QDeadlineTimer(10000), mark) >= 0,
             "xbnc did not come back online after Prosody restarted");
    // Whether xbnc was back before bob (Prosody kept it for him) or after: once.
    const auto message = bob->readUntil(match::message(QStringLiteral("while-down")));
    QVERIFY2(message, qPrintable(bob->errorString()));
    QCOMPARE(message->child(u"body")->text(), QStringLiteral("sent while the server was down"));
    QCOMPARE(message->attribute(u"from"), QStringLiteral("alice@localhost/xbnc"));
    // Sent after it, received after it: and no second copy anywhere before.
    phone->send("<message to='bob@localhost' type='chat' id='after'><body>back</body></message>");
    QVERIFY(bob->readUntil(match::message(QStringLiteral("after"))));
    const auto rest = bob->ping();
    QVERIFY2(rest, qPrintable(bob->errorString()));
    QCOMPARE(countMessages(*rest, QStringLiteral("while-down")), 0);
    // Nothing bounced to the phone either.
    const auto atPhone = phone->ping();
    QVERIFY2(atPhone, qPrintable(phone->errorString()));
    for (const XmlNode &n : *atPhone)
        QVERIFY2(n.attribute(u"type") != u"error", n.toXml().constData());
}

void TestNoLoss::queuedStanzaSurvivesAnXbncRestart()
{
    auto phone = session(*xbnc_, QStringLiteral("phone"));
    QVERIFY(phone);
    QVERIFY2(stopProsodyAndWaitOffline(*xbnc_), "xbnc never noticed that Prosody went away");
    phone->send("<message to='bob@localhost' type='chat' id='across-restart'>"
                "<body>kept on disk</body></message>");
    QVERIFY2(localBarrier(*phone), qPrintable(phone->errorString()));
    phone.reset();
    // The first xbnc stops with the message still queued; the second opens the same data_dir.
    XbncProcess::Config config =
        xbnc_->configFor(*prosody_, QStringLiteral("alice"), alicePassword);
    QString error;
    QVERIFY2(xbnc_->stop(&error), qPrintable(error));

    QVERIFY2(prosody_->start(&error), qPrintable(error));
    auto bob = connectBob();
    QVERIFY(bob);
    XbncProcess second;
    QVERIFY2(second.start(config, &error), qPrintable(error));
    QVERIFY2(second.waitForLog(QStringLiteral("1 stanzas wait for upstream since before the "
                                              "restart")) >= 0,
             qPrintable(second.output()));
    QVERIFY2(second.waitForLog(online) >= 0, qPrintable(second.output()));
    const auto message = bob->readUntil(match::message(QStringLiteral("across-restart")));
    QVERIFY2(message, qPrintable(bob->errorString() + second.output()));
    QCOMPARE(message->child(u"body")->text(), QStringLiteral("kept on disk"));
    const auto rest = bob->ping();
    QVERIFY2(rest, qPrintable(bob->errorString()));
    QCOMPARE(countMessages(*rest, QStringLiteral("across-restart")), 0);
    QVERIFY2(second.stop(&error), qPrintable(error));
    // cleanup() stops the first one again: already stopped, that is a no-op.
}

void TestNoLoss::receivedWhileNoSessionIsDeliveredWithDelay()
{
    auto bob = connectBob();
    QVERIFY(bob);
    const QDateTime before = QDateTime::currentDateTimeUtc().addSecs(-1);
    bob->send("<message to='alice@localhost' type='chat' id='first'><body>one</body></message>");
    bob->send("<message to='alice@localhost' type='chat' id='second'><body>two</body></message>");
    // xbnc answers pings to its own resource: once bob has the answer, xbnc has both messages.
    bob->send("<iq type='get' id='through-xbnc' to='alice@localhost/xbnc'>"
              "<ping xmlns='urn:xmpp:ping'/></iq>");
    const auto pong = bob->readUntil(match::iq(QStringLiteral("through-xbnc")));
    QVERIFY2(pong, qPrintable(bob->errorString()));
    QCOMPARE(pong->attribute(u"type"), QStringLiteral("result"));

    auto phone = session(*xbnc_, QStringLiteral("phone"));
    QVERIFY(phone);
    // The first two messages the phone gets, in the order it gets them.
    const auto isMessage = [](const XmlNode &n) { return n.name == u"message"; };
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
    auto laptop = session(*xbnc_, QStringLiteral("laptop"));
    QVERIFY(laptop);
    const auto atLaptop = laptop->ping();
    QVERIFY2(atLaptop, qPrintable(laptop->errorString()));
    QCOMPARE(countMessages(*atLaptop, QStringLiteral("first")), 0);
    QCOMPARE(countMessages(*atLaptop, QStringLiteral("second")), 0);
}

QTEST_GUILESS_MAIN(TestNoLoss)
#include "tst_no_loss.moc"
