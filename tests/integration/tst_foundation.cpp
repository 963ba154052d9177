// The first things a user of xbnc notices, end to end: the real xbnc binary in front of a real
// Prosody. alice is the bouncer's account; her clients (phone, laptop, …) log in to xbnc. bob is
// a contact logged in straight to Prosody.
#include "bouncer_fixture.h"
#include "stanza_match.h"

#include <QtTest>

#include <csignal>

namespace {

const QString alice = QStringLiteral("alice@localhost");
const QString aliceUpstream = QStringLiteral("alice@localhost/xbnc");
const QString bob = QStringLiteral("bob@localhost");
const QString bobFull = QStringLiteral("bob@localhost/desk");
const QByteArray unknownPayload = "<x xmlns='urn:example:unknown'><y a='1'>z</y></x>";

// Messages among everything else a session receives (presences, pushes): the ones with that id.
int countMessages(const QList<XmlNode> &stanzas, const QString &id)
{
    return int(std::count_if(stanzas.begin(), stanzas.end(), [&id](const XmlNode &n) {
        return n.name == u"message" && n.attribute(u"id") == id;
    }));
}

} // namespace

class TestFoundation : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void twoSessionsBindAndAnswerPings();
    void messageFromContactReachesEverySession_data();
    void messageFromContactReachesEverySession();
    void messageFromSessionLeavesAsUpstreamResource();
    void carbonsCopyOutgoingMessageToOtherSession();
    void rosterGetReturnsContact();
    void rosterSetIsPushedToEverySession();
    void lateSessionReceivesKnownContactPresence();
    void sameIqIdFromTwoSessionsGetsOneReplyEach();
    void unknownPayloadPassesUnchangedBothWays();
    void wrongPasswordIsNotAuthorized();
    void malformedXmlClosesOnlyThatSession();
    void oversizedStanzaClosesOnlyThatSession();
    // Late: it restarts Prosody under everything.
    void upstreamRestartKeepsSessionsConnected();
    // Last: it replaces the certificate that the tests above trust.
    void sighupReloadsTheCertificateForNewConnections();

private:
    bool connectBob();

    BouncerFixture fixture_;
    TestClient *bob_ = nullptr;
};

bool TestFoundation::connectBob()
{
    bob_ = fixture_.direct(QStringLiteral("bob"), "<presence><status>here</status></presence>");
    return bob_ != nullptr;
}

void TestFoundation::initTestCase()
{
    // alice and bob have been contacts for years before xbnc arrives.
    QVERIFY2(
        fixture_.startProsody({QStringLiteral("bob")}, BouncerFixture::Roster::OthersAreContacts),
        qPrintable(fixture_.errorString()));
    // bob is online before xbnc: the account learns his presence by its own initial presence.
    QVERIFY2(connectBob(), qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.startXbnc(), qPrintable(fixture_.errorString()));
}

void TestFoundation::cleanup()
{
    fixture_.finishTest();
}

void TestFoundation::cleanupTestCase()
{
    fixture_.stop();
    // Passwords never reach the log, whatever happened above.
    QVERIFY(!fixture_.xbnc().output().contains(
        BouncerFixture::password(BouncerFixture::accountUser())));
}

void TestFoundation::sighupReloadsTheCertificateForNewConnections()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    // Without a configured certificate xbnc signs a new leaf with its CA when the leaf's files
    // are missing; a reload must pick up the new one, as it would a renewed certificate.
    const QString data = fixture_.xbnc().directory() + QStringLiteral("/data/");
    QVERIFY(QFile::remove(data + QStringLiteral("xbnc-leaf.pem")));
    QVERIFY(QFile::remove(data + QStringLiteral("xbnc-leaf-key.pem")));
    const qsizetype mark = fixture_.xbnc().outputSize();
    QVERIFY(fixture_.xbnc().sendSignal(SIGHUP));
    QRegularExpressionMatch match;
    QVERIFY2(
        fixture_.xbnc().waitForLog(QRegularExpression(QStringLiteral(
                                       "certificates reloaded; SHA-256 fingerprint: ([0-9A-F:]+)")),
                                   QDeadlineTimer(10000), mark, &match) >= 0,
        qPrintable(fixture_.xbnc().output().mid(mark)));
    const QString fresh = match.captured(1);
    QVERIFY(fresh != fixture_.xbnc().fingerprint());

    TestClientOptions o = fixture_.sessionOptions(QStringLiteral("tablet"));
    o.fingerprint = fresh;
    TestClient tablet(QStringLiteral("tablet"));
    QVERIFY2(tablet.login(o), qPrintable(tablet.errorString()));
    QVERIFY2(tablet.ping(), qPrintable(tablet.errorString()));
    // The old certificate is no longer offered to new connections…
    TestClient stale(QStringLiteral("stale"));
    QVERIFY(!stale.login(fixture_.sessionOptions(QStringLiteral("stale"))));
    // …and the session made before the reload goes on.
    QVERIFY2(phone->ping(), qPrintable(phone->errorString()));
}

