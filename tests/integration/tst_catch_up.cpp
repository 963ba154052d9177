// Per-device catch-up (issue #9 §5), end to end: the real xbnc in front of a real Prosody (with
// mod_mam). alice is the bouncer's account with two devices, her phone and her laptop; bob is a
// contact logged in straight to Prosody. The phone is away while bob writes and the laptop reads
// live; when the phone comes back it gets exactly what it missed, once, with the server's
// stanza-id, which is also what alice's archive (MAM through xbnc) calls those messages.
#include "bouncer_fixture.h"
#include "stanza_match.h"

#include <QRegularExpression>
#include <QtTest>

namespace {

bool isMessage(const XmlNode &n)
{
    return n.name == u"message";
}

QString stanzaIdOf(const XmlNode &message)
{
    const XmlNode *sid = message.child(u"stanza-id", u"urn:xmpp:sid:0");
    return sid && sid->attribute(u"by") == u"alice@localhost" ? sid->attribute(u"id") : QString();
}

} // namespace

class TestCatchUp : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void aDeviceGetsWhatItMissedWhileAnotherWasOnline();
    void catchUpSurvivesAnXbncRestart();
    void aDeviceSeesBothSidesOfWhatItMissed();

private:
    // The device's session ends and xbnc has seen it end.
    bool leave(const QString &resource);
    // bob writes `ids` to alice's bare JID; the laptop reads each live.
    bool bobWritesWhileTheLaptopReads(TestClient *laptop, const QStringList &ids);
    // The next messages the client gets are exactly `ids`, in order, each replayed by xbnc with
    // a delay and the server's stanza-id, which is returned by message id.
    std::optional<QHash<QString, QString>> expectReplayed(TestClient *client,
                                                          const QStringList &ids);
    // alice's archive, asked through xbnc, calls each message of `stanzaIds` by that id.
    bool archiveAgrees(TestClient *client, const QHash<QString, QString> &stanzaIds);

    BouncerFixture fixture_;
};

void TestCatchUp::initTestCase()
{
    QVERIFY2(fixture_.start({QStringLiteral("bob")}, BouncerFixture::Roster::OthersAreContacts),
             qPrintable(fixture_.errorString()));
}

void TestCatchUp::cleanup()
{
    fixture_.finishTest();
}

void TestCatchUp::cleanupTestCase()
{
    fixture_.stop();
}

bool TestCatchUp::leave(const QString &resource)
{
    TestClient *client = fixture_.session(resource);
    if (!client)
        return false;
    const qsizetype mark = fixture_.xbnc().outputSize();
    client->disconnectFromServer();
    return fixture_.xbnc().waitForLog(QRegularExpression(QStringLiteral("session \\d+ closed")),
                                      QDeadlineTimer(BouncerFixture::timeoutMs), mark) >= 0;
}

bool TestCatchUp::bobWritesWhileTheLaptopReads(TestClient *laptop, const QStringList &ids)
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    if (!bob)
        return false;
    for (const QString &id : ids)
        bob->send(QStringLiteral("<message to='alice@localhost' type='chat' id='%1'>"
                                 "<body>body of %1</body></message>")
                      .arg(id)
                      .toUtf8());
    for (const QString &id : ids) {
        const auto live = laptop->readUntil(match::message(id));
        if (!live) {
            qWarning() << laptop->errorString();
            return false;
        }
        if (live->child(u"delay", u"urn:xmpp:delay")) {
            qWarning() << "live message with a delay:" << live->toXml();
            return false;
        }
    }
    return true;
}

std::optional<QHash<QString, QString>> TestCatchUp::expectReplayed(TestClient *client,
                                                                   const QStringList &ids)
{
    QHash<QString, QString> stanzaIds;
    for (const QString &id : ids) {
        const auto message = client->readUntil(isMessage);
        if (!message) {
            qWarning() << client->errorString();
            return std::nullopt;
        }
        const XmlNode *delay = message->child(u"delay", u"urn:xmpp:delay");
        if (message->attribute(u"id") != id || !delay ||
            delay->attribute(u"from") != u"localhost" || stanzaIdOf(*message).isEmpty() ||
            message->child(u"body")->text() != QStringLiteral("body of ") + id) {
            qWarning() << "expected" << id << "replayed with a delay and a stanza-id, got"
                       << message->toXml();
            return std::nullopt;
        }
        stanzaIds.insert(id, stanzaIdOf(*message));
    }
    // Exactly those: nothing else (no second copy) before a round trip.
    if (!client->expectNone(isMessage)) {
        qWarning() << client->errorString();
        return std::nullopt;
    }
    return stanzaIds;
}

bool TestCatchUp::archiveAgrees(TestClient *client, const QHash<QString, QString> &stanzaIds)
{
    client->send("<iq type='set' id='mam1'><query xmlns='urn:xmpp:mam:2' queryid='catch-up'>"
                 "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
                 "<value>urn:xmpp:mam:2</value></field><field var='with'>"
                 "<value>bob@localhost</value></field></x>"
                 "<set xmlns='http://jabber.org/protocol/rsm'><max>50</max><before/></set>"
                 "</query></iq>");
    if (!client->readUntil(match::iq(QStringLiteral("mam1")))) {
        qWarning() << client->errorString();
        return false;
    }
    QHash<QString, QString> archived; // message id → archive id
    for (const XmlNode &n : client->takeBuffered()) {
        const XmlNode *result = n.child(u"result", u"urn:xmpp:mam:2");
        const XmlNode *forwarded = result ? result->child(u"forwarded") : nullptr;
        const XmlNode *inner = forwarded ? forwarded->child(u"message") : nullptr;
        if (inner && result->attribute(u"queryid") == u"catch-up")
            archived.insert(inner->attribute(u"id"), result->attribute(u"id"));
    }
    for (auto it = stanzaIds.cbegin(); it != stanzaIds.cend(); ++it)
        if (archived.value(it.key()) != it.value()) {
            qWarning() << "message" << it.key() << "replayed with stanza-id" << it.value()
                       << "but archived as" << archived.value(it.key());
            return false;
        }
    return true;
}

