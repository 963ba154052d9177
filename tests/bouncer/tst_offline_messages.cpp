// The 1:1 messages worth keeping are logged, and each device (the resource its client binds)
// catches up on what it missed when it sends initial presence, with a XEP-0203 delay, exactly
// once. A device never seen before gets what no device had: a server's offline storage.
#include "persistence_harness.h"

#include <QRegularExpression>
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

// A carbon as delivered from offline storage: xbnc's delay on the outer message.
QString carbonDelayed(const QString &xml, const QString &stamp)
{
    const qsizetype end = xml.lastIndexOf(QStringLiteral("</message>"));
    return xml.left(end) +
           QStringLiteral("<delay xmlns='urn:xmpp:delay' from='example.org' stamp='%1'/>")
               .arg(stamp) +
           xml.mid(end);
}

// A session binds (unless it is bound already) and sends initial presence; returns the
// messages it was then given.
QList<Element> presenceAndCollect(AccountHarness &h, SessionId id, const QString &resource,
                                  bool bind = true)
{
    h.clear();
    if (bind)
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

// The ids of the messages in `messages`, in order.
QStringList ids(const QList<Element> &messages)
{
    QStringList result;
    for (const Element &m : messages)
        result.append(m.attribute(u"id"));
    return result;
}

// Both devices online with initial presence: the phone as session 1, the laptop as 2.
void phoneAndLaptop(PersistenceHarness &h)
{
    h.online();
    presenceAndCollect(h, 1, QStringLiteral("phone"));
    presenceAndCollect(h, 2, QStringLiteral("laptop"));
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
        // Kept in the log for the devices that have not had them; a new one had nothing to get.
        QCOMPARE(h.offlineDoneThrough, 0u);
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
        h.account.setOfflineLimits({2, std::chrono::hours(1)});
        h.online();
        for (const char *id : {"m1", "m2", "m3"})
            h.fromUpstream(chat(id, id));
        QCOMPARE(h.offlineDoneThrough, 1u); // m1 gone from the database too
        const QList<Element> phone = presenceAndCollect(h, 1, QStringLiteral("phone"));
        QCOMPARE(phone.size(), 2);
        QCOMPARE(phone[0].attribute(u"id"), QStringLiteral("m2"));
        QCOMPARE(phone[1].attribute(u"id"), QStringLiteral("m3"));
    }

    // A device away while the log is full loses a message with every new one: the operator is
    // told at once, then once a minute with what was lost since, not once per message.
    void lossesAreLoggedOnceAMinute()
    {
        PersistenceHarness h;
        h.account.setOfflineLimits({2, std::chrono::hours(1)});
        h.online();
        const QRegularExpression anyLoss(QStringLiteral("catch-up log"));
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("catch-up log full .* removed 1 ")));
        QTest::failOnWarning(anyLoss);
        for (int i = 1; i <= 12; ++i) // m1 … m10 roll out; only m1's loss is logged now
            h.fromUpstream(chat(QStringLiteral("m%1").arg(i), QStringLiteral("text")));
        h.now = h.now.addSecs(61);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral(
                                               "catch-up log: 9 more messages removed in the last "
                                               "61 s, 9 of them no device had")));
        h.account.expireOfflineMessages();
        h.account.expireOfflineMessages(); // said once
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("catch-up log full .* removed 1 ")));
        h.now = h.now.addSecs(61);
        h.fromUpstream(chat(QStringLiteral("m13"),
                            QStringLiteral("text"))); // a new minute: logged at once again
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
    void undeliveredOfAnEndedSessionWaitForItsDevice()
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
        // What the phone never acknowledged is the phone's: another device does not get it.
        QCOMPARE(presenceAndCollect(h, 2, QStringLiteral("laptop")).size(), 0);
        const QList<Element> phone = presenceAndCollect(h, 3, QStringLiteral("phone"));
        QCOMPARE(phone.size(), 1);
        QCOMPARE(canonical(phone[0]), canonical(delayed(kept, "2026-12-01T12:00:00Z")));
    }

    void restoredAndNumberedOnward()
    {
        PersistenceHarness h;
        h.account.restoreOfflineMessages(
            {OfflineMessages::Entry{41, Element::fromXml(chat("m1", "one").toUtf8()),
                                    h.now.addSecs(-3600), QString()}},
            41);
        h.online();
        h.fromUpstream(chat("m2", "two"));
        QCOMPARE(h.stored.back().seq, 42u);
        const QList<Element> phone = presenceAndCollect(h, 1, QStringLiteral("phone"));
        QCOMPARE(phone.size(), 2);
        QCOMPARE(canonical(phone[0]),
                 canonical(delayed(chat("m1", "one"), "2026-12-01T11:00:00Z")));
        QCOMPARE(h.devices[QStringLiteral("phone")].cursor, 42u);
        // The numbers only grow.
        h.account.sessionClosed(1);
        h.fromUpstream(chat("m3", "three"));
        QCOMPARE(h.stored.back().seq, 43u);
    }

    void aDeviceAwayGetsExactlyWhatItMissedOnce()
    {
        PersistenceHarness h;
        phoneAndLaptop(h);
        h.fromUpstream(chat("m0", "both had this"));
        h.account.sessionClosed(1);
        h.clear();
        h.now = h.now.addSecs(60);
        for (const char *id : {"m1", "m2", "m3"}) {
            h.fromUpstream(chat(id, id));
            EXPECT(h.expectToSession(2, chat(id, id))); // the laptop, live
        }
        EXPECT(h.expectNothing());
        h.now = h.now.addSecs(600);

        const QList<Element> phone = presenceAndCollect(h, 3, QStringLiteral("phone"));
        QCOMPARE(ids(phone), QStringList({"m1", "m2", "m3"}));
        for (int i = 0; i < 3; ++i)
            QCOMPARE(canonical(phone[i]), canonical(delayed(chat(QStringLiteral("m%1").arg(i + 1),
                                                                 QStringLiteral("m%1").arg(i + 1)),
                                                            "2026-12-01T12:01:00Z")));
        QCOMPARE(h.devices[QStringLiteral("phone")].cursor, 4u);
        // Once: neither the phone's next session nor the laptop's gets them again.
        h.account.sessionClosed(3);
        QVERIFY(presenceAndCollect(h, 4, QStringLiteral("phone")).isEmpty());
        h.account.sessionClosed(2);
        QVERIFY(presenceAndCollect(h, 5, QStringLiteral("laptop")).isEmpty());
    }

    // What the user wrote while a device was away (from another session, or from a device
    // connected straight to the server, which the server tells as a <sent> carbon) is caught
    // up on as <sent> carbons, in order among the answers, by devices that enabled carbons.
    void whatTheUserWroteIsCaughtUpAsCarbons_data()
    {
        QTest::addColumn<bool>("carbons");
        QTest::newRow("phone with carbons") << true;
        QTest::newRow("phone without carbons") << false;
    }
    void whatTheUserWroteIsCaughtUpAsCarbons()
    {
        QFETCH(bool, carbons);
        PersistenceHarness h;
        phoneAndLaptop(h);
        h.account.sessionClosed(1);
        h.fromUpstream(chat("m1", "question"));
        const QString fromLaptop = QStringLiteral(
            "<message to='bob@example.org/pc' type='chat' id='s1'><body>answer</body></message>");
        h.fromSession(2, fromLaptop);
        const QString fromDesk = QStringLiteral(
            "<message from='alice@example.org' to='alice@example.org/xbnc' type='chat'><sent "
            "xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message "
            "xmlns='jabber:client' from='alice@example.org/desk' to='bob@example.org' "
            "type='chat' id='s2'><body>more</body><stanza-id xmlns='urn:xmpp:sid:0' "
            "by='alice@example.org' id='sid-2'/></message></forwarded></sent></message>");
        h.fromUpstream(fromDesk);
        h.fromUpstream(chat("m3", "thanks"));
        h.clear();

        h.account.sessionBound(3, QStringLiteral("phone"));
        if (carbons) {
            h.fromSession(3, "<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
            QCOMPARE(h.take().stanza.attribute(u"type"), QStringLiteral("result"));
        }
        const QList<Element> phone = presenceAndCollect(h, 3, QStringLiteral("phone"), false);
        if (!carbons) {
            QCOMPARE(ids(phone), QStringList({"m1", "m3"}));
            return;
        }
        QCOMPARE(ids(phone), QStringList({"m1", "", "", "m3"}));
        const QString laptopCarbon = QStringLiteral(
            "<message from='alice@example.org' to='alice@example.org/xbnc' type='chat'><sent "
            "xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message "
            "xmlns='jabber:client' from='alice@example.org/xbnc' to='bob@example.org/pc' "
            "type='chat' id='s1'><body>answer</body></message></forwarded></sent></message>");
        QCOMPARE(canonical(phone[1]),
                 canonical(carbonDelayed(laptopCarbon, "2026-12-01T12:00:00Z")));
        // The server's carbon as it came, stanza-id kept, with the time xbnc had it.
        QCOMPARE(canonical(phone[2]), canonical(carbonDelayed(fromDesk, "2026-12-01T12:00:00Z")));

        // Exactly once, and never to the device that wrote it.
        h.account.sessionClosed(3);
        h.account.sessionClosed(2);
        for (const auto &[id, device] : {std::pair{4, "phone"}, std::pair{5, "laptop"}}) {
            h.account.sessionBound(id, QString::fromLatin1(device));
            h.fromSession(id, "<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
            QVERIFY(presenceAndCollect(h, id, QString::fromLatin1(device), false).isEmpty());
        }
    }

    // While the devices are online, a session's message reaches the others with carbons live,
    // once, and is not replayed to them later.
    void aSentMessageGoesLiveToCarbonSessionsOnly()
    {
        PersistenceHarness h;
        h.online();
        h.account.sessionBound(1, QStringLiteral("phone"));
        h.fromSession(1, "<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
        presenceAndCollect(h, 1, QStringLiteral("phone"), false);
        presenceAndCollect(h, 2, QStringLiteral("laptop"));
        presenceAndCollect(h, 3, QStringLiteral("desktop"));
        h.fromSession(2, "<message to='bob@example.org/pc' type='chat' id='s1'><body>hi</body>"
                         "</message>");
        const AccountHarness::Sent carbon = h.take();
        QCOMPARE(carbon.session, SessionId(1));
        QVERIFY(carbon.stanza.firstChild(u"sent", u"urn:xmpp:carbons:2"));
        EXPECT(h.expectUpstream(
            "<message to='bob@example.org/pc' type='chat' id='s1'><body>hi</body></message>"));
        EXPECT(h.expectNothing());
        QCOMPARE(h.stored.size(), size_t(1));
        h.account.sessionClosed(1);
        h.account.sessionBound(4, QStringLiteral("phone"));
        h.fromSession(4, "<iq type='set' id='c2'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
        QVERIFY(presenceAndCollect(h, 4, QStringLiteral("phone"), false).isEmpty());
    }

    void whatASessionGotBeforeItsPresenceIsNotRepeated()
    {
        PersistenceHarness h;
        phoneAndLaptop(h);
        h.account.sessionClosed(1);
        h.fromUpstream(chat("m1", "missed"));
        // Connected, no presence yet: it gets messages while the laptop is there (as before).
        h.bind(3, QStringLiteral("phone"), false);
        h.clear();
        h.fromUpstream(chat("m2", "live"));
        EXPECT(h.expectToSession(2, chat("m2", "live")));
        EXPECT(h.expectToSession(3, chat("m2", "live")));
        EXPECT(h.expectNothing());
        h.fromSession(3, QStringLiteral("<presence/>"));
        EXPECT(h.expectToSession(3, delayed(chat("m1", "missed"), "2026-12-01T12:00:00Z")));
        EXPECT(h.expectNothing()); // the laptop's presence already stands for the account
    }

    void aNewDeviceGetsOnlyWhatNoDeviceHad()
    {
        PersistenceHarness h;
        phoneAndLaptop(h);
        h.account.sessionClosed(1);
        h.fromUpstream(chat("m1", "the laptop had this"));
        h.account.sessionClosed(2);
        h.fromUpstream(chat("m2", "nobody had this"));
        QCOMPARE(ids(presenceAndCollect(h, 3, QStringLiteral("tablet"))), QStringList({"m2"}));
        // A known device still gets all it missed.
        QCOMPARE(ids(presenceAndCollect(h, 4, QStringLiteral("phone"))), QStringList({"m1", "m2"}));
        QCOMPARE(h.deliveredThrough, 2u);
    }

    void unacknowledgedMessagesComeBackToThatDeviceOnly()
    {
        PersistenceHarness h;
        phoneAndLaptop(h);
        for (const char *id : {"m1", "m2", "m3"})
            h.fromUpstream(chat(id, id));
        QCOMPARE(h.devices[QStringLiteral("phone")].cursor, 3u);
        // Stream management says the phone never acknowledged m2 and m3 (and a presence).
        h.account.sessionClosed(
            1,
            {Element::fromXml(chat("m2", "m2").toUtf8()),
             Element::fromXml("<presence from='bob@example.org/pc' to='alice@example.org/xbnc'/>"),
             Element::fromXml(chat("m3", "m3").toUtf8())});
        QCOMPARE(h.devices[QStringLiteral("phone")].cursor, 1u);
        const QList<Element> phone = presenceAndCollect(h, 3, QStringLiteral("phone"));
        QCOMPARE(ids(phone), QStringList({"m2", "m3"}));
        QCOMPARE(canonical(phone[0]), canonical(delayed(chat("m2", "m2"), "2026-12-01T12:00:00Z")));
        h.account.sessionClosed(2);
        QVERIFY(presenceAndCollect(h, 4, QStringLiteral("laptop")).isEmpty());
        h.account.sessionClosed(3);
        QVERIFY(presenceAndCollect(h, 5, QStringLiteral("phone")).isEmpty());
    }

    void unacknowledgedMessagesNotInTheLogAreKeptForThatDevice()
    {
        PersistenceHarness h;
        phoneAndLaptop(h);
        // Replayed with a delay and to the session's own address, as the session had it.
        const QString sent = QStringLiteral(
            "<message from='bob@example.org/pc' to='alice@example.org/xbnc' type='chat' id='x1'>"
            "<body>only here</body><delay xmlns='urn:xmpp:delay' from='example.org' "
            "stamp='2026-12-01T11:00:00Z'/></message>");
        h.account.sessionClosed(1, {Element::fromXml(sent.toUtf8())});
        QCOMPARE(h.stored.size(), 1u);
        QCOMPARE(h.stored.back().device, QStringLiteral("phone"));
        QVERIFY(presenceAndCollect(h, 3, QStringLiteral("tablet")).isEmpty());
        h.account.sessionClosed(2);
        QVERIFY(presenceAndCollect(h, 4, QStringLiteral("laptop")).isEmpty());
        const QList<Element> phone = presenceAndCollect(h, 5, QStringLiteral("phone"));
        QCOMPARE(phone.size(), 1);
        QCOMPARE(canonical(phone[0]), canonical(relayedTo(sent, QStringLiteral("phone"))));
    }

    // RFC 6120 §7.7.2.2: the phone binds its resource again while its older session still
    // hibernates; the edge ends that one and hands back what its client never acknowledged.
    void aReplacedSessionsUnacknowledgedMessagesReachTheDevicesNextSession()
    {
        PersistenceHarness h;
        phoneAndLaptop(h);
        for (const char *id : {"m1", "m2", "m3"})
            h.fromUpstream(chat(id, id));
        h.unacknowledged[1] = {Element::fromXml(chat("m2", "m2").toUtf8()),
                               Element::fromXml(chat("m3", "m3").toUtf8())};
        const QList<Element> phone = presenceAndCollect(h, 3, QStringLiteral("phone"));
        QCOMPARE(ids(phone), QStringList({"m2", "m3"}));
        QCOMPARE(canonical(phone[1]), canonical(delayed(chat("m3", "m3"), "2026-12-01T12:00:00Z")));
        QCOMPARE(h.account.sessionCount(), 2);
        // Exactly once: neither the phone's next session nor the laptop's gets them again.
        h.account.sessionClosed(3);
        QVERIFY(presenceAndCollect(h, 4, QStringLiteral("phone")).isEmpty());
        h.account.sessionClosed(2);
        QVERIFY(presenceAndCollect(h, 5, QStringLiteral("laptop")).isEmpty());
    }

    void theServersStanzaIdIsReplayedUntouched()
    {
        PersistenceHarness h;
        h.online();
        const QString withId = QStringLiteral(
            "<message from='bob@example.org/pc' to='alice@example.org' type='chat' id='m1'>"
            "<body>hi</body><stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.org' "
            "id='archive-7'/></message>");
        h.fromUpstream(withId);
        const QList<Element> phone = presenceAndCollect(h, 1, QStringLiteral("phone"));
        QCOMPARE(phone.size(), 1);
        QCOMPARE(canonical(phone[0]), canonical(delayed(withId, "2026-12-01T12:00:00Z")));
    }

    void privateMessagesFromARoomAreCaughtUp()
    {
        PersistenceHarness h;
        phoneAndLaptop(h);
        EXPECT(joinFirst(h, 2)); // the laptop is in the room, the phone is not
        h.account.sessionClosed(1);
        h.clear();
        const QString pm = QStringLiteral(
            "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
            "type='chat' id='pm1'><body>psst</body></message>");
        h.fromUpstream(pm);
        EXPECT(h.expectRelayed(2, pm));
        EXPECT(h.expectNothing());
        const QList<Element> phone = presenceAndCollect(h, 3, QStringLiteral("phone"));
        QCOMPARE(phone.size(), 1);
        QCOMPARE(canonical(phone[0]), canonical(delayed(relayedTo(pm, QStringLiteral("phone")),
                                                        "2026-12-01T12:00:00Z")));
    }

    void oldMessagesExpire()
    {
        PersistenceHarness h;
        h.account.setOfflineLimits({1000, std::chrono::hours(1)});
        h.online();
        h.fromUpstream(chat("m1", "old"));
        h.now = h.now.addSecs(3000);
        h.fromUpstream(chat("m2", "recent"));
        h.now = h.now.addSecs(1000);
        h.account.expireOfflineMessages();
        QCOMPARE(h.offlineDoneThrough, 1u);
        QCOMPARE(h.account.offlineMessages().size(), 1);
        QCOMPARE(ids(presenceAndCollect(h, 1, QStringLiteral("phone"))), QStringList({"m2"}));
    }

    void idleDevicesAreForgotten()
    {
        PersistenceHarness h;
        h.account.setForgetDeviceAfter(std::chrono::hours(24));
        phoneAndLaptop(h);
        h.account.sessionClosed(1);
        h.now = h.now.addDays(2);
        h.fromUpstream(chat("m1", "while the phone was long gone"));
        h.account.expireOfflineMessages();
        // The laptop, connected all along, is not forgotten although it bound two days ago.
        QCOMPARE(h.forgotten, std::vector<QString>{QStringLiteral("phone")});
        QVERIFY(!h.account.deviceCursors().find(QStringLiteral("phone")));
        QVERIFY(h.account.deviceCursors().find(QStringLiteral("laptop")));
        // Back, the phone is a new device: what the laptop had is not replayed.
        QVERIFY(presenceAndCollect(h, 3, QStringLiteral("phone")).isEmpty());
    }

    void cursorsSurviveARestart()
    {
        PersistenceHarness h;
        std::vector<OfflineMessages::Entry> log;
        for (int seq = 5; seq <= 7; ++seq)
            log.push_back(OfflineMessages::Entry{
                quint64(seq), Element::fromXml(chat(QStringLiteral("m%1").arg(seq), "x").toUtf8()),
                h.now.addSecs(-60), QString()});
        h.account.restoreOfflineMessages(std::move(log), 7);
        h.account.restoreDeviceCursors(
            {{QStringLiteral("phone"), {5, h.now}}, {QStringLiteral("laptop"), {7, h.now}}}, 7);
        h.online();
        QCOMPARE(ids(presenceAndCollect(h, 1, QStringLiteral("phone"))), QStringList({"m6", "m7"}));
        QVERIFY(presenceAndCollect(h, 2, QStringLiteral("laptop")).isEmpty());
        QVERIFY(presenceAndCollect(h, 3, QStringLiteral("tablet")).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestOfflineMessages)
#include "tst_offline_messages.moc"