void TestFoundation::twoSessionsBindAndAnswerPings()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    // Both are bound to xbnc's own full JID: the one the world sees (docs/ADDRESSING.md).
    QCOMPARE(phone->fullJid(), aliceUpstream);
    QCOMPARE(laptop->fullJid(), aliceUpstream);
    QVERIFY2(phone->ping(), qPrintable(phone->errorString()));
    QVERIFY2(laptop->ping(), qPrintable(laptop->errorString()));
    QVERIFY(phone->isOpen());
    QVERIFY(laptop->isOpen());
}

void TestFoundation::messageFromContactReachesEverySession_data()
{
    QTest::addColumn<QString>("to");
    QTest::addColumn<bool>("keepsBareTo"); // as a server delivers it (RFC 6121 §8.5.2)
    QTest::newRow("bare JID") << alice << true;
    QTest::newRow("upstream full JID") << aliceUpstream << false;
}

void TestFoundation::messageFromContactReachesEverySession()
{
    QFETCH(QString, to);
    QFETCH(bool, keepsBareTo);
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));

    const QString id =
        QStringLiteral("fanout-") + QString::number(QDateTime::currentMSecsSinceEpoch());
    bob_->send(QStringLiteral("<message to='%1' type='chat' id='%2'><body>hello both</body>"
                              "</message>")
                   .arg(to, id)
                   .toUtf8());

    for (TestClient *s : {phone, laptop}) {
        const auto message = s->readUntil(match::message(id));
        QVERIFY2(message, qPrintable(s->errorString()));
        QCOMPARE(message->attribute(u"to"), keepsBareTo ? alice : s->fullJid());
        QCOMPARE(message->attribute(u"from"), bobFull);
        QCOMPARE(message->attribute(u"type"), QStringLiteral("chat"));
        QVERIFY(message->child(u"body"));
        QCOMPARE(message->child(u"body")->text(), QStringLiteral("hello both"));
        // Exactly once: nothing more with that id by the time the session's ping returns.
        const auto rest = s->ping();
        QVERIFY2(rest, qPrintable(s->errorString()));
        QCOMPARE(countMessages(*rest, id), 0);
    }
}

void TestFoundation::messageFromSessionLeavesAsUpstreamResource()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    phone->send("<message to='bob@localhost/desk' type='chat' id='from-phone'>"
                "<body>hi bob</body></message>");
    const auto message = bob_->readUntil(match::message(QStringLiteral("from-phone")));
    QVERIFY2(message, qPrintable(bob_->errorString()));
    QCOMPARE(message->attribute(u"from"), aliceUpstream);
    QCOMPARE(message->attribute(u"to"), bobFull);
    QVERIFY(message->child(u"body"));
    QCOMPARE(message->child(u"body")->text(), QStringLiteral("hi bob"));
}

void TestFoundation::carbonsCopyOutgoingMessageToOtherSession()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    laptop->send("<iq type='set' id='carbons-on'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
    const auto enabled = laptop->readUntil(match::iq(QStringLiteral("carbons-on")));
    QVERIFY2(enabled, qPrintable(laptop->errorString()));
    QCOMPARE(enabled->attribute(u"type"), QStringLiteral("result"));

    phone->send("<message to='bob@localhost' type='chat' id='carbon-1'>"
                "<body>copy me</body></message>");
    QVERIFY2(bob_->readUntil(match::message(QStringLiteral("carbon-1"))),
             qPrintable(bob_->errorString()));

    const auto carbon = laptop->readUntil([](const XmlNode &n) {
        return n.name == u"message" && n.child(u"sent", u"urn:xmpp:carbons:2");
    });
    QVERIFY2(carbon, qPrintable(laptop->errorString()));
    QCOMPARE(carbon->attribute(u"from"), alice);
    QCOMPARE(carbon->attribute(u"to"), laptop->fullJid());
    const XmlNode *forwarded =
        carbon->child(u"sent", u"urn:xmpp:carbons:2")->child(u"forwarded", u"urn:xmpp:forward:0");
    QVERIFY2(forwarded, carbon->toXml().constData());
    const XmlNode *inner = forwarded->child(u"message", u"jabber:client");
    QVERIFY2(inner, carbon->toXml().constData());
    QCOMPARE(inner->attribute(u"id"), QStringLiteral("carbon-1"));
    QCOMPARE(inner->attribute(u"to"), bob);
    QVERIFY(inner->attribute(u"from").startsWith(alice + QLatin1Char('/')));
    QCOMPARE(inner->child(u"body")->text(), QStringLiteral("copy me"));

    // The sender itself never gets a copy of its own message, and the laptop gets one copy.
    for (TestClient *s : {phone, laptop}) {
        const auto rest = s->ping();
        QVERIFY2(rest, qPrintable(s->errorString()));
        for (const XmlNode &n : *rest)
            QVERIFY2(!n.child(u"sent", u"urn:xmpp:carbons:2"), n.toXml().constData());
    }
}

