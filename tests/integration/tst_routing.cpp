// Which session gets what the world addresses to the account's one upstream JID (issue #7):
// XEP-0313 results only to the session whose query they answer, under its own queryid (§2.2),
// and requests from a peer to the session talking to that peer, else to the leading session
// (§2.1). Real Prosody (mod_mam, muc_mam), sessions through xbnc, bob straight on Prosody.
// Caps queries for the account's advertised caps are answered by xbnc itself.
#include "mam_query.h"
#include "muc_helpers.h"
#include "prosody_fixture.h"
#include "stanza_match.h"
#include "test_client.h"
#include "xbnc_process.h"

#include <QtTest>

#include <algorithm>
#include <functional>
#include <memory>

namespace {

const QString alicePassword = QStringLiteral("alice-routing-pw");
const QString bobPassword = QStringLiteral("bob-routing-pw");
const QString account = QStringLiteral("alice@localhost");
// The JID every session is bound to, and the one the world sees.
const QString upstreamJid = QStringLiteral("alice@localhost/xbnc");
const QString mamNs = QStringLiteral("urn:xmpp:mam:2");
const QString rsmNs = QStringLiteral("http://jabber.org/protocol/rsm");
constexpr int archivedMessages = 6;

QString describe(const QList<XmlNode> &stanzas)
{
    QString text;
    for (const XmlNode &stanza : stanzas)
        text += QString::fromUtf8(stanza.toXml()) + QLatin1Char('\n');
    return text.isEmpty() ? QStringLiteral("(nothing)") : text;
}

// One archived message as a session received it.
struct MamResult
{
    QString queryId;
    QString archiveId; // <result id=…>
    QString body;      // of the forwarded message
};

// The XEP-0313 result messages among `stanzas` (whatever their queryid), in order.
QList<MamResult> mamResults(const QList<XmlNode> &stanzas)
{
    QList<MamResult> results;
    for (const XmlNode &stanza : stanzas) {
        const XmlNode *result =
            stanza.name == u"message" ? stanza.child(u"result", mamNs) : nullptr;
        if (!result)
            continue;
        const XmlNode *forwarded = result->child(u"forwarded", u"urn:xmpp:forward:0");
        const XmlNode *message = forwarded ? forwarded->child(u"message") : nullptr;
        const XmlNode *body = message ? message->child(u"body") : nullptr;
        results.append({result->attribute(u"queryid"), result->attribute(u"id"),
                        body ? body->text() : QString()});
    }
    return results;
}

QByteArray mamQuery(const QByteArray &id, const QByteArray &to, int max,
                    const QByteArray &after = {})
{
    const QByteArray rsm = "<max>" + QByteArray::number(max) + "</max>" +
                           (after.isEmpty() ? QByteArray() : "<after>" + after + "</after>");
    return mam::query(QString::fromUtf8(id), QString::fromUtf8(to), QStringLiteral("q1"),
                      QString::fromUtf8(rsm))
        .toUtf8();
}

// A MAM query without a queryid (XEP-0313 makes it optional).
QByteArray plainMamQuery(const QByteArray &id, int max)
{
    return mam::query(QString::fromUtf8(id), {}, {}, QStringLiteral("<max>%1</max>").arg(max))
        .toUtf8();
}

// A request for the account, as the session it was routed to sees it.
std::function<bool(const XmlNode &)> requestFrom(const QString &from, const QString &xmlns)
{
    return [from, xmlns](const XmlNode &n) {
        return n.name == u"iq" && n.attribute(u"type") == u"get" && n.attribute(u"from") == from &&
               n.child(u"query", xmlns);
    };
}

bool anyIq(const QList<XmlNode> &stanzas)
{
    return std::any_of(stanzas.begin(), stanzas.end(),
                       [](const XmlNode &n) { return n.name == u"iq"; });
}

} // namespace

