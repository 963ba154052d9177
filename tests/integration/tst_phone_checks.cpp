// What a phone checks about "its server", done once straight against Prosody and once through
// xbnc: the "server info" screens of Conversations (XmppConnection.Features) and Monal read the
// stream features, the domain's and the account's disco#info, resolve the server's caps and try
// a few requests. Every check that passes directly must pass through xbnc. Also XEP-0237 roster
// versioning through xbnc, across a change and across a restart of xbnc.
#include "bouncer_fixture.h"
#include "muc_helpers.h"
#include "stanza_match.h"

#include <QCryptographicHash>
#include <QtTest>

#include <functional>

namespace {

constexpr char16_t discoInfoNs[] = u"http://jabber.org/protocol/disco#info";
constexpr char16_t rosterNs[] = u"jabber:iq:roster";

struct DiscoInfo
{
    bool answered = false;
    QStringList features;
    QStringList identities; // category/type
    XmlNode query;
};

// A disco#info as a client sends it; empty when there was no result.
DiscoInfo discoInfo(TestClient &client, const QString &id, const QString &to,
                    const QString &node = {})
{
    QByteArray iq = "<iq type='get' id='" + id.toUtf8() + "'";
    if (!to.isEmpty())
        iq += " to='" + to.toUtf8() + "'";
    iq += "><query xmlns='http://jabber.org/protocol/disco#info'";
    if (!node.isEmpty())
        iq += " node='" + node.toUtf8() + "'";
    iq += "/></iq>";
    QString error;
    const std::optional<XmlNode> reply = muc::request(client, id, iq, &error);
    DiscoInfo info;
    const XmlNode *query = reply ? reply->child(u"query", discoInfoNs) : nullptr;
    if (!query || reply->attribute(u"type") != u"result")
        return info;
    info.answered = true;
    info.query = *query;
    for (const XmlNode &c : query->children) {
        if (c.name == u"feature")
            info.features << c.attribute(u"var");
        else if (c.name == u"identity")
            info.identities << c.attribute(u"category") + u'/' + c.attribute(u"type");
    }
    return info;
}

// XEP-0115 §5.1, written here from the XEP rather than taken from xbnc, so that a mistake in
// xbnc's hashing cannot hide.
QString capsVer(const XmlNode &query)
{
    QStringList identities, features, forms;
    for (const XmlNode &c : query.children) {
        if (c.name == u"identity")
            identities << c.attribute(u"category") + u'/' + c.attribute(u"type") + u'/' +
                              c.attribute(u"xml:lang") + u'/' + c.attribute(u"name") + u'<';
        else if (c.name == u"feature")
            features << c.attribute(u"var") + u'<';
        else if (c.name == u"x" && c.xmlns == u"jabber:x:data") {
            QString formType;
            QStringList fields;
            for (const XmlNode &field : c.children) {
                if (field.name != u"field")
                    continue;
                QStringList values;
                for (const XmlNode &value : field.children)
                    if (value.name == u"value")
                        values << value.text() + u'<';
                if (field.attribute(u"var") == u"FORM_TYPE") {
                    formType = values.value(0);
                    continue;
                }
                values.sort();
                fields << field.attribute(u"var") + u'<' + values.join(QString());
            }
            fields.sort();
            if (!formType.isEmpty())
                forms << formType + fields.join(QString());
        }
    }
    identities.sort();
    features.sort();
    forms.sort();
    const QByteArray s =
        (identities.join(QString()) + features.join(QString()) + forms.join(QString())).toUtf8();
    return QString::fromLatin1(QCryptographicHash::hash(s, QCryptographicHash::Sha1).toBase64());
}

bool answeredWithResult(TestClient &client, const QString &id, const QByteArray &iq)
{
    QString error;
    const std::optional<XmlNode> reply = muc::request(client, id, iq, &error);
    return reply && reply->attribute(u"type") == u"result";
}

// What a phone learns about its server, gathered once per connection.
struct Probe
{
    TestClient *client = nullptr;
    // bob, straight to Prosody, and another available resource of the account on the same path
    // as `client`: what bob sends the account reaches it as well, so that once it has, what
    // `client` has not received was held back.
    TestClient *bob = nullptr;
    TestClient *otherResource = nullptr;
    QString domain;
    QString account;
    DiscoInfo domainInfo;
    DiscoInfo accountInfo;
    QString capsProblem; // empty: the <c/> resolves to a matching hash

