// Messages that arrive while no session is available are kept, as a server's offline storage
// would keep them, and delivered with a XEP-0203 delay to the first session that sends initial
// presence.
#include "persistence_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

QString chat(const QString &id, const QString &body)
{
    return QStringLiteral("<message from='bob@example.org/pc' to='alice@example.org' type='chat' "
                          "id='%1'><body>%2</body></message>")
        .arg(id, body);
}

// `xml` as delivered from offline storage: with xbnc's delay, `to` as given.
QString delayed(QString xml, const QString &stamp)
{
    return xml.replace(QStringLiteral("</message>"),
                       QStringLiteral("<delay xmlns='urn:xmpp:delay' from='example.org' "
                                      "stamp='%1'/></message>")
                           .arg(stamp));
}

// A session binds and sends initial presence; returns the messages it was then given.
QList<Element> presenceAndCollect(AccountHarness &h, SessionId id, const QString &resource)
{
    h.clear();
    h.account.sessionBound(id, resource);
    h.fromSession(id, QStringLiteral("<presence/>"));
    QList<Element> messages;
    for (const auto &sent : h.sent)
        if (sent.target == AccountHarness::Sent::Session && sent.session == id &&
            sent.stanza.name() == u"message")
            messages.append(sent.stanza);
    h.clear();
    return messages;
}

} // namespace