class TestRouting : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();
    // These two first: they count on alice's archive holding only seedArchive()'s messages,
    // and the tests after them write messages that the server archives too.
    void mamResultsGoOnlyToTheAskingSessionUnderItsQueryId();
    void mamQueriesWithoutQueryIdStayApart();
    void mamResultsOfASessionThatLeftGoToNoOtherSession();
    void roomMamResultsGoOnlyToTheAskingSession();
    void requestToASessionThatLeavesIsAnswered();
    void capsQueryForTheAccountsCapsIsAnsweredByXbnc();
    void peerRequestGoesToTheSessionInTheConversationElseToTheLeader();

private:
    // Once per run: bob's messages archived for alice, read by `sessions` as they arrive, so
    // that they are in the archive before any query.
    bool seedArchive(const QList<TestClient *> &sessions);
    std::unique_ptr<TestClient> session(const QString &resource, const QByteArray &presence);
    std::unique_ptr<TestClient> bob(const QString &resource);

    ProsodyFixture prosody_;
    XbncProcess xbnc_;
    bool archiveSeeded_ = false;
};

// A session through xbnc, logged in with its initial presence and bound to the upstream JID.
std::unique_ptr<TestClient> TestRouting::session(const QString &resource,
                                                 const QByteArray &presence)
{
    auto client = std::make_unique<TestClient>(resource);
    TestClientOptions o;
    o.port = xbnc_.port();
    o.fingerprint = xbnc_.fingerprint();
    o.user = QStringLiteral("alice");
    o.password = alicePassword;
    o.resource = resource;
    o.mechanism = QStringLiteral("SCRAM-SHA-256");
    o.initialPresence = presence;
    if (!client->login(o) || !client->ping()) {
        qWarning("%s: %s", qPrintable(resource), qPrintable(client->errorString()));
        return nullptr;
    }
    if (client->fullJid() != upstreamJid) {
        qWarning("%s was bound to %s, not %s", qPrintable(resource), qPrintable(client->fullJid()),
                 qPrintable(upstreamJid));
        return nullptr;
    }
    return client;
}

std::unique_ptr<TestClient> TestRouting::bob(const QString &resource)
{
    auto client = std::make_unique<TestClient>(QStringLiteral("bob/") + resource);
    TestClientOptions o;
    o.port = prosody_.c2sPort();
    o.caFile = prosody_.caCertificatePath();
    o.user = QStringLiteral("bob");
    o.password = bobPassword;
    o.resource = resource;
    if (!client->login(o)) {
        qWarning("bob/%s: %s", qPrintable(resource), qPrintable(client->errorString()));
        return nullptr;
    }
    return client;
}

bool TestRouting::seedArchive(const QList<TestClient *> &sessions)
{
    if (archiveSeeded_)
        return true;
    auto desk = bob(QStringLiteral("desk"));
    if (!desk)
        return false;
    // bob writes; the server archives each message for alice and delivers it to every session.
    for (int i = 1; i <= archivedMessages; ++i)
        desk->send(QStringLiteral("<message to='%1' type='chat' id='a%2'><body>archived "
                                  "%2</body></message>")
                       .arg(account)
                       .arg(i)
                       .toUtf8());
    const QString lastId = QStringLiteral("a%1").arg(archivedMessages);
    for (TestClient *s : sessions) {
        if (!s->readUntil(match::message(lastId)) || !s->ping()) {
            qWarning("%s", qPrintable(s->errorString()));
            return false;
        }
        s->takeBuffered();
    }
    archiveSeeded_ = true;
    return true;
}

void TestRouting::initTestCase()
{
    QString error;
    QVERIFY2(prosody_.start(&error), qPrintable(error));
    QVERIFY(prosody_.addUser(QStringLiteral("alice"), alicePassword));
    QVERIFY(prosody_.addUser(QStringLiteral("bob"), bobPassword));
    QVERIFY2(xbnc_.start(xbnc_.configFor(prosody_, QStringLiteral("alice"), alicePassword), &error),
             qPrintable(error));
    QVERIFY2(xbnc_.waitForLog(QStringLiteral("upstream online as ") + upstreamJid) >= 0,
             qPrintable(xbnc_.output()));
}