    bool streamFeature(QStringView name, QStringView ns) const
    {
        return client->features().child(name, ns) != nullptr;
    }
};

QString checkCaps(Probe &probe)
{
    const XmlNode *c = probe.client->features().child(u"c", u"http://jabber.org/protocol/caps");
    if (!c)
        return QStringLiteral("no <c/> in the stream features");
    if (c->attribute(u"hash") != u"sha-1")
        return QStringLiteral("hash is not sha-1");
    const QString nodeVer = c->attribute(u"node") + u'#' + c->attribute(u"ver");
    const DiscoInfo info = discoInfo(*probe.client, QStringLiteral("caps"), probe.domain, nodeVer);
    if (!info.answered)
        return QStringLiteral("node#ver not answered");
    if (info.query.attribute(u"node") != nodeVer)
        return QStringLiteral("node#ver answered for another node");
    if (capsVer(info.query) != c->attribute(u"ver"))
        return QStringLiteral("the hash of node#ver is %1, the stream features say %2")
            .arg(capsVer(info.query), c->attribute(u"ver"));
    // The same entity, asked without the node, must be described the same way.
    if (capsVer(probe.domainInfo.query) != c->attribute(u"ver"))
        return QStringLiteral("the domain's disco#info hashes to %1, not %2")
            .arg(capsVer(probe.domainInfo.query), c->attribute(u"ver"));
    return {};
}

bool rosterVersioningWorks(TestClient &client)
{
    QString error;
    const auto first = muc::request(client, QStringLiteral("rv1"),
                                    "<iq type='get' id='rv1'><query xmlns='jabber:iq:roster' "
                                    "ver=''/></iq>",
                                    &error);
    const XmlNode *query = first ? first->child(u"query", rosterNs) : nullptr;
    if (!query || query->attribute(u"ver").isEmpty())
        return false;
    const auto again = muc::request(client, QStringLiteral("rv2"),
                                    "<iq type='get' id='rv2'><query xmlns='jabber:iq:roster' "
                                    "ver='" +
                                        query->attribute(u"ver").toUtf8() + "'/></iq>",
                                    &error);
    return again && again->attribute(u"type") == u"result" && !again->child(u"query", rosterNs);
}

// XEP-0352: while the client is inactive a presence change (not urgent) is held; <active/>
// brings exactly that presence, with a XEP-0203 <delay/>.
bool clientStateIndicationWorks(Probe &probe)
{
    if (!probe.streamFeature(u"csi", u"urn:xmpp:csi:0"))
        return false;
    // Answered before anything is held, so the server has the client inactive from here on.
    probe.client->send("<inactive xmlns='urn:xmpp:csi:0'/>");
    if (!probe.client->roundTrip())
        return false;
    // To the bare JID: every available resource gets it, with no subscription needed.
    const QString status = QStringLiteral("held for ") + probe.client->name();
    probe.bob->send("<presence to='" + probe.account.toUtf8() + "'><status>" + status.toUtf8() +
                    "</status></presence>");
    const auto heldPresence = [&status](const XmlNode &n) {
        const XmlNode *text = n.child(u"status");
        return n.name == u"presence" && n.attribute(u"from") == u"bob@localhost/desk" && text &&
               text->text() == status;
    };
    if (!probe.otherResource->readUntil(heldPresence))
        return false;
    probe.client->poll();
    for (const XmlNode &early : probe.client->takeBuffered())
        if (heldPresence(early))
            return false;
    probe.client->send("<active xmlns='urn:xmpp:csi:0'/>");
    const std::optional<XmlNode> released = probe.client->readUntil(heldPresence);
    return released && released->child(u"delay", u"urn:xmpp:delay") &&
           probe.client->expectNone(heldPresence);
}

bool uploadServiceFound(Probe &probe)
{
    QString error;
    const auto items = muc::request(*probe.client, QStringLiteral("items"),
                                    "<iq type='get' id='items' to='" + probe.domain.toUtf8() +
                                        "'><query "
                                        "xmlns='http://jabber.org/protocol/disco#items'/></iq>",
                                    &error);
    const XmlNode *query =
        items ? items->child(u"query", u"http://jabber.org/protocol/disco#items") : nullptr;
    if (!query)
        return false;
    int n = 0;
    for (const XmlNode &item : query->children)
        if (item.name == u"item" &&
            discoInfo(*probe.client, QStringLiteral("item%1").arg(++n), item.attribute(u"jid"))
                .features.contains(u"urn:xmpp:http:upload:0"))
            return true;
    return false;
}

struct Check
{
    QString name;
    std::function<bool(Probe &)> passes;
};

QList<Check> phoneChecks()
{
    const auto domainHas = [](const char *feature) {
        return [feature](Probe &p) { return p.domainInfo.features.contains(feature); };
    };
    const auto accountHas = [](const char *feature) {
        return [feature](Probe &p) { return p.accountInfo.features.contains(feature); };
    };
    return {
        {"stream: roster versioning <ver/>",
         [](Probe &p) { return p.streamFeature(u"ver", u"urn:xmpp:features:rosterver"); }},
        {"stream: server caps <c/>",
         [](Probe &p) { return p.streamFeature(u"c", u"http://jabber.org/protocol/caps"); }},
        {"caps: node#ver hash correct", [](Probe &p) { return p.capsProblem.isEmpty(); }},
        {"stream: <sm/> (XEP-0198)",
         [](Probe &p) { return p.streamFeature(u"sm", u"urn:xmpp:sm:3"); }},
        {"stream: <csi/> (XEP-0352)",
         [](Probe &p) { return p.streamFeature(u"csi", u"urn:xmpp:csi:0"); }},
        {"domain: disco#info answered", [](Probe &p) { return p.domainInfo.answered; }},
        {"domain: server identity",
         [](Probe &p) { return p.domainInfo.identities.contains(u"server/im"); }},
        {"domain: carbons", domainHas("urn:xmpp:carbons:2")},
        {"domain: blocking", domainHas("urn:xmpp:blocking")},
        {"domain: offline storage", domainHas("msgoffline")},
        {"domain: ping", domainHas("urn:xmpp:ping")},
        {"domain: external services", domainHas("urn:xmpp:extdisco:2")},
        {"domain: spam reporting", domainHas("urn:xmpp:reporting:reason:spam:0")},
        {"account: disco#info answered", [](Probe &p) { return p.accountInfo.answered; }},
        {"account: PEP", [](Probe &p) { return p.accountInfo.identities.contains(u"pubsub/pep"); }},
        {"account: PEP publish-options",
         accountHas("http://jabber.org/protocol/pubsub#publish-options")},
        {"account: MAM", accountHas("urn:xmpp:mam:2")},
        {"account: MAM extended", accountHas("urn:xmpp:mam:2#extended")},
        {"account: stanza ids", accountHas("urn:xmpp:sid:0")},
        {"account: push", accountHas("urn:xmpp:push:0")},
        {"account: bookmarks conversion", accountHas("urn:xmpp:bookmarks:1#compat")},
        {"roster versioning works", [](Probe &p) { return rosterVersioningWorks(*p.client); }},
        {"blocklist fetch works",
         [](Probe &p) {
             return answeredWithResult(*p.client, QStringLiteral("bl"),
                                       "<iq type='get' id='bl'><blocklist "
                                       "xmlns='urn:xmpp:blocking'/></iq>");
         }},
        {"carbons enable works",
         [](Probe &p) {
             return answeredWithResult(*p.client, QStringLiteral("cb"),
                                       "<iq type='set' id='cb'><enable "
                                       "xmlns='urn:xmpp:carbons:2'/></iq>");
         }},
        {"MAM query works",
         [](Probe &p) {
             return answeredWithResult(
                 *p.client, QStringLiteral("mam"),
                 "<iq type='set' id='mam'><query xmlns='urn:xmpp:mam:2' queryid='q'><set "
                 "xmlns='http://jabber.org/protocol/rsm'><max>1</max></set></query></iq>");
         }},
        {"HTTP upload service", uploadServiceFound},
        // Tried only where offered, as a phone does; an offer that does not work is a failure.
        {"stream management works",
         [](Probe &p) {
             if (!p.streamFeature(u"sm", u"urn:xmpp:sm:3"))
                 return false;
             p.client->send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
             return p.client
                 ->readUntil([](const XmlNode &n) {
                     return n.xmlns == u"urn:xmpp:sm:3" && n.name == u"enabled";
                 })
                 .has_value();
         }},
        {"client state indication works", clientStateIndicationWorks},
    };
}

QMap<QString, bool> runChecks(TestClient &client, TestClient &bob, TestClient &otherResource)
{
    Probe probe;
    probe.client = &client;
    probe.bob = &bob;
    probe.otherResource = &otherResource;
    probe.domain = QStringLiteral("localhost");
    probe.account = BouncerFixture::accountUser() + QStringLiteral("@localhost");
    probe.domainInfo = discoInfo(client, QStringLiteral("dinfo"), probe.domain);
    probe.accountInfo = discoInfo(client, QStringLiteral("ainfo"), probe.account);
    probe.capsProblem = checkCaps(probe);
    QMap<QString, bool> results;
    for (const Check &check : phoneChecks())
        results.insert(check.name, check.passes(probe));
    if (!probe.capsProblem.isEmpty())
        qInfo().noquote() << client.name() << "caps:" << probe.capsProblem;
    return results;
}

QString rosterGet(const QString &id, const QString &ver)
{
    return QStringLiteral("<iq type='get' id='%1'><query xmlns='jabber:iq:roster' ver='%2'/></iq>")
        .arg(id, ver);
}

auto anyRosterPush()
{
    return [](const XmlNode &n) {
        return n.name == u"iq" && n.attribute(u"type") == u"set" && n.child(u"query", rosterNs);
    };
}

} // namespace

