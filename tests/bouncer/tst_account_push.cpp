#include "account_harness.h"
#include "push_notification.h"
#include "push_rules.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

// XEP-0357 in the hub (issue #10 §2): a session's <enable/> and <disable/> are answered by xbnc
// and kept per device; a device away gets one publish per burst through the upstream
// connection, none while it is connected; an app server's error removes the registration.

namespace {

const QDateTime t0 = QDateTime(QDate(2026, 12, 3), QTime(8, 0), Qt::UTC);
const QString appServer = QStringLiteral("push.example.net");

const QString secretForm =
    QStringLiteral("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
                   "<value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
                   "<field var='secret'><value>s3cr3t</value></field></x>");

QString enable(const QString &id, const QString &node, const QString &to = {},
               const QString &form = secretForm)
{
    const QString toAttribute = to.isEmpty() ? QString() : QStringLiteral(" to='%1'").arg(to);
    return QStringLiteral("<iq type='set' id='%1'%2><enable xmlns='urn:xmpp:push:0' jid='%3' "
                          "node='%4'>%5</enable></iq>")
        .arg(id, toAttribute, appServer, node, form);
}

QString bobChat(const QString &id, const QString &body = QStringLiteral("lunch?"))
{
    return QStringLiteral("<message from='bob@example.org/pc' to='alice@example.org/xbnc' "
                          "type='chat' id='%1'><body>%2</body></message>")
        .arg(id, body);
}

// The publish xbnc sends for a registration of node `node` with the secret form.
QString publish(const QString &node, const QString &extraFields = {},
                const QString &form = secretForm)
{
    const QString options = form.isEmpty()
                                ? QString()
                                : QStringLiteral("<publish-options>%1</publish-options>").arg(form);
    return QStringLiteral(
               "<iq type='set' id='xbnc-push-%1' to='%2'><pubsub "
               "xmlns='http://jabber.org/protocol/pubsub'><publish node='%1'><item><notification "
               "xmlns='urn:xmpp:push:0'><x xmlns='jabber:x:data' type='form'><field "
               "var='FORM_TYPE' type='hidden'><value>urn:xmpp:push:summary</value></field>"
               "<field var='message-count'><value>1</value></field>%3</x></notification></item>"
               "</publish>%4</pubsub></iq>")
        .arg(node, appServer, extraFields, options);
}

// The account with the phone (session 1) that enabled push for node n1, and what the hub told
// the edge to store.
struct PushHarness : AccountHarness
{
    QDateTime now = t0;
    std::vector<std::pair<QString, std::vector<PushRegistration>>> stored;
    std::vector<std::pair<QString, PushRegistration>> enabledOnServer;

    PushHarness()
    {
        account.setNow([this] { return now; });
        online();
        bind(1, "phone");
        fromSession(1, enable("e1", "n1"));
        clear();
    }
    void pushRegistrationsChanged(const QString &device,
                                  const std::vector<PushRegistration> &registrations) override
    {
        stored.emplace_back(device, registrations);
    }
    void enableServerPush(const QString &device, const PushRegistration &registration) override
    {
        enabledOnServer.emplace_back(device, registration);
    }
    // Bob writes; the phone's session (hibernating or not) is sent the message.
    QString bobWrites(const QString &id, bool pushed)
    {
        fromUpstream(bobChat(id));
        if (pushed)
            if (QString problem = expectUpstream(publish("n1")); !problem.isEmpty())
                return problem;
        return expectToSession(1, bobChat(id));
    }
};

} // namespace