void TestRouting::cleanup()
{
    if (QTest::currentTestFailed()) {
        qInfo().noquote() << "--- xbnc output ---\n" << xbnc_.output().right(8000);
        qInfo().noquote() << "--- prosody log (tail) ---\n" << prosody_.logText().right(6000);
    }
}

void TestRouting::cleanupTestCase()
{
    QString error;
    QVERIFY2(xbnc_.stop(&error), qPrintable(error));
}

void TestRouting::mamResultsGoOnlyToTheAskingSessionUnderItsQueryId()
{
    auto phone = session(QStringLiteral("phone"), "<presence/>");
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"), "<presence/>");
    QVERIFY(laptop);
    QVERIFY(seedArchive({phone.get(), laptop.get()}));

    // The same queryid (and IQ id) from both at once; phone asks the account's archive with no
    // 'to', laptop with the bare JID. Page sizes differ so that each page shows whose it is.
    phone->send(mamQuery("mam1", {}, 2));
    laptop->send(mamQuery("mam1", account.toUtf8(), 3));

    // Both <fin/>s first: every result of both queries has then been routed (results come
    // before their <fin/>), so a round trip through xbnc after that brings anything misrouted.
    const auto phoneFin = phone->readUntil(match::iq(QStringLiteral("mam1")));
    QVERIFY2(phoneFin, qPrintable(phone->errorString()));
    const auto laptopFin = laptop->readUntil(match::iq(QStringLiteral("mam1")));
    QVERIFY2(laptopFin, qPrintable(laptop->errorString()));

    const QStringList bodies = {QStringLiteral("archived 1"), QStringLiteral("archived 2"),
                                QStringLiteral("archived 3")};
    QString phoneLast;
    QStringList phoneIds;
    for (TestClient *s : {phone.get(), laptop.get()}) {
        const bool isPhone = s == phone.get();
        const XmlNode &fin = isPhone ? *phoneFin : *laptopFin;
        const qsizetype expected = isPhone ? 2 : 3;
        const auto received = s->ping();
        QVERIFY2(received, qPrintable(s->errorString()));
        const QList<MamResult> results = mamResults(*received);
        QVERIFY2(results.size() == expected,
                 qPrintable(QStringLiteral("%1 expected %2 results, got:\n%3")
                                .arg(s->name())
                                .arg(expected)
                                .arg(describe(*received))));
        QStringList ids;
        for (qsizetype i = 0; i < results.size(); ++i) {
            QCOMPARE(results[i].queryId, QStringLiteral("q1"));
            QCOMPARE(results[i].body, bodies[i]);
            QVERIFY(!results[i].archiveId.isEmpty());
            ids.append(results[i].archiveId);
        }
        QCOMPARE(fin.attribute(u"type"), QStringLiteral("result"));
        const XmlNode *done = fin.child(u"fin", mamNs);
        QVERIFY2(done, fin.toXml().constData());
        QVERIFY2(done->attribute(u"complete") != u"true", fin.toXml().constData());
        const XmlNode *set = done->child(u"set", rsmNs);
        QVERIFY2(set && set->child(u"first") && set->child(u"last"), fin.toXml().constData());
        QCOMPARE(set->child(u"first")->text(), ids.first());
        QCOMPARE(set->child(u"last")->text(), ids.last());
        if (isPhone) {
            phoneLast = ids.last();
            phoneIds = ids;
        } else {
            QCOMPARE(ids.mid(0, 2), phoneIds); // the same archive, the same messages
        }
    }

    // phone pages on from where its page ended; laptop sees nothing of it.
    phone->send(mamQuery("mam2", {}, 2, phoneLast.toUtf8()));
    const auto fin = phone->readUntil(match::iq(QStringLiteral("mam2")));
    QVERIFY2(fin, qPrintable(phone->errorString()));
    const auto received = phone->ping();
    QVERIFY2(received, qPrintable(phone->errorString()));
    const QList<MamResult> results = mamResults(*received);
    QVERIFY2(results.size() == 2, qPrintable(describe(*received)));
    QCOMPARE(results[0].queryId, QStringLiteral("q1"));
    QCOMPARE(results[1].queryId, QStringLiteral("q1"));
    QCOMPARE(results[0].body, QStringLiteral("archived 3"));
    QCOMPARE(results[1].body, QStringLiteral("archived 4"));
    QCOMPARE(fin->attribute(u"type"), QStringLiteral("result"));
    const XmlNode *done = fin->child(u"fin", mamNs);
    const XmlNode *set = done ? done->child(u"set", rsmNs) : nullptr;
    QVERIFY2(set && set->child(u"last"), fin->toXml().constData());
    QCOMPARE(set->child(u"last")->text(), results[1].archiveId);
    const auto laptopSaw = laptop->ping();
    QVERIFY2(laptopSaw, qPrintable(laptop->errorString()));
    QVERIFY2(mamResults(*laptopSaw).isEmpty(), qPrintable(describe(*laptopSaw)));
    QVERIFY2(!anyIq(*laptopSaw), qPrintable(describe(*laptopSaw)));
}

