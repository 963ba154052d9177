// What sessions send while upstream is down: queued in order, sent before anything newer once
// upstream is back, and bounced with remote-server-timeout when the bounds reject it.
#include "persistence_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

const QString fullText =
    QStringLiteral("Not sent: the server is unreachable and xbnc's queue for it is full.");
const QString expiredText = QStringLiteral(
    "Not sent: the server stayed unreachable for longer than xbnc keeps stanzas queued.");

QString message(const QString &id, const QString &body = QStringLiteral("hi"))
{
    return QStringLiteral("<message to='bob@example.org' type='chat' id='%1'><body>%2</body>"
                          "</message>")
        .arg(id, body);
}

// RFC 6120 §8.3: the error a session gets back for a stanza that never left, addressed to the
// JID every session is bound to.
QString bounced(const QString &id, const QString &text)
{
    return QStringLiteral("<message type='error' id='%1' from='bob@example.org' "
                          "to='alice@example.org/xbnc'><error type='wait'><remote-server-timeout "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>%2</text></error></message>")
        .arg(id, text);
}

// Upstream was online (so a presence was sent) and is now lost; phone is connected.
void offlineWithPhone(PersistenceHarness &h)
{
    h.online();
    h.bind(1, QStringLiteral("phone"));
    h.account.upstreamOffline();
    h.clear();
}

// Upstream comes back: the aggregate presence and carbons first, as on every connect.
QString expectReconnectPrefix(AccountHarness &h)
{
    if (QString problem = h.expectUpstream(withOwnCaps(QStringLiteral("<presence/>")));
        !problem.isEmpty())
        return problem;
    return h.expectUpstream(carbonsEnable);
}

} // namespace

