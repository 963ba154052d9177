// SASL2 (XEP-0388), Bind2 (XEP-0386) and FAST (XEP-0484) through xbnc, end to end, with a raw
// client (no Debian library speaks them): a phone logs in and binds with stream management,
// carbons and CSI in one exchange, resumes inline, and reconnects with a token in one round
// trip; wrong, expired, replayed and revoked tokens are refused. alice is the account, bob a
// contact straight on Prosody, the laptop an ordinary SASL session on the same listener.
#include "bouncer_fixture.h"
#include "sm_connection.h"
#include "stanza_match.h"

#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

namespace {

// Short, so that an expired token takes seconds to make, long enough for a loaded machine to
// use a fresh one.
constexpr int kTokenLifetimeSeconds = 8;

QByteArray userAgent(const QString &id)
{
    return "<user-agent id='" + id.toUtf8() +
           "'><software>xbnc tests</software><device>Phone</device></user-agent>";
}

const QByteArray kBindEverything = "<bind xmlns='urn:xmpp:bind:0'><tag>tests</tag>"
                                   "<enable xmlns='urn:xmpp:sm:3' resume='true'/>"
                                   "<enable xmlns='urn:xmpp:carbons:2'/>"
                                   "<inactive xmlns='urn:xmpp:csi:0'/></bind>";
const QByteArray kBindWithSm =
    "<bind xmlns='urn:xmpp:bind:0'><enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>";
const QByteArray kRequestToken =
    "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>";

QByteArray fastCount(int count)
{
    return "<fast xmlns='urn:xmpp:fast:0' count='" + QByteArray::number(count) + "'/>";
}

bool isNotAuthorized(const XmlNode &failure)
{
    return failure.name == u"failure" && failure.xmlns == testns::sasl2 &&
           failure.child(u"not-authorized", testns::sasl);
}

} // namespace

class TestSasl2 : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void featuresOfferSasl2BesideSasl();
    void bind2WithSmCarbonsAndCsiInOneExchange();
    void inlineResumeGetsWhatWasMissedOnce();
    void fastTokenLogsInInOneRoundTrip();
    void wrongExpiredAndReplayedTokensAreRefused();
    void revokedTokensAreRefused();
    void aBind2DeviceCatchesUpOnWhatItMissed();
    void saslAndResumeTakeFourRoundTrips();
    void sasl2WithChannelBinding();
    void aNewPasswordRevokesEveryToken(); // restarts xbnc: last

private:
    // TLS done and the features read: the client is where a reconnecting phone starts.
    std::unique_ptr<TestClient> secured(const QString &name);
    // A phone that logged in with SCRAM-SHA-256, Bind2 (and whatever `inlineXml` adds).
    std::unique_ptr<TestClient> phone(const QString &name, const QByteArray &inlineXml,
                                      std::optional<XmlNode> *success = nullptr);
    // A FAST token for the user agent, from a SCRAM login that asked for one.
    QString tokenFor(const QString &userAgentId, QDateTime *expiry = nullptr);
    // The session's end has reached the hub.
    bool waitClosed(qsizetype mark);

    BouncerFixture fixture_;
};

void TestSasl2::initTestCase()
{
    fixture_.setXbncConfig(QStringLiteral("sessions/fast_token_lifetime"),
                           QString::number(kTokenLifetimeSeconds));
    QVERIFY2(fixture_.start({QStringLiteral("bob")}, BouncerFixture::Roster::OthersAreContacts),
             qPrintable(fixture_.errorString()));
}

void TestSasl2::cleanup()
{
    fixture_.finishTest();
}

void TestSasl2::cleanupTestCase()
{
    fixture_.stop();
}

std::unique_ptr<TestClient> TestSasl2::secured(const QString &name)
{
    auto client = std::make_unique<TestClient>(name);
    if (!client->connectAndSecure(fixture_.sessionOptions(name))) {
        qWarning() << client->errorString();
        return nullptr;
    }
    return client;
}