void TestRouting::mamQueriesWithoutQueryIdStayApart()
{
    auto phone = session(QStringLiteral("phone"), "<presence/>");
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"), "<presence/>");
    QVERIFY(laptop);
    QVERIFY(seedArchive({phone.get(), laptop.get()}));
    for (TestClient *s : {phone.get(), laptop.get()}) {
        QVERIFY2(s->ping(), qPrintable(s->errorString()));
        s->takeBuffered();
    }
    phone->send(plainMamQuery("plain", 1));
    laptop->send(plainMamQuery("plain", 4));
    const auto phoneFin = phone->readUntil(match::iq(QStringLiteral("plain")));
    QVERIFY2(phoneFin, qPrintable(phone->errorString()));
    const auto laptopFin = laptop->readUntil(match::iq(QStringLiteral("plain")));
    QVERIFY2(laptopFin, qPrintable(laptop->errorString()));
    for (TestClient *s : {phone.get(), laptop.get()}) {
        const qsizetype expected = s == phone.get() ? 1 : 4;
        const XmlNode &fin = s == phone.get() ? *phoneFin : *laptopFin;
        QCOMPARE(fin.attribute(u"type"), QStringLiteral("result"));
        const auto received = s->ping();
        QVERIFY2(received, qPrintable(s->errorString()));
        const QList<MamResult> results = mamResults(*received);
        QVERIFY2(results.size() == expected,
                 qPrintable(s->name() + QStringLiteral(":\n") + describe(*received)));
        // No queryid was asked for, so none comes back (not xbnc's own).
        for (const XmlNode &stanza : *received)
            if (const XmlNode *result = stanza.child(u"result", mamNs))
                QVERIFY2(!result->hasAttribute(u"queryid"), stanza.toXml().constData());
        for (qsizetype i = 0; i < results.size(); ++i)
            QCOMPARE(results[i].body, QStringLiteral("archived %1").arg(i + 1));
    }
}