class TestUpstreamQueue : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void queuedInOrderAndSentFirstOnReconnect_data()
    {
        QTest::addColumn<QStringList>("sent");   // by phone while upstream is down
        QTest::addColumn<QStringList>("queued"); // what goes upstream on reconnect, in order
        QTest::addColumn<QString>("aggregate");  // the account's presence then
        const QString available = QStringLiteral("<presence/>");
        const QString reaction = QStringLiteral(
            "<message to='bob@example.org' type='chat' id='r1'><reactions id='m1' "
            "xmlns='urn:xmpp:reactions:0'><reaction>👍</reaction></reactions></message>");
        const QString subscribe =
            QStringLiteral("<presence to='carol@example.org' type='subscribe'/>");
        const QString directed =
            QStringLiteral("<presence to='dave@example.org'><show>dnd</show></presence>");
        const QString composing =
            QStringLiteral("<message to='bob@example.org' type='chat' id='c1'><composing "
                           "xmlns='http://jabber.org/protocol/chatstates'/></message>");
        QTest::newRow("messages in order")
            << QStringList{message("m1", "one"), message("m2", "two"), message("m3", "three")}
            << QStringList{message("m1", "one"), message("m2", "two"), message("m3", "three")}
            << available;
        QTest::newRow("a message without a body (a reaction)")
            << QStringList{reaction} << QStringList{reaction} << available;
        QTest::newRow("subscriptions and directed presence, in order with messages")
            << QStringList{message("m1"), subscribe, directed,
                           "<presence to='erin@example.org' type='subscribed'/>"}
            << QStringList{message("m1"), subscribe, directed,
                           "<presence to='erin@example.org' type='subscribed'/>"}
            << available;
        QTest::newRow("a chat state alone is stale by then: not queued")
            << QStringList{composing, message("m1")} << QStringList{message("m1")} << available;
        QTest::newRow("broadcast presence: only the aggregate, sent anyway")
            << QStringList{"<presence><show>away</show></presence>"} << QStringList{}
            << "<presence><show>away</show></presence>";
    }
    void queuedInOrderAndSentFirstOnReconnect()
    {
        QFETCH(QStringList, sent);
        QFETCH(QStringList, queued);
        QFETCH(QString, aggregate);
        PersistenceHarness h;
        offlineWithPhone(h);
        for (const QString &stanza : sent)
            h.fromSession(1, stanza);
        h.sent.erase(std::remove_if(h.sent.begin(), h.sent.end(),
                                    [](const auto &s) { return s.stanza.name() == u"presence"; }),
                     h.sent.end()); // phone's own broadcast presence echoed back to it
        EXPECT(h.expectNothing());
        QCOMPARE(int(h.queued.size()), queued.size());

        h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        EXPECT(h.expectUpstream(withOwnCaps(aggregate)));
        EXPECT(h.expectUpstream(carbonsEnable));
        for (const QString &stanza : queued)
            EXPECT(h.expectUpstream(stanza));
        EXPECT(h.expectUpstream(bookmarksRequest));
        EXPECT(h.expectServerInfoAndRoster());
        EXPECT(h.expectNothing());
        QCOMPARE(h.account.outboundQueue().size(), 0);
        if (!queued.isEmpty())
            QCOMPARE(h.queueDoneThrough, h.queued.back().seq);
    }

    void newerStanzasGoAfterTheQueue()
    {
        PersistenceHarness h;
        offlineWithPhone(h);
        h.fromSession(1, message("old"));
        h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        h.fromSession(1, message("new"));
        EXPECT(expectReconnectPrefix(h));
        EXPECT(h.expectUpstream(message("old")));
        EXPECT(h.expectUpstream(bookmarksRequest));
        EXPECT(h.expectServerInfoAndRoster());
        EXPECT(h.expectUpstream(message("new")));
        EXPECT(h.expectNothing());
    }

    void queuedPrivateMessageWaitsForTheRejoin()
    {
        PersistenceHarness h;
        h.online();
        h.bind(1, QStringLiteral("phone"));
        EXPECT(joinFirst(h, 1));
        h.account.upstreamOffline();
        h.clear();
        const QString pm = QStringLiteral(
            "<message to='room@conference.example.org/bob' type='chat' id='pm1'><body>psst</body>"
            "</message>");
        h.fromSession(1, pm);
        h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        EXPECT(expectReconnectPrefix(h));
        const AccountHarness::Sent rejoin = h.take();
        QCOMPARE(rejoin.stanza.name(), QStringLiteral("presence"));
        QCOMPARE(rejoin.stanza.attribute(u"to"),
                 QStringLiteral("room@conference.example.org/alice"));
        EXPECT(h.expectRoomInfo(QStringLiteral("room@conference.example.org")));
        EXPECT(h.expectUpstream(pm));
    }

    void fullQueueBouncesTheNewest()
    {
        PersistenceHarness h;
        h.account.setQueueLimits({2, std::chrono::hours(24)});
        offlineWithPhone(h);
        h.fromSession(1, message("m1"));
        h.fromSession(1, message("m2"));
        EXPECT(h.expectNothing());
        h.fromSession(1, message("m3"));
        EXPECT(h.expectToSession(1, bounced("m3", fullText)));
        EXPECT(h.expectNothing());
        QCOMPARE(int(h.queued.size()), 2);

        h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        EXPECT(expectReconnectPrefix(h));
        EXPECT(h.expectUpstream(message("m1")));
        EXPECT(h.expectUpstream(message("m2")));
        EXPECT(h.expectUpstream(bookmarksRequest));
        EXPECT(h.expectServerInfoAndRoster());
        EXPECT(h.expectNothing());
    }

    void expiredStanzasBounce_data()
    {
        QTest::addColumn<bool>("phoneStays");
        QTest::addColumn<bool>("laptopThere");
        QTest::addColumn<bool>("byReconnect"); // expired when upstream returns, not by the timer
        QTest::newRow("to the sender") << true << false << false;
        QTest::newRow("to the sender, found on reconnect") << true << false << true;
        QTest::newRow("sender gone: to the sessions there") << false << true << false;
        QTest::newRow("nobody there: kept for the next session") << false << false << false;
    }
    void expiredStanzasBounce()
    {
        QFETCH(bool, phoneStays);
        QFETCH(bool, laptopThere);
        QFETCH(bool, byReconnect);
        PersistenceHarness h;
        h.account.setQueueLimits({1000, std::chrono::seconds(60)});
        offlineWithPhone(h);
        h.fromSession(1, message("m1"));
        h.now = h.now.addSecs(30);
        h.fromSession(1, message("m2"));
        if (laptopThere)
            h.bind(2, QStringLiteral("laptop"));
        if (!phoneStays)
            h.account.sessionClosed(1);
        h.clear();

        h.now = h.now.addSecs(31); // m1 is 61 s old, m2 31 s
        if (!byReconnect) {
            h.account.expireQueue();
        } else {
            h.now = h.now.addSecs(30); // and the timer has not run yet
            h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
            EXPECT(phoneStays ? expectReconnectPrefix(h) : h.expectUpstream(carbonsEnable));
        }
        const QStringList ids =
            byReconnect ? QStringList{"m1", "m2"} : QStringList{QStringLiteral("m1")};
        for (const QString &id : ids) {
            if (phoneStays)
                EXPECT(h.expectToSession(1, bounced(id, expiredText)));
            else if (laptopThere)
                EXPECT(h.expectToSession(2, bounced(id, expiredText)));
        }
        if (byReconnect) {
            EXPECT(h.expectUpstream(bookmarksRequest));
            EXPECT(h.expectServerInfoAndRoster());
        }
        EXPECT(h.expectNothing());
        QCOMPARE(h.queueDoneThrough, byReconnect ? 2u : 1u);
        if (phoneStays || laptopThere)
            return;
        // Nobody to tell now: the next session learns it first thing, as from offline storage.
        QCOMPARE(int(h.stored.size()), 1);
        h.account.sessionBound(3, QStringLiteral("tablet"));
        h.fromSession(3, QStringLiteral("<presence/>"));
        EXPECT(h.expectToSession(
            3,
            QStringLiteral("<message type='error' id='m1' from='bob@example.org' "
                           "to='alice@example.org/xbnc'><error type='wait'><remote-server-timeout "
                           "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                           "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>%1</text></error><delay "
                           "xmlns='urn:xmpp:delay' from='example.org' "
                           "stamp='2026-12-01T12:01:01Z'/></message>")
                .arg(expiredText)));
    }

    void persistedAndRestored()
    {
        PersistenceHarness h;
        offlineWithPhone(h);
        h.fromSession(1, message("m1"));
        h.fromSession(1, QStringLiteral("<presence to='carol@example.org' type='subscribe'/>"));
        QCOMPARE(int(h.queued.size()), 2);
        QCOMPARE(h.queued[0].seq, 1u);
        QCOMPARE(h.queued[1].seq, 2u);
        QCOMPARE(h.queued[0].resource, QStringLiteral("phone"));
        QCOMPARE(h.queued[0].queued, h.now);
        QCOMPARE(canonical(h.queued[1].stanza),
                 canonical("<presence to='carol@example.org' type='subscribe'/>"));

        // xbnc restarts with those two in the database.
        PersistenceHarness after;
        after.account.restoreQueue(h.queued);
        after.bind(1, QStringLiteral("phone"));
        after.fromSession(1, message("m3"));
        QCOMPARE(after.queued.back().seq, 3u); // numbered after the restored ones
        after.clear();
        after.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        EXPECT(expectReconnectPrefix(after));
        EXPECT(after.expectUpstream(message("m1")));
        EXPECT(after.expectUpstream("<presence to='carol@example.org' type='subscribe'/>"));
        EXPECT(after.expectUpstream(message("m3")));
        EXPECT(after.expectUpstream(bookmarksRequest));
        EXPECT(after.expectServerInfoAndRoster());
        EXPECT(after.expectNothing());
        QCOMPARE(after.queueDoneThrough, 3u);
        QCOMPARE(after.account.outboundQueue().size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestUpstreamQueue)
#include "tst_upstream_queue.moc"