class TestPhoneChecks : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();
    void everyCheckThatPassesDirectlyPassesThroughXbnc();
    void rosterVersionsThroughXbnc();

private:
    BouncerFixture fixture_;
};

void TestPhoneChecks::initTestCase()
{
    // A phone's server has stream management and client state indication: so does this one.
    fixture_.prosody().enableStreamManagement(600);
    fixture_.prosody().enableClientStateIndication();
    QVERIFY2(fixture_.start({QStringLiteral("bob")}), qPrintable(fixture_.errorString()));
}

void TestPhoneChecks::cleanup()
{
    fixture_.finishTest();
}

void TestPhoneChecks::cleanupTestCase()
{
    fixture_.stop();
}

void TestPhoneChecks::everyCheckThatPassesDirectlyPassesThroughXbnc()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    TestClient *direct = fixture_.direct(BouncerFixture::accountUser());
    QVERIFY2(direct, qPrintable(fixture_.errorString()));
    TestClient directLaptop(QStringLiteral("direct-laptop"));
    QVERIFY2(directLaptop.login(
                 fixture_.directOptions(BouncerFixture::accountUser(), QStringLiteral("laptop"))),
             qPrintable(directLaptop.errorString()));
    const QMap<QString, bool> onProsody = runChecks(*direct, *bob, directLaptop);
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    const QMap<QString, bool> throughXbnc = runChecks(*phone, *bob, *laptop);

    QStringList regressions;
    int passDirect = 0, passXbnc = 0;
    qInfo().noquote()
        << QStringLiteral("%1 %2 %3").arg("check", -40).arg("Prosody", -8).arg("xbnc");
    for (const Check &check : phoneChecks()) {
        const bool direct = onProsody.value(check.name), viaXbnc = throughXbnc.value(check.name);
        passDirect += direct;
        passXbnc += direct && viaXbnc;
        qInfo().noquote() << QStringLiteral("%1 %2 %3")
                                 .arg(check.name, -40)
                                 .arg(direct ? "pass" : "-", -8)
                                 .arg(viaXbnc ? "pass" : "-");
        if (direct && !viaXbnc)
            regressions << check.name;
    }
    qInfo().noquote() << QStringLiteral(
                             "%1 of the %2 checks that pass on Prosody pass through xbnc")
                             .arg(passXbnc)
                             .arg(passDirect);
    QVERIFY2(regressions.isEmpty(),
             qPrintable(QStringLiteral("fail only through xbnc: ") + regressions.join(", ")));
    // xbnc's own part, whatever Prosody offers: roster versioning and a correct server caps hash.
    QVERIFY(throughXbnc.value(QStringLiteral("stream: roster versioning <ver/>")));
    QVERIFY(throughXbnc.value(QStringLiteral("stream: server caps <c/>")));
    QVERIFY(throughXbnc.value(QStringLiteral("caps: node#ver hash correct")));
    QVERIFY(throughXbnc.value(QStringLiteral("domain: carbons")));
    QVERIFY(throughXbnc.value(QStringLiteral("domain: offline storage")));
    QVERIFY(throughXbnc.value(QStringLiteral("account: MAM")));
    QVERIFY(throughXbnc.value(QStringLiteral("account: stanza ids")));
    QVERIFY(throughXbnc.value(QStringLiteral("client state indication works")));
}

