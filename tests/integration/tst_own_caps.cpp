// xbnc's own XEP-0115 caps against a real Prosody: with no session connected, the caps in its
// idle presence still ask for bookmark notifications, so a bookmark published by another client
// of the account (connected straight to Prosody) makes xbnc join the room by itself.
#include "bouncer_fixture.h"
#include "muc_helpers.h"

#include <QtTest>

namespace {
const QString xbncJid = QStringLiteral("alice@localhost/xbnc");
constexpr char16_t capsNs[] = u"http://jabber.org/protocol/caps";
constexpr char16_t discoInfoNs[] = u"http://jabber.org/protocol/disco#info";
} // namespace

class TestOwnCaps : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();
    void sessionlessXbncFollowsABookmarkPublishedElsewhere();

private:
    BouncerFixture fixture_;
};

void TestOwnCaps::initTestCase()
{
    QVERIFY2(fixture_.start({QStringLiteral("bob")}), qPrintable(fixture_.errorString()));
}

void TestOwnCaps::cleanup()
{
    fixture_.finishTest();
}

void TestOwnCaps::cleanupTestCase()
{
    fixture_.stop();
}

void TestOwnCaps::sessionlessXbncFollowsABookmarkPublishedElsewhere()
{
    const QString room = QStringLiteral("pepmarks@conference.localhost");
    const QString aliceThere = room + QStringLiteral("/pep");
    QString error;
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    QVERIFY2(muc::createRoom(*bob, room, QStringLiteral("bob"), {}, &error), qPrintable(error));

    // Another client of the account, not through xbnc: its initial presence gets it xbnc's.
    TestClient *other = fixture_.direct(BouncerFixture::accountUser());
    QVERIFY2(other, qPrintable(fixture_.errorString()));
    const auto presence = other->readUntil([](const XmlNode &stanza) {
        return stanza.name == u"presence" && stanza.attribute(u"from") == xbncJid;
    });
    QVERIFY2(presence, qPrintable(other->errorString()));
    const XmlNode *c = presence->child(u"c", capsNs);
    QVERIFY2(c, presence->toXml().constData());
    QCOMPARE(c->attribute(u"hash"), QStringLiteral("sha-1"));
    const QString nodeVer = c->attribute(u"node") + u'#' + c->attribute(u"ver");

    // xbnc answers node#ver itself. It also marks the point after which Prosody knows xbnc's
    // interests: Prosody asked the same question when xbnc's presence came in, and xbnc answers
    // on one stream in order.
    const auto info = muc::request(*other, QStringLiteral("caps1"),
                                   "<iq type='get' id='caps1' to='" + xbncJid.toUtf8() +
                                       "'><query xmlns='http://jabber.org/protocol/disco#info' "
                                       "node='" +
                                       nodeVer.toUtf8() + "'/></iq>",
                                   &error);
    QVERIFY2(info, qPrintable(error));
    QCOMPARE(info->attribute(u"type"), QStringLiteral("result"));
    const XmlNode *query = info->child(u"query", discoInfoNs);
    QVERIFY2(query, info->toXml().constData());
    QStringList features;
    for (const XmlNode &feature : query->children)
        if (feature.name == u"feature")
            features.append(feature.attribute(u"var"));
    QVERIFY2(features.contains(QStringLiteral("urn:xmpp:bookmarks:1+notify")),
             info->toXml().constData());

    QVERIFY2(muc::publishAutojoinBookmark(*other, room, QStringLiteral("pep"), &error),
             qPrintable(error));
    // No session is connected to xbnc: only the PEP notification can have made it join.
    QVERIFY2(bob->readUntil(muc::presenceFrom(aliceThere)), qPrintable(bob->errorString()));
}

QTEST_GUILESS_MAIN(TestOwnCaps)
#include "tst_own_caps.moc"