class TestAccountPush : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void enableIsAnsweredAndKeptForTheDevice_data()
    {
        QTest::addColumn<QString>("to");
        QTest::addColumn<QString>("form");
        QTest::newRow("no to, Conversations' secret") << QString() << secretForm;
        QTest::newRow("bare JID, no form") << QStringLiteral("alice@example.org") << QString();
    }
    void enableIsAnsweredAndKeptForTheDevice()
    {
        QFETCH(QString, to);
        QFETCH(QString, form);
        PushHarness h;
        h.stored.clear();
        h.bind(2, "laptop");
        h.clear();
        h.fromSession(2, enable("e2", "n2", to, form));
        const QString from = to.isEmpty() ? QString() : QStringLiteral(" from='%1'").arg(to);
        EXPECT(h.expectToSession(
            2,
            QStringLiteral("<iq type='result' id='e2'%1 to='alice@example.org/xbnc'/>").arg(from)));
        EXPECT(h.expectNothing()); // nothing upstream
        const std::vector<PushRegistration> &kept = h.account.pushRegistrations().of("laptop");
        QCOMPARE(kept.size(), 1u);
        QCOMPARE(kept[0].jid, appServer);
        QCOMPARE(kept[0].node, QStringLiteral("n2"));
        QCOMPARE(canonical(kept[0].form), form.isEmpty() ? canonical(Element()) : canonical(form));
        QCOMPARE(h.stored.size(), 1u);
        QCOMPARE(h.stored[0].first, QStringLiteral("laptop"));
        QCOMPARE(h.stored[0].second, kept);
        // The phone's registration is its own.
        QCOMPARE(h.account.pushRegistrations().of("phone").size(), 1u);
    }

    void enableWithoutJidIsABadRequest()
    {
        PushHarness h;
        h.stored.clear();
        h.fromSession(1, "<iq type='set' id='e3'><enable xmlns='urn:xmpp:push:0' node='x'/></iq>");
        EXPECT(h.expectToSession(
            1, "<iq type='error' id='e3' to='alice@example.org/xbnc'><error type='modify'>"
               "<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>XEP-0357 needs the app server's "
               "jid</text></error></iq>"));
        EXPECT(h.expectNothing());
        QVERIFY(h.stored.empty());
        QCOMPARE(h.account.pushRegistrations().of("phone").size(), 1u);
    }

    void enableAgainReplacesAndDisableRemoves_data()
    {
        QTest::addColumn<QString>("disableNode");
        QTest::addColumn<int>("left");
        QTest::newRow("that node") << QStringLiteral("n1") << 1;
        QTest::newRow("every node of the app server") << QString() << 0;
        QTest::newRow("another node") << QStringLiteral("n9") << 2;
    }
    void enableAgainReplacesAndDisableRemoves()
    {
        QFETCH(QString, disableNode);
        QFETCH(int, left);
        PushHarness h;
        h.fromSession(1, enable("e4", "n1", {}, QString())); // the same node again
        h.fromSession(1, enable("e5", "n2"));
        QCOMPARE(h.account.pushRegistrations().of("phone").size(), 2u);
        QVERIFY(h.account.pushRegistrations().of("phone")[0].form.isNull());
        h.clear();
        const QString node =
            disableNode.isEmpty() ? QString() : QStringLiteral(" node='%1'").arg(disableNode);
        h.fromSession(1, QStringLiteral("<iq type='set' id='d1'><disable xmlns='urn:xmpp:push:0' "
                                        "jid='%1'%2/></iq>")
                             .arg(appServer, node));
        EXPECT(h.expectToSession(1, "<iq type='result' id='d1' to='alice@example.org/xbnc'/>"));
        EXPECT(h.expectNothing());
        QCOMPARE(int(h.account.pushRegistrations().of("phone").size()), left);
    }

    void aConnectedDeviceIsNotPushedEvenWhenInactive()
    {
        PushHarness h;
        h.account.sessionActive(1, false); // XEP-0352: still connected
        EXPECT(h.bobWrites("m1", false));
        EXPECT(h.expectNothing());
    }

    void aHibernatingDeviceIsPushedOncePerBurst()
    {
        PushHarness h;
        h.account.sessionHibernating(1);
        EXPECT(h.bobWrites("m1", true));
        h.now = h.now.addSecs(60);
        EXPECT(h.bobWrites("m2", false)); // the same burst
        h.now = h.now.addSecs(119);
        EXPECT(h.bobWrites("m3", false)); // each message restarts the quiet period
        h.now = h.now.addSecs(120);
        EXPECT(h.bobWrites("m4", true)); // two quiet minutes: a new burst
        EXPECT(h.expectNothing());
        // Back: nothing is pushed while it is connected; away again, the next message is.
        h.account.sessionResumed(1);
        EXPECT(h.bobWrites("m5", false));
        h.account.sessionHibernating(1);
        EXPECT(h.bobWrites("m6", true));
        EXPECT(h.expectNothing());
    }

    void aDisconnectedDeviceIsPushedUntilItsTimeout()
    {
        PushHarness h;
        h.bind(2, "laptop"); // another device, connected: the phone is pushed all the same
        h.account.sessionClosed(1);
        h.clear();
        h.now = h.now.addSecs(71 * 3600);
        h.fromUpstream(bobChat("m1"));
        EXPECT(h.expectUpstream(publish("n1")));
        EXPECT(h.expectToSession(2, bobChat("m1")));
        h.now = h.now.addSecs(2 * 3600); // 73 h since the phone was last seen
        h.fromUpstream(bobChat("m2"));
        EXPECT(h.expectToSession(2, bobChat("m2")));
        EXPECT(h.expectNothing());
    }

    void senderAndBodyOnlyWhenConfigured()
    {
        PushHarness h;
        h.account.setPushSettings({.includeSender = true, .includeBody = true});
        h.account.sessionHibernating(1);
        h.fromUpstream(bobChat("m1", QStringLiteral("see you at noon")));
        EXPECT(h.expectUpstream(
            publish("n1", "<field var='last-message-sender'><value>bob@example.org/pc</value>"
                          "</field><field var='last-message-body'><value>see you at noon"
                          "</value></field>")));
    }

    void aMentionInARoomIsPushed()
    {
        PushHarness h;
        EXPECT(joinFirst(h, 1));
        h.account.sessionHibernating(1);
        const QString plain = QStringLiteral(
            "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
            "type='groupchat' id='g1'><body>hello all</body></message>");
        h.fromUpstream(plain);
        EXPECT(h.expectToSession(1, plain));
        const QString mention = QStringLiteral(
            "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
            "type='groupchat' id='g2'><body>Alice: lunch?</body></message>");
        h.fromUpstream(mention);
        EXPECT(h.expectUpstream(publish("n1")));
        EXPECT(h.expectToSession(1, mention));
        EXPECT(h.expectNothing());
    }

    void anAppServerErrorRemovesTheRegistration_data()
    {
        QTest::addColumn<QString>("error");
        QTest::addColumn<bool>("kept");
        QTest::newRow("cancel") << QStringLiteral(
                                       "<error type='cancel'><item-not-found "
                                       "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>")
                                << false;
        QTest::newRow("auth") << QStringLiteral(
                                     "<error type='auth'><forbidden "
                                     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>")
                              << false;
        QTest::newRow("wait") << QStringLiteral(
                                     "<error type='wait'><resource-constraint "
                                     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>")
                              << true;
    }
    void anAppServerErrorRemovesTheRegistration()
    {
        QFETCH(QString, error);
        QFETCH(bool, kept);
        PushHarness h;
        h.account.sessionHibernating(1);
        EXPECT(h.bobWrites("m1", true));
        h.stored.clear();
        // An error from anyone but the app server changes nothing.
        h.fromUpstream(
            QStringLiteral("<iq type='error' id='xbnc-push-n1' from='mallory@example.org/x' "
                           "to='alice@example.org/xbnc'>%1</iq>")
                .arg(error));
        QCOMPARE(h.account.pushRegistrations().of("phone").size(), 1u);
        h.fromUpstream(QStringLiteral("<iq type='error' id='xbnc-push-n1' from='%1' "
                                      "to='alice@example.org/xbnc'>%2</iq>")
                           .arg(appServer, error));
        QCOMPARE(h.account.pushRegistrations().of("phone").size(), kept ? 1u : 0u);
        QCOMPARE(h.stored.size(), kept ? 0u : 1u);
        if (!kept)
            QVERIFY(h.stored[0].second.empty());
        EXPECT(h.expectNothing());
    }

    void whatMatters_data()
    {
        QTest::addColumn<QString>("message");
        QTest::addColumn<bool>("matters");
        const QString from = QStringLiteral(" from='bob@example.org/pc' to='alice@example.org'");
        QTest::newRow("chat") << "<message type='chat'" + from + "><body>hi</body></message>"
                              << true;
        QTest::newRow("normal") << "<message" + from + "><body>hi</body></message>" << true;
        QTest::newRow("empty body")
            << "<message type='chat'" + from + "><body/></message>" << false;
        QTest::newRow("OMEMO") << "<message type='chat'" + from +
                                      "><encrypted xmlns='eu.siacs.conversations.axolotl'/>"
                                      "</message>"
                               << true;
        QTest::newRow("OMEMO 2") << "<message type='chat'" + from +
                                        "><encrypted xmlns='urn:xmpp:omemo:2'/></message>"
                                 << true;
        QTest::newRow("OX") << "<message type='chat'" + from +
                                   "><openpgp xmlns='urn:xmpp:openpgp:0'>x</openpgp></message>"
                            << true;
        QTest::newRow("chat state")
            << "<message type='chat'" + from +
                   "><composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
            << false;
        QTest::newRow("headline") << "<message type='headline'" + from +
                                         "><body>news</body></message>"
                                  << false;
        QTest::newRow("error") << "<message type='error'" + from + "><body>x</body></message>"
                               << false;
        QTest::newRow("carbon")
            << QStringLiteral(
                   "<message from='alice@example.org' type='chat'><received "
                   "xmlns='urn:xmpp:carbons:2'>"
                   "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' "
                   "type='chat' "
                   "from='bob@example.org/pc'><body>hi</body></message></forwarded></received>"
                   "</message>")
            << false;
        const QString room = QStringLiteral(" from='room@conference.example.org/bob'");
        QTest::newRow("groupchat mention")
            << "<message type='groupchat'" + room + "><body>ping ALICE</body></message>" << true;
        QTest::newRow("groupchat")
            << "<message type='groupchat'" + room + "><body>hi all</body></message>" << false;
        QTest::newRow("groupchat, own")
            << QStringLiteral(
                   "<message type='groupchat' from='room@conference.example.org/alice'><body>alice "
                   "here</body></message>")
            << false;
        QTest::newRow("groupchat history")
            << "<message type='groupchat'" + room +
                   "><body>alice?</body><delay xmlns='urn:xmpp:delay' "
                   "stamp='2026-12-01T00:00:00Z'/></message>"
            << false;
        QTest::newRow("subject") << "<message type='groupchat'" + room +
                                        "><subject>alice</subject><body>alice</body></message>"
                                 << false;
    }
    void whatMatters()
    {
        QFETCH(QString, message);
        QFETCH(bool, matters);
        QCOMPARE(xep0357::matters(Element::fromXml(message.toUtf8()),
                                  Jid(QStringLiteral("alice@example.org")),
                                  QStringLiteral("alice")),
                 matters);
    }

    void theRouteOfANewRegistration_data()
    {
        using Route = PushSettings::Route;
        QTest::addColumn<Route>("route");
        QTest::addColumn<bool>("serverHasPush");
        QTest::addColumn<QString>("form");
        QTest::addColumn<bool>("viaServer");
        const QString pushModule = QStringLiteral(
            "<x xmlns='jabber:x:data' type='submit'><field var='pushModule'><value>prod</value>"
            "</field></x>");
        QTest::newRow("auto, Conversations") << Route::Auto << true << secretForm << true;
        QTest::newRow("auto, server without push") << Route::Auto << false << secretForm << false;
        QTest::newRow("auto, Monal") << Route::Auto << true << pushModule << false;
        QTest::newRow("auto, no form") << Route::Auto << true << QString() << false;
        QTest::newRow("server") << Route::Server << false << pushModule << true;
        QTest::newRow("direct") << Route::Direct << true << secretForm << false;
    }
    void theRouteOfANewRegistration()
    {
        QFETCH(PushSettings::Route, route);
        QFETCH(bool, serverHasPush);
        QFETCH(QString, form);
        QFETCH(bool, viaServer);
        const Element parsed = form.isEmpty() ? Element() : Element::fromXml(form.toUtf8());
        QCOMPARE(xep0357::viaServer(route, parsed, serverHasPush), viaServer);
    }

    void theServerRouteIsOnOnTheServerOnlyWhileTheDeviceIsAway()
    {
        PushHarness h;
        // What Conversations asks before it enables push: the server has it too.
        h.fromSession(1, "<iq type='get' id='d1' to='alice@example.org'><query "
                         "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        const QString id = h.take().stanza.attribute(u"id");
        h.fromUpstream(QStringLiteral("<iq type='result' id='%1' from='alice@example.org'>"
                                      "<query xmlns='http://jabber.org/protocol/disco#info'>"
                                      "<feature var='urn:xmpp:push:0'/></query></iq>")
                           .arg(id));
        h.clear();
        h.fromSession(1, enable("e2", "n1")); // again, now with the server's push known
        EXPECT(h.expectToSession(1, "<iq type='result' id='e2' to='alice@example.org/xbnc'/>"));
        QVERIFY(h.account.pushRegistrations().of("phone").at(0).viaServer);
        QVERIFY(h.enabledOnServer.empty()); // the phone is connected

        const QString disable =
            QStringLiteral(
                "<iq type='set' id='xbnc-push-off'><disable xmlns='urn:xmpp:push:0' jid='%1' "
                "node='n1'/></iq>")
                .arg(appServer);
        for (int away = 0; away < 2; ++away) {
            if (away == 0)
                h.account.sessionHibernating(1);
            else
                h.account.sessionClosed(1);
            h.clear(); // the idle presence, when the phone's session ended
            QCOMPARE(h.enabledOnServer.size(), 1u);
            QCOMPARE(h.enabledOnServer[0].first, QStringLiteral("phone"));
            QCOMPARE(h.enabledOnServer[0].second.node, QStringLiteral("n1"));
            QCOMPARE(canonical(h.enabledOnServer[0].second.form), canonical(secretForm));
            h.enabledOnServer.clear();
            // The server publishes now; xbnc never does for this registration.
            if (away == 0)
                EXPECT(h.bobWrites("m1", false));
            else
                h.fromUpstream(bobChat("m1"));
            EXPECT(h.expectNothing());
            // Back: disabled on the server from xbnc's own session.
            if (away == 0)
                h.account.sessionResumed(1);
            else
                h.account.sessionBound(1, QStringLiteral("phone"));
            EXPECT(h.expectUpstream(disable));
            h.clear();
        }
        // Disabled by the phone: removed from the server too.
        h.fromSession(1, QStringLiteral("<iq type='set' id='d2'><disable "
                                        "xmlns='urn:xmpp:push:0' jid='%1'/></iq>")
                             .arg(appServer));
        EXPECT(h.expectUpstream(disable));
        EXPECT(h.expectToSession(1, "<iq type='result' id='d2' to='alice@example.org/xbnc'/>"));
        h.account.sessionHibernating(1);
        QVERIFY(h.enabledOnServer.empty());
    }

    void registrationsSurviveARestart()
    {
        PushHarness h;
        h.fromSession(1, enable("e2", "n2", {}, QString()));
        const Element saved =
            PushRegistrations::toElement(h.account.pushRegistrations().of("phone"));
        const Element reread = Element::fromXml(saved.toXml());
        QCOMPARE(PushRegistrations::fromElement(reread), h.account.pushRegistrations().of("phone"));

        PushHarness restarted;
        restarted.account.restorePushRegistrations({});
        restarted.account.restorePushRegistrations(
            {{QStringLiteral("tablet"), PushRegistrations::fromElement(reread)}});
        restarted.bind(2, "tablet");
        restarted.account.sessionHibernating(2);
        restarted.clear();
        restarted.fromUpstream(bobChat("m1"));
        EXPECT(restarted.expectUpstream(publish("n1")));
        EXPECT(restarted.expectUpstream(publish("n2", {}, QString())));
    }
};

QTEST_GUILESS_MAIN(TestAccountPush)
#include "tst_account_push.moc"