void TestFoundation::rosterGetReturnsContact()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    phone->send("<iq type='get' id='roster-1'><query xmlns='jabber:iq:roster'/></iq>");
    const auto result = phone->readUntil(match::iq(QStringLiteral("roster-1")));
    QVERIFY2(result, qPrintable(phone->errorString()));
    QCOMPARE(result->attribute(u"type"), QStringLiteral("result"));
    const XmlNode *query = result->child(u"query", u"jabber:iq:roster");
    QVERIFY2(query, result->toXml().constData());
    const auto item = std::find_if(query->children.begin(), query->children.end(),
                                   [](const XmlNode &n) { return n.attribute(u"jid") == bob; });
    QVERIFY2(item != query->children.end(), result->toXml().constData());
    QCOMPARE(item->attribute(u"subscription"), QStringLiteral("both"));
}

void TestFoundation::rosterSetIsPushedToEverySession()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    // Roster pushes go to sessions that fetched the roster (RFC 6121 §2.1.6).
    for (TestClient *s : {phone, laptop}) {
        s->send("<iq type='get' id='roster-get'><query xmlns='jabber:iq:roster'/></iq>");
        QVERIFY2(s->readUntil(match::iq(QStringLiteral("roster-get"))),
                 qPrintable(s->errorString()));
    }

    const QString carol = QStringLiteral("carol@localhost");
    phone->send("<iq type='set' id='roster-add'><query xmlns='jabber:iq:roster'>"
                "<item jid='carol@localhost' name='Carol'/></query></iq>");
    const auto result = phone->readUntil(match::iq(QStringLiteral("roster-add")));
    QVERIFY2(result, qPrintable(phone->errorString()));
    QCOMPARE(result->attribute(u"type"), QStringLiteral("result"));
    for (TestClient *s : {phone, laptop}) {
        const auto push = s->readUntil(match::rosterPush(carol));
        QVERIFY2(push, qPrintable(s->errorString()));
        const XmlNode *item = push->child(u"query", u"jabber:iq:roster")->child(u"item");
        QCOMPARE(item->attribute(u"name"), QStringLiteral("Carol"));
        QCOMPARE(item->attribute(u"subscription"), QStringLiteral("none"));
    }

    // Leave the roster as it was for the other tests.
    phone->send("<iq type='set' id='roster-remove'><query xmlns='jabber:iq:roster'>"
                "<item jid='carol@localhost' subscription='remove'/></query></iq>");
    QVERIFY2(phone->readUntil(match::iq(QStringLiteral("roster-remove"))),
             qPrintable(phone->errorString()));
}

void TestFoundation::lateSessionReceivesKnownContactPresence()
{
    // bob has been online with status "here" since initTestCase; he sends nothing now.
    TestClient *tablet = fixture_.session(QStringLiteral("tablet"));
    QVERIFY2(tablet, qPrintable(fixture_.errorString()));
    const auto presence = tablet->readUntil(match::presenceFrom(bobFull));
    QVERIFY2(presence, qPrintable(tablet->errorString()));
    QVERIFY(presence->child(u"status"));
    QCOMPARE(presence->child(u"status")->text(), QStringLiteral("here"));
    QCOMPARE(presence->attribute(u"to"), tablet->fullJid());
}

void TestFoundation::sameIqIdFromTwoSessionsGetsOneReplyEach()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    const QByteArray disco = "<iq type='get' id='same' to='localhost'>"
                             "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>";
    phone->send(disco);
    laptop->send(disco);
    for (TestClient *s : {phone, laptop}) {
        const auto reply = s->readUntil(match::iq(QStringLiteral("same")));
        QVERIFY2(reply, qPrintable(s->errorString()));
        QCOMPARE(reply->attribute(u"type"), QStringLiteral("result"));
        QCOMPARE(reply->attribute(u"to"), s->fullJid());
        QVERIFY(reply->child(u"query", u"http://jabber.org/protocol/disco#info"));
    }
    for (TestClient *s : {phone, laptop}) {
        const auto rest = s->ping();
        QVERIFY2(rest, qPrintable(s->errorString()));
        for (const XmlNode &n : *rest)
            QVERIFY2(n.attribute(u"id") != u"same", n.toXml().constData());
    }
}