std::unique_ptr<TestClient> TestSasl2::phone(const QString &name, const QByteArray &inlineXml,
                                             std::optional<XmlNode> *success)
{
    std::unique_ptr<TestClient> client = secured(name);
    if (!client)
        return nullptr;
    std::optional<XmlNode> answer = client->authenticateSasl2(inlineXml);
    if (!answer) {
        qWarning() << client->errorString();
        return nullptr;
    }
    if (success)
        *success = answer;
    return client;
}

QString TestSasl2::tokenFor(const QString &userAgentId, QDateTime *expiry)
{
    std::optional<XmlNode> success;
    std::unique_ptr<TestClient> client =
        phone(QStringLiteral("token-getter"), userAgent(userAgentId) + kRequestToken, &success);
    const XmlNode *token = success ? success->child(u"token", testns::fast) : nullptr;
    if (!token)
        return {};
    if (expiry)
        *expiry = QDateTime::fromString(token->attribute(u"expiry"), Qt::ISODateWithMs);
    client->disconnectFromServer();
    return token->attribute(u"token");
}

bool TestSasl2::waitClosed(qsizetype mark)
{
    return fixture_.xbnc().waitForLog(QRegularExpression(QStringLiteral("session \\d+ closed")),
                                      QDeadlineTimer(BouncerFixture::timeoutMs), mark) >= 0;
}

void TestSasl2::featuresOfferSasl2BesideSasl()
{
    std::unique_ptr<TestClient> client = secured(QStringLiteral("looker"));
    QVERIFY(client);
    const XmlNode &features = client->features();
    const XmlNode *sasl = features.child(u"mechanisms", testns::sasl);
    const XmlNode *sasl2 = features.child(u"authentication", testns::sasl2);
    QVERIFY(sasl && sasl2);
    QCOMPARE(QString::fromUtf8(sasl2->toXml(testns::streams)),
             QStringLiteral("<authentication xmlns='urn:xmpp:sasl:2'>"
                            "<mechanism>SCRAM-SHA-256-PLUS</mechanism>"
                            "<mechanism>SCRAM-SHA-1-PLUS</mechanism>"
                            "<mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1</mechanism>"
                            "<mechanism>PLAIN</mechanism><inline><bind xmlns='urn:xmpp:bind:0'>"
                            "<inline><feature var='urn:xmpp:sm:3'/>"
                            "<feature var='urn:xmpp:carbons:2'/><feature var='urn:xmpp:csi:0'/>"
                            "</inline></bind><sm xmlns='urn:xmpp:sm:3'/>"
                            "<fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism>"
                            "</fast></inline></authentication>"));
    // The same mechanisms as SASL's, in the same order.
    QStringList saslMechanisms;
    for (const XmlNode &mechanism : sasl->children)
        saslMechanisms << mechanism.text();
    QStringList sasl2Mechanisms;
    for (const XmlNode &child : sasl2->children)
        if (child.name == u"mechanism")
            sasl2Mechanisms << child.text();
    QCOMPARE(sasl2Mechanisms, saslMechanisms);
    // SASL still works on the same listener, beside it.
    QVERIFY(client->authenticate());
    QVERIFY(client->bind());
}