void TestPhoneChecks::rosterVersionsThroughXbnc()
{
    TestClient *phone = fixture_.session(QStringLiteral("rphone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    QString error;
    const auto first =
        muc::request(*phone, QStringLiteral("r1"), rosterGet("r1", {}).toUtf8(), &error);
    QVERIFY2(first, qPrintable(error));
    const XmlNode *roster = first->child(u"query", rosterNs);
    QVERIFY2(roster, first->toXml().constData());
    const QString before = roster->attribute(u"ver");
    QVERIFY(!before.isEmpty());

    // The phone adds bob: the server's push reaches it with a newer version.
    phone->send("<iq type='set' id='add'><query xmlns='jabber:iq:roster'><item "
                "jid='bob@localhost' name='Bob'/></query></iq>");
    const auto push = phone->readUntil(match::rosterPush(QStringLiteral("bob@localhost")));
    QVERIFY2(push, qPrintable(phone->errorString()));
    const QString after = push->child(u"query", rosterNs)->attribute(u"ver");
    QVERIFY(!after.isEmpty() && after != before);
    QVERIFY2(phone->readUntil(match::iq(QStringLiteral("add"))), qPrintable(phone->errorString()));

    // A laptop that held the old version: an empty result, then bob alone.
    TestClient *laptop = fixture_.session(QStringLiteral("rlaptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));
    laptop->send(rosterGet("r2", before).toUtf8());
    const auto empty = laptop->readUntil(match::iq(QStringLiteral("r2")));
    QVERIFY2(empty, qPrintable(laptop->errorString()));
    QCOMPARE(empty->attribute(u"type"), QStringLiteral("result"));
    QVERIFY2(empty->children.empty(), empty->toXml().constData());
    const auto change = laptop->readUntil(anyRosterPush());
    QVERIFY2(change, qPrintable(laptop->errorString()));
    const XmlNode *changed = change->child(u"query", rosterNs);
    QCOMPARE(changed->attribute(u"ver"), after);
    QCOMPARE(changed->children.size(), size_t(1));
    QCOMPARE(changed->child(u"item")->attribute(u"jid"), QStringLiteral("bob@localhost"));
    QCOMPARE(changed->child(u"item")->attribute(u"name"), QStringLiteral("Bob"));
    QVERIFY2(laptop->expectNone(anyRosterPush()), qPrintable(laptop->errorString()));

    // With the current version: an empty result and nothing else.
    laptop->send(rosterGet("r3", after).toUtf8());
    const auto current = laptop->readUntil(match::iq(QStringLiteral("r3")));
    QVERIFY2(current, qPrintable(laptop->errorString()));
    QCOMPARE(current->attribute(u"type"), QStringLiteral("result"));
    QVERIFY(current->children.empty());
    QVERIFY2(laptop->expectNone(anyRosterPush()), qPrintable(laptop->errorString()));

    // xbnc restarts: the phone's version is still current.
    QVERIFY2(fixture_.stopXbnc(), qPrintable(fixture_.errorString()));
    QVERIFY2(fixture_.startXbnc(), qPrintable(fixture_.errorString()));
    TestClient *back = fixture_.session(QStringLiteral("rphone"));
    QVERIFY2(back, qPrintable(fixture_.errorString()));
    back->send(rosterGet("r4", after).toUtf8());
    const auto restarted = back->readUntil(match::iq(QStringLiteral("r4")));
    QVERIFY2(restarted, qPrintable(back->errorString()));
    QCOMPARE(restarted->attribute(u"type"), QStringLiteral("result"));
    QVERIFY2(restarted->children.empty(), restarted->toXml().constData());
    QVERIFY2(back->expectNone(anyRosterPush()), qPrintable(back->errorString()));
}

QTEST_GUILESS_MAIN(TestPhoneChecks)
#include "tst_phone_checks.moc"