void TestFoundation::unknownPayloadPassesUnchangedBothWays()
{
    const QByteArray expected = XmlNode::parse(unknownPayload).toXml();
    QVERIFY(!expected.isEmpty());
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));

    phone->send("<message to='bob@localhost/desk' id='unknown-out'>" + unknownPayload +
                "</message>");
    const auto atBob = bob_->readUntil(match::message(QStringLiteral("unknown-out")));
    QVERIFY2(atBob, qPrintable(bob_->errorString()));
    const XmlNode *payload = atBob->child(u"x", u"urn:example:unknown");
    QVERIFY2(payload, atBob->toXml().constData());
    QCOMPARE(payload->toXml(), expected);

    bob_->send("<message to='alice@localhost' id='unknown-in'>" + unknownPayload + "</message>");
    for (TestClient *s : {phone, laptop}) {
        const auto atSession = s->readUntil(match::message(QStringLiteral("unknown-in")));
        QVERIFY2(atSession, qPrintable(s->errorString()));
        const XmlNode *received = atSession->child(u"x", u"urn:example:unknown");
        QVERIFY2(received, atSession->toXml().constData());
        QCOMPARE(received->toXml(), expected);
    }
}

void TestFoundation::wrongPasswordIsNotAuthorized()
{
    TestClientOptions o = fixture_.sessionOptions(QStringLiteral("intruder"));
    o.password = QStringLiteral("not-the-password");
    TestClient intruder(QStringLiteral("intruder"));
    QVERIFY2(intruder.connectAndSecure(o), qPrintable(intruder.errorString()));
    QVERIFY(!intruder.authenticate());
    const XmlNode &failure = intruder.saslFailure();
    QCOMPARE(failure.name, QStringLiteral("failure"));
    QCOMPARE(failure.xmlns, QStringLiteral("urn:ietf:params:xml:ns:xmpp-sasl"));
    QVERIFY2(failure.child(u"not-authorized"), failure.toXml().constData());
}

void TestFoundation::malformedXmlClosesOnlyThatSession()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    TestClient *broken = fixture_.session(QStringLiteral("broken"));
    QVERIFY2(broken, qPrintable(fixture_.errorString()));
    broken->send("<message to='bob@localhost'><body>oops</message>");
    QVERIFY2(broken->expectStreamError(QStringLiteral("not-well-formed")),
             qPrintable(broken->errorString()));
    QVERIFY2(phone->ping(), qPrintable(phone->errorString()));
    QVERIFY(phone->isOpen());
}

void TestFoundation::oversizedStanzaClosesOnlyThatSession()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    TestClient *greedy = fixture_.session(QStringLiteral("greedy"));
    QVERIFY2(greedy, qPrintable(fixture_.errorString()));
    const QByteArray body(300 * 1024, 'a'); // over the 256 KiB stanza limit
    greedy->send("<message to='bob@localhost' id='huge'><body>" + body + "</body></message>");
    QVERIFY2(greedy->expectStreamError(QStringLiteral("policy-violation")),
             qPrintable(greedy->errorString()));
    QVERIFY2(phone->ping(), qPrintable(phone->errorString()));
    // Nothing of it reached bob.
    const auto atBob = bob_->ping();
    QVERIFY2(atBob, qPrintable(bob_->errorString()));
    QCOMPARE(countMessages(*atBob, QStringLiteral("huge")), 0);
}

void TestFoundation::upstreamRestartKeepsSessionsConnected()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    const qsizetype mark = fixture_.xbnc().outputSize();

    QVERIFY2(fixture_.restartProsody(), qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.xbnc().waitForLog(QStringLiteral("upstream offline:"), QDeadlineTimer(10000),
                                        mark) >= 0,
             "xbnc never noticed that Prosody went away");
    for (TestClient *s : {phone, laptop}) {
        s->poll();
        QVERIFY2(!s->wasClosed(), qPrintable(s->name() + QStringLiteral(" was disconnected")));
        QVERIFY2(s->ping(), qPrintable(s->errorString()));
    }

    // bob's own connection died with Prosody; he comes back and writes again.
    QVERIFY2(connectBob(), qPrintable(fixture_.errorString()));
    bob_->send("<message to='alice@localhost' type='chat' id='after-restart'>"
               "<body>still there?</body></message>");
    for (TestClient *s : {phone, laptop}) {
        const auto message = s->readUntil(match::message(QStringLiteral("after-restart")));
        QVERIFY2(message, qPrintable(s->errorString()));
        QCOMPARE(message->child(u"body")->text(), QStringLiteral("still there?"));
        QVERIFY(!s->wasClosed());
    }
}

QTEST_GUILESS_MAIN(TestFoundation)
#include "tst_foundation.moc"