void TestRouting::mamResultsOfASessionThatLeftGoToNoOtherSession()
{
    // The archive is bob's client, so that its results can be made to come after the asking
    // session is gone (Prosody's own archive answers within a millisecond, before xbnc has
    // even seen the connection end). The routing is the same for every archive.
    auto laptop = session(QStringLiteral("laptop"), "<presence/>");
    QVERIFY(laptop);
    auto archive = bob(QStringLiteral("archive"));
    QVERIFY(archive);
    const QString archiveJid = archive->fullJid();
    const qsizetype mark = xbnc_.outputSize();
    auto leaver = session(QStringLiteral("leaver"), "<presence/>");
    QVERIFY(leaver);
    QRegularExpressionMatch bound;
    QVERIFY2(xbnc_.waitForLog(
                 QRegularExpression(QStringLiteral("session (\\d+) bound as resource leaver")),
                 QDeadlineTimer(XbncProcess::defaultTimeoutMs), mark, &bound) >= 0,
             qPrintable(xbnc_.output()));
    QVERIFY2(laptop->ping(), qPrintable(laptop->errorString()));
    laptop->takeBuffered();

    leaver->send(mamQuery("gone", archiveJid.toUtf8(), 2));
    const auto query = archive->readUntil([](const XmlNode &n) {
        return n.name == u"iq" && n.attribute(u"type") == u"set" && n.child(u"query", mamNs);
    });
    QVERIFY2(query, qPrintable(archive->errorString()));
    const QString token = query->child(u"query", mamNs)->attribute(u"queryid");
    QVERIFY2(!token.isEmpty() && token != u"q1", query->toXml().constData());
    leaver->disconnectFromServer();
    QVERIFY2(xbnc_.waitForLog(QStringLiteral("session %1 closed").arg(bound.captured(1)),
                              QDeadlineTimer(XbncProcess::defaultTimeoutMs), mark) >= 0,
             qPrintable(xbnc_.output()));

    // Now the archive answers, then writes a message of its own as a barrier (one connection,
    // delivered in order).
    for (int i = 1; i <= 2; ++i)
        archive->send(QStringLiteral("<message to='%1'><result xmlns='urn:xmpp:mam:2' queryid='%2' "
                                     "id='late%3'><forwarded xmlns='urn:xmpp:forward:0'><message "
                                     "xmlns='jabber:client' from='%4' to='%5' type='chat'><body>"
                                     "late %3</body></message></forwarded></result></message>")
                          .arg(upstreamJid, token)
                          .arg(i)
                          .arg(archiveJid, account)
                          .toUtf8());
    archive->send("<iq type='result' id='" + query->attribute(u"id").toUtf8() + "' to='" +
                  upstreamJid.toUtf8() +
                  "'><fin xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>"
                  "<first>late1</first><last>late2</last></set></fin></iq>");
    archive->send("<message to='" + upstreamJid.toUtf8() +
                  "' type='chat' id='barrier'><body>after the results</body></message>");
    QVERIFY2(laptop->readUntil(match::message(QStringLiteral("barrier"))),
             qPrintable(laptop->errorString()));
    const QList<XmlNode> received = laptop->takeBuffered();
    const QList<MamResult> results = mamResults(received);
    if (!results.isEmpty())
        qInfo().noquote() << "laptop received:\n" << describe(received);
    QVERIFY2(results.isEmpty(), qPrintable(describe(received)));
}

void TestRouting::roomMamResultsGoOnlyToTheAskingSession()
{
    const QString room = QStringLiteral("log@conference.localhost");
    QString error;
    auto owner = bob(QStringLiteral("desk"));
    QVERIFY(owner);
    QVERIFY2(muc::createRoom(*owner, room, QStringLiteral("bob"), {}, &error), qPrintable(error));
    auto phone = session(QStringLiteral("phone"), "<presence/>");
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"), "<presence/>");
    QVERIFY(laptop);
    for (TestClient *s : {phone.get(), laptop.get()})
        QVERIFY2(muc::join(*s, room + QStringLiteral("/alice"), &error), qPrintable(error));
    for (int i = 1; i <= 4; ++i)
        owner->send(QStringLiteral("<message to='%1' type='groupchat' id='r%2'><body>room "
                                   "%2</body></message>")
                        .arg(room)
                        .arg(i)
                        .toUtf8());
    for (TestClient *s : {phone.get(), laptop.get()}) {
        QVERIFY2(s->readUntil(muc::groupchatWithBody(room, QStringLiteral("room 4"))),
                 qPrintable(s->errorString()));
        QVERIFY2(s->ping(), qPrintable(s->errorString()));
        s->takeBuffered();
    }

    phone->send(mamQuery("rm", room.toUtf8(), 2));
    laptop->send(mamQuery("rm", room.toUtf8(), 3));
    const auto phoneFin = phone->readUntil(match::iq(QStringLiteral("rm")));
    QVERIFY2(phoneFin, qPrintable(phone->errorString()));
    const auto laptopFin = laptop->readUntil(match::iq(QStringLiteral("rm")));
    QVERIFY2(laptopFin, qPrintable(laptop->errorString()));
    for (TestClient *s : {phone.get(), laptop.get()}) {
        const XmlNode &fin = s == phone.get() ? *phoneFin : *laptopFin;
        QCOMPARE(fin.attribute(u"type"), QStringLiteral("result"));
        QCOMPARE(fin.attribute(u"from"), room);
        const qsizetype expected = s == phone.get() ? 2 : 3;
        const auto received = s->ping();
        QVERIFY2(received, qPrintable(s->errorString()));
        const QList<MamResult> results = mamResults(*received);
        QVERIFY2(results.size() == expected,
                 qPrintable(s->name() + QStringLiteral(":\n") + describe(*received)));
        for (qsizetype i = 0; i < results.size(); ++i) {
            QCOMPARE(results[i].queryId, QStringLiteral("q1"));
            QCOMPARE(results[i].body, QStringLiteral("room %1").arg(i + 1));
        }
    }
}