void TestCatchUp::aDeviceGetsWhatItMissedWhileAnotherWasOnline()
{
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    QVERIFY2(leave(QStringLiteral("phone")), "xbnc did not see the phone go");
    const QStringList missed = {QStringLiteral("a1"), QStringLiteral("a2"), QStringLiteral("a3")};
    QVERIFY(bobWritesWhileTheLaptopReads(laptop, missed));

    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    const auto stanzaIds = expectReplayed(phone, missed);
    QVERIFY(stanzaIds);
    // A client that also asks the server's archive recognises them as the same messages.
    QVERIFY(archiveAgrees(phone, *stanzaIds));

    // Once: neither the phone's next session nor the laptop's gets them again.
    phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(phone->expectNone(isMessage), qPrintable(phone->errorString()));
    laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    QVERIFY2(laptop->expectNone(isMessage), qPrintable(laptop->errorString()));
}

void TestCatchUp::catchUpSurvivesAnXbncRestart()
{
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    QVERIFY2(leave(QStringLiteral("phone")), "xbnc did not see the phone go");
    const QStringList missed = {QStringLiteral("r1"), QStringLiteral("r2"), QStringLiteral("r3")};
    QVERIFY(bobWritesWhileTheLaptopReads(laptop, missed));

    QVERIFY2(fixture_.stopXbnc(), qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.startXbnc(), qPrintable(fixture_.errorString()));

    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY(expectReplayed(phone, missed));
    laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    QVERIFY2(laptop->expectNone(isMessage), qPrintable(laptop->errorString()));
    phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(phone->expectNone(isMessage), qPrintable(phone->errorString()));
}

// The phone is away while alice talks with bob from her laptop (through xbnc) and from her desk
// (straight to Prosody, which tells xbnc with a <sent> carbon): back, with carbons enabled, it
// gets both sides of the conversation in order, her own messages as <sent> carbons.
void TestCatchUp::aDeviceSeesBothSidesOfWhatItMissed()
{
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    TestClient *desk = fixture_.direct(QStringLiteral("alice"));
    QVERIFY2(desk, qPrintable(fixture_.errorString()));
    QVERIFY2(leave(QStringLiteral("phone")), "xbnc did not see the phone go");

    // bob writes to alice's bare JID; the laptop reads it live.
    const auto bobWrites = [&](const QString &id) {
        bob->send(QStringLiteral("<message to='alice@localhost' type='chat' id='%1'><body>body "
                                 "of %1</body></message>")
                      .arg(id)
                      .toUtf8());
        return laptop->readUntil(match::message(id)).has_value();
    };
    QVERIFY2(bobWrites(QStringLiteral("b1")), qPrintable(laptop->errorString()));
    laptop->send("<message to='bob@localhost/desk' type='chat' id='l1'><body>body of l1</body>"
                 "</message>");
    QVERIFY2(bob->readUntil(match::message(QStringLiteral("l1"))), qPrintable(bob->errorString()));
    desk->send("<message to='bob@localhost/desk' type='chat' id='d1'><body>body of d1</body>"
               "</message>");
    QVERIFY2(bob->readUntil(match::message(QStringLiteral("d1"))), qPrintable(bob->errorString()));
    // The laptop reading b2 live means xbnc has had the carbon of d1, which came before.
    QVERIFY2(bobWrites(QStringLiteral("b2")), qPrintable(laptop->errorString()));

    TestClientOptions options = fixture_.sessionOptions(QStringLiteral("phone"));
    options.sendInitialPresence = false;
    TestClient phone(QStringLiteral("phone"));
    QVERIFY2(phone.login(options), qPrintable(phone.errorString()));
    phone.send("<iq type='set' id='carbons'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
    QVERIFY2(phone.readUntil(match::iq(QStringLiteral("carbons"))),
             qPrintable(phone.errorString()));
    phone.send("<presence/>");
    const QStringList expected = {"b1", "sent l1", "sent d1", "b2"};
    QStringList got;
    for (int i = 0; i < expected.size(); ++i) {
        const auto message = phone.readUntil(isMessage);
        QVERIFY2(message, qPrintable(phone.errorString()));
        QVERIFY2(message->child(u"delay", u"urn:xmpp:delay"), message->toXml().constData());
        const XmlNode *sent = message->child(u"sent", u"urn:xmpp:carbons:2");
        const XmlNode *forwarded = sent ? sent->child(u"forwarded") : nullptr;
        const XmlNode *inner = forwarded ? forwarded->child(u"message") : nullptr;
        got << (inner ? QStringLiteral("sent ") + inner->attribute(u"id")
                      : message->attribute(u"id"));
    }
    QCOMPARE(got, expected);
    QVERIFY2(phone.expectNone(isMessage), qPrintable(phone.errorString()));
    // The laptop wrote l1 itself and asked for no carbons: nothing comes back to it.
    QVERIFY2(laptop->expectNone(isMessage), qPrintable(laptop->errorString()));
}

QTEST_GUILESS_MAIN(TestCatchUp)
#include "tst_catch_up.moc"
