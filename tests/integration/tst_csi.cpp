// XEP-0352 client state indication through xbnc, end to end: a phone that says it is inactive
// gets nothing for its contacts' and rooms' presence changes until something matters, then the
// latest presence (with <delay/>) right before the message; a laptop that stays active sees
// every change live (issue #9 §4, §8). bob and carol log in straight to Prosody, alice's
// contacts.
#include "bouncer_fixture.h"
#include "muc_helpers.h"
#include "stanza_match.h"

#include <QtTest>

namespace {

const QByteArray inactive = "<inactive xmlns='urn:xmpp:csi:0'/>";
const QByteArray active = "<active xmlns='urn:xmpp:csi:0'/>";

QString showOf(const XmlNode &presence)
{
    const XmlNode *show = presence.child(u"show");
    return show ? show->text() : QString();
}

std::function<bool(const XmlNode &)> presenceWithShow(const QString &from, const QString &show)
{
    return [from, show](const XmlNode &n) {
        return n.name == u"presence" && n.attribute(u"from") == from && showOf(n) == show;
    };
}

QString describe(const QList<XmlNode> &stanzas)
{
    return muc::describe(stanzas);
}

// Empty when `held` is exactly one presence from `from` showing `show`, with xbnc's delay.
QString checkCollapsed(const QList<XmlNode> &held, const QString &from, const QString &show)
{
    if (held.size() != 1 || held[0].name != u"presence" || held[0].attribute(u"from") != from ||
        showOf(held[0]) != show)
        return QStringLiteral("expected only the latest presence of %1 (%2) before the message, "
                              "got:\n%3")
            .arg(from, show, describe(held));
    const XmlNode *delay = held[0].child(u"delay", mucns::delay);
    if (!delay || delay->attribute(u"from") != u"localhost" ||
        !QDateTime::fromString(delay->attribute(u"stamp"), Qt::ISODateWithMs).isValid())
        return QStringLiteral("the held presence has no delay from localhost:\n") + describe(held);
    return {};
}

} // namespace

class TestCsi : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(fixture_.start({QStringLiteral("bob"), QStringLiteral("carol")},
                                BouncerFixture::Roster::OthersAreContacts),
                 qPrintable(fixture_.errorString()));
    }
    void cleanup() { fixture_.finishTest(); }
    void cleanupTestCase() { fixture_.stop(); }

    void aPresenceFloodWaitsForTheMessage();
    void aRoomPresenceFloodWaitsForAGroupchatMessage();

private:
    // The phone says it is inactive; once this returns xbnc has handled that and the phone's
    // buffer is empty.
    bool goInactive(TestClient &phone);

    BouncerFixture fixture_;
};

bool TestCsi::goInactive(TestClient &phone)
{
    phone.send(inactive);
    // The ping flushes nothing (nothing is held yet) and proves <inactive/> was handled.
    return phone.ping().has_value();
}

void TestCsi::aPresenceFloodWaitsForTheMessage()
{
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(phone->features().child(u"csi", u"urn:xmpp:csi:0"),
             phone->features().toXml().constData());
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    const QString bobJid = QStringLiteral("bob@localhost/desk");
    // bob's arrival reached both, so nothing from before the flood is still on its way.
    for (TestClient *session : {phone, laptop})
        QVERIFY2(session->readUntil(match::presenceFrom(bobJid)),
                 qPrintable(session->errorString()));
    QVERIFY2(goInactive(*phone), qPrintable(phone->errorString()));
    QVERIFY2(laptop->ping(), qPrintable(laptop->errorString()));

    const QStringList shows = {"away", "xa", "dnd", "chat", "away", "dnd"};
    for (const QString &show : shows)
        bob->send("<presence><show>" + show.toUtf8() + "</show></presence>");
    for (const QString &show : shows) // live, in order
        QVERIFY2(laptop->readUntil(presenceWithShow(bobJid, show)),
                 qPrintable(laptop->errorString()));

    bob->send("<message to='alice@localhost' type='chat' id='lunch'><body>lunch?</body></message>");
    const auto message = phone->readUntil(match::message("lunch"));
    QVERIFY2(message, qPrintable(phone->errorString()));
    QVERIFY2(!message->child(u"delay", mucns::delay), message->toXml().constData());
    const QString problem = checkCollapsed(phone->takeBuffered(), bobJid, "dnd");
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY2(laptop->readUntil(match::message("lunch")), qPrintable(laptop->errorString()));

    // Nothing is held now: <active/> brings nothing.
    phone->send(active);
    QVERIFY2(phone->expectNone([](const XmlNode &) { return true; }),
             qPrintable(phone->errorString()));
    // And an active phone sees changes live again.
    bob->send("<presence><show>xa</show></presence>");
    const auto live = phone->readUntil(presenceWithShow(bobJid, "xa"));
    QVERIFY2(live, qPrintable(phone->errorString()));
    QVERIFY2(!live->child(u"delay", mucns::delay), live->toXml().constData());
    QVERIFY2(laptop->readUntil(presenceWithShow(bobJid, "xa")), qPrintable(laptop->errorString()));
}

void TestCsi::aRoomPresenceFloodWaitsForAGroupchatMessage()
{
    const QString room = QStringLiteral("csi@conference.localhost");
    const QString carolInRoom = room + QStringLiteral("/carol");
    QString error;
    TestClient *carol = fixture_.direct(QStringLiteral("carol"));
    QVERIFY2(carol, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::createRoom(*carol, room, QStringLiteral("carol"), {}, &error), qPrintable(error));
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::join(*phone, room + QStringLiteral("/alice"), &error), qPrintable(error));
    QVERIFY2(carol->readUntil(muc::presenceFrom(room + QStringLiteral("/alice"))),
             qPrintable(carol->errorString()));
    QVERIFY2(goInactive(*phone), qPrintable(phone->errorString()));

    const QStringList shows = {"away", "xa", "dnd", "away"};
    for (const QString &show : shows)
        carol->send("<presence to='" + carolInRoom.toUtf8() + "'><show>" + show.toUtf8() +
                    "</show></presence>");
    // The room reflects each change to carol too: once she has the last, xbnc has had them all.
    for (const QString &show : shows)
        QVERIFY2(carol->readUntil(presenceWithShow(carolInRoom, show)),
                 qPrintable(carol->errorString()));

    carol->send(muc::groupchat(room, QStringLiteral("g1"), QStringLiteral("hello")));
    const auto message = phone->readUntil(muc::groupchatWithBody(room, QStringLiteral("hello")));
    QVERIFY2(message, qPrintable(phone->errorString()));
    const QString problem = checkCollapsed(phone->takeBuffered(), carolInRoom, "away");
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

QTEST_GUILESS_MAIN(TestCsi)
#include "tst_csi.moc"