void TestRouting::requestToASessionThatLeavesIsAnswered()
{
    auto phone = session(QStringLiteral("phone"), "<presence><show>away</show></presence>");
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"), "<presence/>");
    QVERIFY(laptop);
    auto desk = bob(QStringLiteral("desk"));
    QVERIFY(desk);
    const QString bobDesk = desk->fullJid();
    phone->send("<message to='" + bobDesk.toUtf8() +
                "' type='chat' id='o0'><body>ask me</body></message>");
    QVERIFY2(desk->readUntil(match::message(QStringLiteral("o0"))),
             qPrintable(desk->errorString()));
    desk->send("<iq type='get' id='o1' to='" + upstreamJid.toUtf8() +
               "'><query xmlns='urn:xbnc:test:custom'/></iq>");
    QVERIFY2(phone->readUntil(requestFrom(bobDesk, QStringLiteral("urn:xbnc:test:custom"))),
             qPrintable(phone->errorString()));
    // phone goes away without answering: bob is told, now, under his own id.
    phone->disconnectFromServer();
    const auto reply = desk->readUntil(match::iq(QStringLiteral("o1")));
    QVERIFY2(reply, qPrintable(desk->errorString()));
    QCOMPARE(reply->attribute(u"type"), QStringLiteral("error"));
    QCOMPARE(reply->attribute(u"from"), upstreamJid);
    QCOMPARE(muc::errorCondition(*reply), QStringLiteral("service-unavailable"));
    const auto laptopSaw = laptop->ping();
    QVERIFY2(laptopSaw, qPrintable(laptop->errorString()));
    QVERIFY2(!anyIq(*laptopSaw), qPrintable(describe(*laptopSaw)));
}