void TestSasl2::bind2WithSmCarbonsAndCsiInOneExchange()
{
    std::unique_ptr<TestClient> client = secured(QStringLiteral("phone"));
    QVERIFY(client);
    const int before = client->roundTrips();
    const std::optional<XmlNode> success =
        client->authenticateSasl2(userAgent(QStringLiteral("bind2-phone")) + kBindEverything);
    QVERIFY2(success, qPrintable(client->errorString()));
    // SCRAM's two steps are the whole login: bind and the rest came inside them.
    QCOMPARE(client->roundTrips() - before, 2);
    const XmlNode *bound = success->child(u"bound", testns::bind2);
    QVERIFY(bound);
    const XmlNode *enabled = bound->child(u"enabled", testns::sm);
    QVERIFY(enabled);
    QCOMPARE(enabled->attribute(u"resume"), QStringLiteral("true"));
    QVERIFY(!enabled->attribute(u"id").isEmpty());
    QVERIFY(bound->child(u"enabled", u"urn:xmpp:carbons:2"));
    const QString jid = success->child(u"authorization-identifier", testns::sasl2)->text();
    QVERIFY2(jid.startsWith(u"alice@localhost/"), qPrintable(jid));
    // Bound already: the features that follow offer no bind.
    QVERIFY(!client->features().child(u"bind", testns::bind));
    client->send("<presence/>");
    QVERIFY(client->roundTrip());
    client->takeBuffered();

    // Carbons are on: what the laptop sends bob reaches the phone as a sent carbon.
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    laptop->send("<message to='bob@localhost' type='chat' id='to-bob-1'><body>hi</body></message>");
    const auto carbon = client->readUntil([](const XmlNode &n) {
        const XmlNode *sent = n.child(u"sent", u"urn:xmpp:carbons:2");
        const XmlNode *forwarded = sent ? sent->child(u"forwarded") : nullptr;
        const XmlNode *inner = forwarded ? forwarded->child(u"message") : nullptr;
        return inner && inner->attribute(u"id") == u"to-bob-1";
    });
    QVERIFY2(carbon, qPrintable(client->errorString()));

    // CSI is inactive: bob's new presence reaches the laptop at once, the phone only when it
    // says it is active again.
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY(bob);
    bob->send("<presence><show>away</show></presence>");
    const auto awayFromBob = [](const XmlNode &n) {
        return n.name == u"presence" && n.attribute(u"from").startsWith(u"bob@localhost") &&
               n.child(u"show") && n.child(u"show")->text() == u"away";
    };
    const auto live = laptop->readUntil(awayFromBob);
    QVERIFY2(live, qPrintable(laptop->errorString()));
    QVERIFY(!live->child(u"delay", u"urn:xmpp:delay"));
    // The phone gets it once active again, stamped with when xbnc held it back.
    client->send("<active xmlns='urn:xmpp:csi:0'/>");
    const auto held = client->readUntil(awayFromBob);
    QVERIFY2(held, qPrintable(client->errorString()));
    const XmlNode *delay = held->child(u"delay", u"urn:xmpp:delay");
    QVERIFY2(delay && delay->attribute(u"from") == u"localhost", held->toXml().constData());
    bob->send("<presence/>");
    QVERIFY(laptop->readUntil([](const XmlNode &n) {
        return n.name == u"presence" && n.attribute(u"from").startsWith(u"bob@localhost") &&
               !n.child(u"show");
    }));
}