class TestOfflineMessages : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void whatIsKept_data()
    {
        QTest::addColumn<QString>("message"); // from upstream, no session available
        QTest::addColumn<bool>("kept");
        QTest::newRow("chat with a body") << chat("m1", "hi") << true;
        QTest::newRow("normal with a body")
            << "<message from='bob@example.org/pc' to='alice@example.org/xbnc' id='n1'><body>"
               "note</body></message>"
            << true;
        QTest::newRow("OMEMO (legacy), no body")
            << "<message from='bob@example.org/pc' to='alice@example.org/xbnc' type='chat' "
               "id='o1'><encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'/>"
               "</encrypted></message>"
            << true;
        QTest::newRow("OMEMO 2")
            << "<message from='bob@example.org/pc' to='alice@example.org/xbnc' type='chat' "
               "id='o2'><encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'/></encrypted>"
               "</message>"
            << true;
        QTest::newRow("OpenPGP (OX)")
            << "<message from='bob@example.org/pc' to='alice@example.org' type='chat' id='x1'>"
               "<openpgp xmlns='urn:xmpp:openpgp:0'>BASE64</openpgp></message>"
            << true;
        QTest::newRow("private message from a room occupant")
            << "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
               "type='chat' id='pm1'><body>psst</body><x "
               "xmlns='http://jabber.org/protocol/muc#user'/></message>"
            << true;
        QTest::newRow("a store hint without a body (XEP-0334)")
            << "<message from='bob@example.org/pc' to='alice@example.org' type='chat' id='s1'>"
               "<displayed xmlns='urn:xmpp:chat-markers:0' id='m0'/><store "
               "xmlns='urn:xmpp:hints'/></message>"
            << true;
        QTest::newRow("a no-store hint (XEP-0334)")
            << "<message from='bob@example.org/pc' to='alice@example.org' type='chat' id='n2'>"
               "<body>ephemeral</body><no-store xmlns='urn:xmpp:hints'/></message>"
            << false;
        QTest::newRow("groupchat: the room keeps its own log")
            << "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
               "type='groupchat' id='g1'><body>all</body></message>"
            << false;
        QTest::newRow("headline")
            << "<message from='news.example.org' to='alice@example.org' type='headline' "
               "id='h1'><body>news</body></message>"
            << false;
        QTest::newRow("error")
            << "<message from='bob@example.org' to='alice@example.org/xbnc' type='error' "
               "id='e1'><body>hi</body><error type='cancel'><service-unavailable "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
            << false;
        QTest::newRow("chat state without a body")
            << "<message from='bob@example.org/pc' to='alice@example.org' type='chat' id='c1'>"
               "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
            << false;
        QTest::newRow("carbon of a received message")
            << "<message from='alice@example.org' to='alice@example.org/xbnc' type='chat'>"
               "<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
               "<message from='bob@example.org/pc' to='alice@example.org/laptop' type='chat' "
               "id='m9'><body>hi</body></message></forwarded></received></message>"
            << false;
        QTest::newRow("carbon of a sent message")
            << "<message from='alice@example.org' to='alice@example.org/xbnc' type='chat'>"
               "<sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
               "<message to='bob@example.org' from='alice@example.org/laptop' type='chat' "
               "id='m8'><body>hi</body></message></forwarded></sent></message>"
            << false;
    }
    void whatIsKept()
    {
        QFETCH(QString, message);
        QFETCH(bool, kept);
        PersistenceHarness h;
        h.online();
        h.fromUpstream(message);
        EXPECT(h.expectNothing());
        QCOMPARE(int(h.stored.size()), kept ? 1 : 0);
        const QList<Element> delivered = presenceAndCollect(h, 1, QStringLiteral("phone"));
        if (!kept) {
            QVERIFY(delivered.isEmpty());
            return;
        }
        QCOMPARE(delivered.size(), 1);
        // Sent to xbnc's own resource, it reaches the session at the session's address.
        QString want = relayedTo(message, QStringLiteral("phone"));
        QCOMPARE(canonical(delivered.first()), canonical(delayed(want, "2026-12-01T12:00:00Z")));
    }

    void deliveredInOrderWithDelayToTheFirstSessionOnly()
    {
        PersistenceHarness h;
        h.online();
        h.fromUpstream(chat("m1", "one"));
        h.now = h.now.addSecs(90);
        h.fromUpstream(chat("m2", "two"));
        EXPECT(h.expectNothing());
        QCOMPARE(h.stored.size(), 2u);
        QCOMPARE(h.stored[0].seq, 1u);
        QCOMPARE(h.stored[1].seq, 2u);

        const QList<Element> phone = presenceAndCollect(h, 1, QStringLiteral("phone"));
        QCOMPARE(phone.size(), 2);
        QCOMPARE(canonical(phone[0]),
                 canonical(delayed(chat("m1", "one"), "2026-12-01T12:00:00Z")));
        QCOMPARE(canonical(phone[1]),
                 canonical(delayed(chat("m2", "two"), "2026-12-01T12:01:30Z")));
        QCOMPARE(h.offlineDoneThrough, 2u);
        QVERIFY(presenceAndCollect(h, 2, QStringLiteral("laptop")).isEmpty());
    }

    void aSessionWithoutPresenceIsNotThere()
    {
        // RFC 6121 §8.5.2.1.1: no initial presence, no chat messages, as on a server.
        PersistenceHarness h;
        h.online();
        h.bind(1, QStringLiteral("phone"), false);
        h.fromUpstream(chat("m1", "one"));
        EXPECT(h.expectNothing());
        h.fromSession(1, QStringLiteral("<presence/>"));
        EXPECT(h.expectToSession(1, delayed(chat("m1", "one"), "2026-12-01T12:00:00Z")));
        EXPECT(h.expectUpstream(withOwnCaps("<presence/>")));
        EXPECT(h.expectNothing());
    }

    void aSessionThatWentUnavailableIsNotThere()
    {
        PersistenceHarness h;
        h.online();
        h.bind(1, QStringLiteral("phone"));
        h.fromSession(1, QStringLiteral("<presence type='unavailable'/>"));
        h.clear();
        h.fromUpstream(chat("m1", "one"));
        EXPECT(h.expectNothing());
        QCOMPARE(h.stored.size(), 1u);
    }

    void fullStorageDropsTheOldest()
    {
        PersistenceHarness h;
        h.account.setOfflineCapacity(2);
        h.online();
        for (const char *id : {"m1", "m2", "m3"})
            h.fromUpstream(chat(id, id));
        QCOMPARE(h.offlineDoneThrough, 1u); // m1 gone from the database too
        const QList<Element> phone = presenceAndCollect(h, 1, QStringLiteral("phone"));
        QCOMPARE(phone.size(), 2);
        QCOMPARE(phone[0].attribute(u"id"), QStringLiteral("m2"));
        QCOMPARE(phone[1].attribute(u"id"), QStringLiteral("m3"));
    }

    void anEarlierDelayIsKept()
    {
        PersistenceHarness h;
        h.online();
        const QString late = QStringLiteral(
            "<message from='bob@example.org/pc' to='alice@example.org' type='chat' id='m1'>"
            "<body>late</body><delay xmlns='urn:xmpp:delay' from='example.net' "
            "stamp='2026-11-30T08:00:00Z'/></message>");
        h.fromUpstream(late);
        const QList<Element> phone = presenceAndCollect(h, 1, QStringLiteral("phone"));
        QCOMPARE(phone.size(), 1);
        QCOMPARE(canonical(phone[0]), canonical(late));
    }

    void privateMessageWhileNoSessionIsInTheRoom()
    {
        PersistenceHarness h;
        h.online();
        h.bind(1, QStringLiteral("phone"));
        EXPECT(joinFirst(h, 1));
        h.account.sessionClosed(1); // not a leave: the account stays in the room
        h.clear();
        const QString pm = QStringLiteral(
            "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
            "type='chat' id='pm1'><body>psst</body></message>");
        h.fromUpstream(pm);
        EXPECT(h.expectNothing());
        const QList<Element> laptop = presenceAndCollect(h, 2, QStringLiteral("laptop"));
        QCOMPARE(laptop.size(), 1);
        QCOMPARE(canonical(laptop[0]), canonical(delayed(relayedTo(pm, QStringLiteral("laptop")),
                                                         "2026-12-01T12:00:00Z")));
    }

    // XEP-0198: a session that ends (not resumed in time) with stanzas its client never
    // acknowledged hands them back; the messages worth keeping wait for the next session.
    void undeliveredOfAnEndedSessionWaitForTheNext()
    {
        PersistenceHarness h;
        h.online();
        h.bind(1, QStringLiteral("phone"));
        h.clear();
        const QString kept = chat("u1", "missed");
        std::vector<Element> undelivered;
        undelivered.push_back(Element::fromXml(kept.toUtf8()));
        undelivered.push_back(Element::fromXml(
            "<message from='bob@example.org/pc' to='alice@example.org/xbnc' type='chat'>"
            "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>"));
        undelivered.push_back(Element::fromXml(
            "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
            "type='groupchat' id='g1'><body>the room keeps its own log</body></message>"));
        undelivered.push_back(
            Element::fromXml("<presence from='bob@example.org/pc' to='alice@example.org/xbnc'/>"));
        h.account.sessionClosed(1, std::move(undelivered));
        QCOMPARE(h.account.offlineMessages().size(), 1);
        const QList<Element> laptop = presenceAndCollect(h, 2, QStringLiteral("laptop"));
        QCOMPARE(laptop.size(), 1);
        QCOMPARE(canonical(laptop[0]), canonical(delayed(kept, "2026-12-01T12:00:00Z")));
    }

    void restoredAndNumberedOnward()
    {
        PersistenceHarness h;
        h.account.restoreOfflineMessages(
            {OfflineMessages::Entry{41, Element::fromXml(chat("m1", "one").toUtf8()),
                                    h.now.addSecs(-3600)}},
            41);
        h.online();
        h.fromUpstream(chat("m2", "two"));
        QCOMPARE(h.stored.back().seq, 42u);
        const QList<Element> phone = presenceAndCollect(h, 1, QStringLiteral("phone"));
        QCOMPARE(phone.size(), 2);
        QCOMPARE(canonical(phone[0]),
                 canonical(delayed(chat("m1", "one"), "2026-12-01T11:00:00Z")));
        QCOMPARE(h.offlineDoneThrough, 42u);
        // Delivered and removed, the numbers still only grow (future per-device cursors).
        h.account.sessionClosed(1);
        h.fromUpstream(chat("m3", "three"));
        QCOMPARE(h.stored.back().seq, 43u);
    }
};

QTEST_GUILESS_MAIN(TestOfflineMessages)
#include "tst_offline_messages.moc"