void TestRouting::capsQueryForTheAccountsCapsIsAnsweredByXbnc()
{
    // XEP-0115: peers resolve the caps in the account's presence by asking disco#info of
    // node#ver at the full JID. The account shows xbnc's own caps (what the sessions can do
    // together), so xbnc answers, even when a session is in a conversation with the peer.
    auto phone = session(QStringLiteral("phone"),
                         "<presence><show>away</show><c xmlns='http://jabber.org/protocol/caps' "
                         "hash='sha-1' node='https://phone.example/client' "
                         "ver='cGhvbmUtY2Fwcy12ZXI='/></presence>");
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"),
                          "<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                          "node='https://laptop.example/client' ver='bGFwdG9wLWNhcHMtdmVy'/>"
                          "</presence>");
    QVERIFY(laptop);
    // What the world sees: the server's reflection of the account's presence has xbnc's caps.
    QString capsNode;
    QVERIFY2(phone->readUntil([&](const XmlNode &n) {
        const XmlNode *c = n.child(u"c", u"http://jabber.org/protocol/caps");
        if (n.name != u"presence" || n.attribute(u"from") != upstreamJid || !c)
            return false;
        capsNode = c->attribute(u"node") + u'#' + c->attribute(u"ver");
        return true;
    }),
             qPrintable(phone->errorString()));
    QVERIFY2(!capsNode.startsWith(u"https://laptop.example/client") &&
                 !capsNode.startsWith(u"https://phone.example/client"),
             qPrintable(capsNode));
    auto desk = bob(QStringLiteral("desk"));
    QVERIFY(desk);
    const QString bobDesk = desk->fullJid();
    phone->send("<message to='" + bobDesk.toUtf8() +
                "' type='chat' id='k0'><body>hi</body></message>");
    QVERIFY2(desk->readUntil(match::message(QStringLiteral("k0"))),
             qPrintable(desk->errorString()));

    desk->send("<iq type='get' id='k1' to='" + upstreamJid.toUtf8() +
               "'><query xmlns='http://jabber.org/protocol/disco#info' node='" + capsNode.toUtf8() +
               "'/></iq>");
    const auto reply = desk->readUntil(match::iq(QStringLiteral("k1")));
    QVERIFY2(reply, qPrintable(desk->errorString()));
    QCOMPARE(reply->attribute(u"type"), QStringLiteral("result"));
    const XmlNode *query = reply->child(u"query", u"http://jabber.org/protocol/disco#info");
    QVERIFY2(query && query->attribute(u"node") == capsNode, reply->toXml().constData());
    const auto fromBob = [&](const XmlNode &n) {
        return n.name == u"iq" && n.attribute(u"from") == bobDesk;
    };
    for (TestClient *client : {phone.get(), laptop.get()}) {
        const auto saw = client->ping();
        QVERIFY2(saw, qPrintable(client->errorString()));
        QVERIFY2(std::none_of(saw->begin(), saw->end(), fromBob), qPrintable(describe(*saw)));
    }
}