void TestSasl2::inlineResumeGetsWhatWasMissedOnce()
{
    std::optional<XmlNode> success;
    std::unique_ptr<TestClient> first = phone(
        QStringLiteral("resumer"), userAgent(QStringLiteral("resumer")) + kBindWithSm, &success);
    QVERIFY(first);
    const QString previd =
        success->child(u"bound", testns::bind2)->child(u"enabled", testns::sm)->attribute(u"id");
    first->send("<presence/>");
    QVERIFY(first->roundTrip());
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY(laptop);
    const qsizetype mark = fixture_.xbnc().outputSize();
    first->abortConnection();
    QVERIFY(fixture_.xbnc().waitForLog(QStringLiteral("hibernates"),
                                       QDeadlineTimer(BouncerFixture::timeoutMs), mark) >= 0);
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY(bob);
    for (const QString &id : {QStringLiteral("missed-1"), QStringLiteral("missed-2")}) {
        bob->send(sm::chatFromBob(id));
        QVERIFY2(laptop->readUntil(match::message(id)), qPrintable(laptop->errorString()));
    }

    std::unique_ptr<TestClient> again = secured(QStringLiteral("resumer-again"));
    QVERIFY(again);
    const int before = again->roundTrips();
    // h=0: everything since <enabled/> comes again; of bob's chats only the two missed.
    success = again->authenticateSasl2(userAgent(QStringLiteral("resumer")) +
                                       "<resume xmlns='urn:xmpp:sm:3' previd='" + previd.toUtf8() +
                                       "' h='0'/>" + kBindWithSm);
    QVERIFY2(success, qPrintable(again->errorString()));
    QCOMPARE(again->roundTrips() - before, 2);
    const XmlNode *resumed = success->child(u"resumed", testns::sm);
    QVERIFY2(resumed, success->toXml().constData());
    QCOMPARE(resumed->attribute(u"previd"), previd);
    QVERIFY(!success->child(u"bound", testns::bind2)); // resumed: nothing bound anew
    QVERIFY(again->readUntil([](const XmlNode &n) { return sm::is(n, u"r"); }));
    QCOMPARE(sm::chatIds(again->takeBuffered()),
             QStringList({QStringLiteral("missed-1"), QStringLiteral("missed-2")}));
    QVERIFY2(again->expectNone([](const XmlNode &n) { return n.name == u"message"; }),
             qPrintable(again->errorString()));

    // A resume of a session that is gone fails inside <success/>, and Bind2 binds instead.
    std::unique_ptr<TestClient> stale = secured(QStringLiteral("stale"));
    QVERIFY(stale);
    success = stale->authenticateSasl2(userAgent(QStringLiteral("stale")) +
                                       "<resume xmlns='urn:xmpp:sm:3' previd='no-such' h='0'/>" +
                                       kBindWithSm);
    QVERIFY2(success, qPrintable(stale->errorString()));
    const XmlNode *failed = success->child(u"failed", testns::sm);
    QVERIFY(failed && failed->child(u"item-not-found"));
    QVERIFY(success->child(u"bound", testns::bind2));
}

void TestSasl2::fastTokenLogsInInOneRoundTrip()
{
    const QString token = tokenFor(QStringLiteral("fast-phone"));
    QVERIFY(!token.isEmpty());
    std::unique_ptr<TestClient> client = secured(QStringLiteral("fast"));
    QVERIFY(client);
    const int before = client->roundTrips();
    const std::optional<XmlNode> success = client->authenticateSasl2(
        userAgent(QStringLiteral("fast-phone")) + fastCount(1) + kBindWithSm, token);
    QVERIFY2(success, qPrintable(client->errorString()));
    QCOMPARE(client->roundTrips() - before, 1);
    QVERIFY(success->child(u"bound", testns::bind2));
    // The session works.
    QVERIFY(client->roundTrip());
    client->disconnectFromServer();

    // A higher count with the same token logs in again.
    client = secured(QStringLiteral("fast-2"));
    QVERIFY(client);
    QVERIFY2(
        client->authenticateSasl2(userAgent(QStringLiteral("fast-phone")) + fastCount(2), token),
        qPrintable(client->errorString()));
}