void TestRouting::peerRequestGoesToTheSessionInTheConversationElseToTheLeader()
{
    // phone logs in first but shows away; laptop, plainly available, leads.
    auto phone = session(QStringLiteral("phone"), "<presence><show>away</show></presence>");
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"), "<presence/>");
    QVERIFY(laptop);
    auto desk = bob(QStringLiteral("desk"));
    QVERIFY(desk);
    const QString bobDesk = desk->fullJid();
    QCOMPARE(bobDesk, QStringLiteral("bob@localhost/desk"));

    // What a session answers, and what bob must get back under his own id.
    const auto answer = [](TestClient &s, const XmlNode &request, const QByteArray &name) {
        s.send("<iq type='result' id='" + request.attribute(u"id").toUtf8() + "' to='" +
               request.attribute(u"from").toUtf8() + "'><query xmlns='jabber:iq:version'><name>" +
               name + "</name><version>1.0</version></query></iq>");
    };
    const auto versionOf = [](const XmlNode &reply) {
        const XmlNode *query = reply.child(u"query", u"jabber:iq:version");
        const XmlNode *name = query ? query->child(u"name") : nullptr;
        return name ? name->text() : QString();
    };
    const auto versionRequest = [](const QString &id) {
        return QStringLiteral("<iq type='get' id='%1' to='%2'><query xmlns='jabber:iq:version'/>"
                              "</iq>")
            .arg(id, upstreamJid)
            .toUtf8();
    };

    // bob/desk asks for the version: `answerer` gets the request and answers as `name`, bob
    // gets that answer from the shared JID, and `bystander` sees no IQ at all (ping barrier).
    auto versionAnsweredBy = [&](const QString &id, TestClient &answerer, TestClient &bystander,
                                 const char *name) {
        desk->send(versionRequest(id));
        const auto request =
            answerer.readUntil(requestFrom(bobDesk, QStringLiteral("jabber:iq:version")));
        QVERIFY2(request, qPrintable(answerer.errorString()));
        QCOMPARE(request->attribute(u"to"), upstreamJid);
        answer(answerer, *request, name);
        const auto reply = desk->readUntil(match::iq(id));
        QVERIFY2(reply, qPrintable(desk->errorString()));
        QCOMPARE(reply->attribute(u"type"), QStringLiteral("result"));
        QCOMPARE(reply->attribute(u"from"), upstreamJid);
        QCOMPARE(versionOf(*reply), QString::fromLatin1(name));
        const auto bystanderSaw = bystander.ping();
        QVERIFY2(bystanderSaw, qPrintable(bystander.errorString()));
        QVERIFY2(!anyIq(*bystanderSaw), qPrintable(describe(*bystanderSaw)));
    };

    // 1. No conversation with bob yet: the leading session answers.
    versionAnsweredBy(QStringLiteral("v1"), *laptop, *phone, "laptop-client");
    if (QTest::currentTestFailed())
        return;

    // 2. phone and bob talk: phone writes to bob's full JID, bob writes back (to every session).
    phone->send("<message to='" + bobDesk.toUtf8() +
                "' type='chat' id='c1'><body>are you there?</body></message>");
    {
        const auto message = desk->readUntil(match::message(QStringLiteral("c1")));
        QVERIFY2(message, qPrintable(desk->errorString()));
        QCOMPARE(message->attribute(u"from"), upstreamJid);
    }
    desk->send("<message to='" + upstreamJid.toUtf8() +
               "' type='chat' id='c2'><body>yes, calling you</body></message>");
    for (TestClient *s : {phone.get(), laptop.get()})
        QVERIFY2(s->readUntil(match::message(QStringLiteral("c2"))), qPrintable(s->errorString()));

    // 3. bob's next request goes to phone, the session in the conversation, not the leader.
    versionAnsweredBy(QStringLiteral("v2"), *phone, *laptop, "phone-client");
    if (QTest::currentTestFailed())
        return;

    // 4. Another of bob's devices, which nobody talked to: the leader again, whatever the
    //    payload (a namespace xbnc knows nothing of).
    auto tablet = bob(QStringLiteral("tablet"));
    QVERIFY(tablet);
    const QString bobTablet = tablet->fullJid();
    tablet->send("<iq type='get' id='x1' to='" + upstreamJid.toUtf8() +
                 "'><query xmlns='urn:xbnc:test:custom'/></iq>");
    {
        const auto request =
            laptop->readUntil(requestFrom(bobTablet, QStringLiteral("urn:xbnc:test:custom")));
        QVERIFY2(request, qPrintable(laptop->errorString()));
        laptop->send("<iq type='result' id='" + request->attribute(u"id").toUtf8() + "' to='" +
                     bobTablet.toUtf8() + "'><query xmlns='urn:xbnc:test:custom'/></iq>");
        const auto reply = tablet->readUntil(match::iq(QStringLiteral("x1")));
        QVERIFY2(reply, qPrintable(tablet->errorString()));
        QCOMPARE(reply->attribute(u"type"), QStringLiteral("result"));
        QCOMPARE(reply->attribute(u"from"), upstreamJid);
        QVERIFY2(reply->child(u"query", u"urn:xbnc:test:custom"), reply->toXml().constData());
        const auto phoneSaw = phone->ping();
        QVERIFY2(phoneSaw, qPrintable(phone->errorString()));
        QVERIFY2(!anyIq(*phoneSaw), qPrintable(describe(*phoneSaw)));
    }

    // 5. laptop now asks bob something (an IQ, not a message): the conversation with bob/desk
    //    moves to laptop, the last session that addressed him.
    laptop->send("<iq type='get' id='l1' to='" + bobDesk.toUtf8() +
                 "'><query xmlns='jabber:iq:version'/></iq>");
    {
        const auto request =
            desk->readUntil(requestFrom(upstreamJid, QStringLiteral("jabber:iq:version")));
        QVERIFY2(request, qPrintable(desk->errorString()));
        answer(*desk, *request, "bob-client");
        const auto reply = laptop->readUntil(match::iq(QStringLiteral("l1")));
        QVERIFY2(reply, qPrintable(laptop->errorString()));
        QCOMPARE(versionOf(*reply), QStringLiteral("bob-client"));
    }
    versionAnsweredBy(QStringLiteral("v3"), *laptop, *phone, "laptop-client");
}

QTEST_GUILESS_MAIN(TestRouting)
#include "tst_routing.moc"