void TestSasl2::wrongExpiredAndReplayedTokensAreRefused()
{
    QDateTime expiry;
    const QString token = tokenFor(QStringLiteral("refused-phone"), &expiry);
    QVERIFY(!token.isEmpty());
    // Failed logins are throttled (1 s, 2 s, 4 s… until a login succeeds): room for that.
    const QDeadlineTimer slow(20000);
    const auto refused = [&](const QString &name, const QByteArray &inlineXml,
                             const QString &tryToken) {
        std::unique_ptr<TestClient> client = secured(name);
        if (!client || client->authenticateSasl2(inlineXml, tryToken, slow))
            return false;
        return isNotAuthorized(client->saslFailure());
    };
    const auto accepted = [&](const QString &name, const QByteArray &inlineXml) {
        std::unique_ptr<TestClient> client = secured(name);
        if (client && client->authenticateSasl2(inlineXml, token, slow)) {
            client->disconnectFromServer();
            return true;
        }
        return false;
    };
    const QByteArray agent = userAgent(QStringLiteral("refused-phone"));
    const qsizetype mark = fixture_.xbnc().outputSize();
    QVERIFY(refused(QStringLiteral("wrong"), agent + fastCount(1), token + QStringLiteral("x")));
    // Logged for fail2ban like any failed login.
    QVERIFY(fixture_.xbnc().waitForLog(
                QStringLiteral("authentication failed from 127.0.0.1 (user \"alice\", "
                               "mechanism HT-SHA-256-NONE)"),
                QDeadlineTimer(BouncerFixture::timeoutMs), mark) >= 0);
    // Another device's token is not this one's.
    QVERIFY(refused(QStringLiteral("other-device"),
                    userAgent(QStringLiteral("other")) + fastCount(1), token));
    QVERIFY(accepted(QStringLiteral("first-use"), agent + fastCount(5)));
    QVERIFY(refused(QStringLiteral("replayed"), agent + fastCount(5), token));
    QVERIFY(refused(QStringLiteral("older"), agent + fastCount(4), token));
    QVERIFY(accepted(QStringLiteral("second-use"), agent + fastCount(6)));
    QVERIFY(refused(QStringLiteral("no-count"), agent + "<fast xmlns='urn:xmpp:fast:0'/>", token));

    // Past its expiry the token is refused, whatever the count.
    QVERIFY(QTest::qWaitFor([&] { return QDateTime::currentDateTimeUtc() > expiry; },
                            (kTokenLifetimeSeconds + 5) * 1000));
    QVERIFY(refused(QStringLiteral("expired"), agent + fastCount(7), token));
}

void TestSasl2::revokedTokensAreRefused()
{
    const QString token = tokenFor(QStringLiteral("revoked-phone"));
    QVERIFY(!token.isEmpty());
    QProcess cli;
    cli.start(QStringLiteral(XBNC_BINARY),
              {QStringLiteral("--config"), fixture_.xbnc().configPath(),
               QStringLiteral("--revoke-fast-tokens")});
    QVERIFY(cli.waitForFinished(BouncerFixture::timeoutMs));
    QCOMPARE(cli.exitCode(), 0);
    QVERIFY2(cli.readAllStandardOutput().startsWith("revoked "), "no revocation reported");
    std::unique_ptr<TestClient> client = secured(QStringLiteral("after-revoke"));
    QVERIFY(client);
    QVERIFY(!client->authenticateSasl2(
        userAgent(QStringLiteral("revoked-phone")) + fastCount(1) + kBindWithSm, token));
    QVERIFY(isNotAuthorized(client->saslFailure()));
}

void TestSasl2::aBind2DeviceCatchesUpOnWhatItMissed()
{
    const QByteArray agent = userAgent(QStringLiteral("catch-up-phone"));
    std::unique_ptr<TestClient> client = phone(QStringLiteral("catcher"), agent + kBindWithSm);
    QVERIFY(client);
    client->send("<presence/>");
    QVERIFY(client->roundTrip());
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY(laptop);
    qsizetype mark = fixture_.xbnc().outputSize();
    client->disconnectFromServer(); // a clean end: the session is over, the device stays known
    QVERIFY(waitClosed(mark));
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY(bob);
    for (const QString &id : {QStringLiteral("away-1"), QStringLiteral("away-2")}) {
        bob->send(sm::chatFromBob(id));
        QVERIFY2(laptop->readUntil(match::message(id)), qPrintable(laptop->errorString()));
    }
    // Logged in again as the same user agent: the same device, which gets what it missed once.
    client = phone(QStringLiteral("catcher-again"), agent + kBindWithSm);
    QVERIFY(client);
    client->send("<presence/>");
    QStringList ids;
    while (ids.size() < 2) {
        const std::optional<XmlNode> message =
            client->readUntil([](const XmlNode &n) { return n.name == u"message"; });
        QVERIFY2(message, qPrintable(client->errorString()));
        ids.append(message->attribute(u"id"));
        QVERIFY(message->child(u"delay", u"urn:xmpp:delay"));
    }
    QCOMPARE(ids, QStringList({QStringLiteral("away-1"), QStringLiteral("away-2")}));
    QVERIFY2(client->expectNone([](const XmlNode &n) { return n.name == u"message"; }),
             qPrintable(client->errorString()));
}

// SCRAM-SHA-256-PLUS through SASL2: the same SaslExchange, so the same channel binding.
void TestSasl2::sasl2WithChannelBinding()
{
    TestClientOptions options = fixture_.sessionOptions(QStringLiteral("plus"));
    options.mechanism = QStringLiteral("SCRAM-SHA-256-PLUS");
    TestClient client(QStringLiteral("plus"));
    QVERIFY2(client.connectAndSecure(options), qPrintable(client.errorString()));
    QVERIFY2(client.authenticateSasl2(userAgent(QStringLiteral("plus")) + kBindWithSm),
             qPrintable(client.errorString()));
    QVERIFY(client.roundTrip());
    // Bound to another certificate's end point: refused.
    options.bindToOtherCertificate = true;
    TestClient other(QStringLiteral("plus-other"));
    QVERIFY2(other.connectAndSecure(options), qPrintable(other.errorString()));
    QVERIFY(!other.authenticateSasl2(userAgent(QStringLiteral("plus")) + kBindWithSm));
    QVERIFY2(other.saslFailure().child(u"not-authorized", testns::sasl),
             other.saslFailure().toXml().constData());
}

// The reconnect SASL2 and FAST shorten (the README's round trip table): SASL's two SCRAM steps,
// the stream restart, then <resume/>.
void TestSasl2::saslAndResumeTakeFourRoundTrips()
{
    TestClient *first = fixture_.session(QStringLiteral("legacy"));
    QVERIFY(first);
    first->send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    const auto enabled = first->readUntil([](const XmlNode &n) { return sm::is(n, u"enabled"); });
    QVERIFY2(enabled, qPrintable(first->errorString()));
    const qsizetype mark = fixture_.xbnc().outputSize();
    first->abortConnection();
    QVERIFY(fixture_.xbnc().waitForLog(QStringLiteral("hibernates"),
                                       QDeadlineTimer(BouncerFixture::timeoutMs), mark) >= 0);
    std::unique_ptr<TestClient> again = secured(QStringLiteral("legacy-again"));
    QVERIFY(again);
    const int before = again->roundTrips();
    QVERIFY2(again->authenticate(), qPrintable(again->errorString()));
    again->send("<resume xmlns='urn:xmpp:sm:3' previd='" + enabled->attribute(u"id").toUtf8() +
                "' h='0'/>");
    QVERIFY(again->readUntil([](const XmlNode &n) { return sm::is(n, u"resumed"); }));
    QCOMPARE(again->roundTrips() + 1 - before, 4);
}

void TestSasl2::aNewPasswordRevokesEveryToken()
{
    const QString token = tokenFor(QStringLiteral("password-phone"));
    QVERIFY(!token.isEmpty());
    QVERIFY2(fixture_.stopXbnc(), qPrintable(fixture_.errorString()));
    const QString alice = BouncerFixture::accountUser();
    XbncProcess::Config config =
        fixture_.xbnc().configFor(fixture_.prosody(), alice, BouncerFixture::password(alice));
    config[QStringLiteral("listener/password")] = QStringLiteral("a new password");
    QString error;
    QVERIFY2(fixture_.xbnc().start(config, &error), qPrintable(error));
    QVERIFY(fixture_.xbnc().waitForLog(
                QRegularExpression(
                    QStringLiteral("the account password changed: [1-9]\\d* FAST tokens revoked")),
                QDeadlineTimer(BouncerFixture::timeoutMs)) >= 0);
    QVERIFY2(fixture_.stopXbnc(), qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.startXbnc(), qPrintable(fixture_.errorString()));
    std::unique_ptr<TestClient> client = secured(QStringLiteral("after-new-password"));
    QVERIFY(client);
    QVERIFY(!client->authenticateSasl2(userAgent(QStringLiteral("password-phone")) + fastCount(1),
                                       token));
    QVERIFY(isNotAuthorized(client->saslFailure()));
}

QTEST_GUILESS_MAIN(TestSasl2)
#include "tst_sasl2.moc"
