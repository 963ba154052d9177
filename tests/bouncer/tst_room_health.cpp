// Keeping the account in its rooms: XEP-0410 self-pings of joined rooms, a rejoin when the room
// dropped the account, and a rejoin after an upstream reconnect that shows sessions only what
// changed (no repeated history, occupants who left meanwhile leave).
#include "account_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

const QString room = QStringLiteral("tea@conference.example.org");
const QString self =
    QStringLiteral("<presence from='tea@conference.example.org/al' to='alice@example.org/xbnc'><x "
                   "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
                   "role='participant'/><status code='110'/></x></presence>");
const QString bob =
    QStringLiteral("<presence from='tea@conference.example.org/bob' to='alice@example.org/xbnc'><x "
                   "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
                   "role='participant'/></x></presence>");
const QString carol = QStringLiteral(
    "<presence from='tea@conference.example.org/carol' to='alice@example.org/xbnc'><x "
    "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' "
    "role='participant'/></x></presence>");
const QString subject =
    QStringLiteral("<message from='tea@conference.example.org' to='alice@example.org/xbnc' "
                   "type='groupchat'><subject>Tea</subject></message>");

QString said(int n)
{
    return QStringLiteral("<message from='tea@conference.example.org/bob' "
                          "to='alice@example.org/xbnc' type='groupchat' id='m%1'><body>%1</body>"
                          "<stanza-id xmlns='urn:xmpp:sid:0' by='tea@conference.example.org' "
                          "id='s%1'/></message>")
        .arg(n);
}

QString withTo(QString stanza, const QString &to)
{
    return stanza.replace(QStringLiteral("to='alice@example.org/xbnc'"),
                          QStringLiteral("to='%1'").arg(to));
}

// phone is in the room with bob and carol; bob said 1.
void inTheRoom(AccountHarness &h)
{
    h.account.setNow([] { return QDateTime::fromSecsSinceEpoch(1800000000, Qt::UTC); });
    h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
    h.bind(1, "phone");
    h.fromSession(1, "<presence to='tea@conference.example.org/al'><x "
                     "xmlns='http://jabber.org/protocol/muc'/></presence>");
    for (const QString &stanza : {bob, carol, self, subject, said(1)})
        h.fromUpstream(stanza);
    h.clear();
}

} // namespace

class TestRoomHealth : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void selfPingOfJoinedRooms()
    {
        AccountHarness h;
        h.selfPingRooms();
        EXPECT(h.expectNothing()); // offline, no rooms
        inTheRoom(h);
        h.selfPingRooms();
        EXPECT(h.expectUpstream("<iq type='get' id='xbnc-selfping-tea@conference.example.org' "
                                "to='tea@conference.example.org/al'><ping "
                                "xmlns='urn:xmpp:ping'/></iq>"));
        EXPECT(h.expectNothing());
    }

    void selfPingAnswer_data()
    {
        QTest::addColumn<QString>("answer");
        QTest::addColumn<bool>("rejoins");
        QTest::newRow("result") << "type='result'" << false;
        QTest::newRow("not an occupant") << "type='error'><error type='cancel'><not-acceptable "
                                            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error"
                                         << true;
        QTest::newRow("nick gone") << "type='error'><error type='cancel'><item-not-found "
                                      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error"
                                   << true;
        QTest::newRow("joined, no ping support")
            << "type='error'><error type='cancel'><service-unavailable "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error"
            << false;
        QTest::newRow("remote server trouble says nothing")
            << "type='error'><error type='cancel'><remote-server-not-found "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error"
            << false;
    }
    void selfPingAnswer()
    {
        QFETCH(QString, answer);
        QFETCH(bool, rejoins);
        AccountHarness h;
        inTheRoom(h);
        h.selfPingRooms();
        h.take();
        const QString close =
            answer.endsWith(u"error") ? QStringLiteral("></iq>") : QStringLiteral("/>");
        h.fromUpstream(QStringLiteral("<iq from='tea@conference.example.org/al' "
                                      "id='xbnc-selfping-tea@conference.example.org' %1%2")
                           .arg(answer, close));
        if (rejoins)
            EXPECT(h.expectUpstream("<presence to='tea@conference.example.org/al'><x "
                                    "xmlns='http://jabber.org/protocol/muc'><history "
                                    "since='2027-01-15T08:00:00.000Z'/></x></presence>"));
        EXPECT(h.expectNothing());
    }

    void reconnectRejoinsAndShowsOnlyWhatChanged()
    {
        AccountHarness h;
        inTheRoom(h);
        h.account.upstreamOffline();
        EXPECT(h.expectNothing()); // the session is not told anything about the room
        h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        h.take(); // presence
        h.take(); // carbons
        EXPECT(h.expectUpstream("<presence to='tea@conference.example.org/al'><x "
                                "xmlns='http://jabber.org/protocol/muc'><history "
                                "since='2027-01-15T08:00:00.000Z'/></x></presence>"));
        h.take(); // bookmarks
        EXPECT(h.expectNothing());
        // The room answers: bob is still there, carol left meanwhile, dave came; the history
        // since then repeats message 1 and adds 2; the subject is the same.
        const QString dave =
            QString(carol).replace(QStringLiteral("carol"), QStringLiteral("dave"));
        for (const QString &stanza : {bob, dave, self, said(1), said(2), subject})
            h.fromUpstream(stanza);
        EXPECT(h.expectToSession(1, withTo(dave, "alice@example.org/xbnc")));
        EXPECT(h.expectToSession(1, "<presence from='tea@conference.example.org/carol' "
                                    "to='alice@example.org/xbnc' type='unavailable'/>"));
        EXPECT(h.expectToSession(1, withTo(said(2), "alice@example.org/xbnc")));
        EXPECT(h.expectNothing());
        // a session that joins now sees the room as it is
        h.bind(2, "laptop");
        h.fromSession(2, "<presence to='tea@conference.example.org/al'><x "
                         "xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/>"
                         "</x></presence>");
        EXPECT(h.expectToSession(2, withTo(bob, "alice@example.org/xbnc")));
        EXPECT(h.expectToSession(2, withTo(dave, "alice@example.org/xbnc")));
        QCOMPARE(h.take().stanza.attribute(u"from"), u"tea@conference.example.org/al");
        EXPECT(h.expectToSession(2, withTo(subject, "alice@example.org/xbnc")));
        EXPECT(h.expectNothing());
    }

    void aJoinDuringTheLastLeaveJoinsAgain()
    {
        AccountHarness h;
        inTheRoom(h);
        h.fromSession(1, "<presence to='tea@conference.example.org/al' type='unavailable'/>");
        EXPECT(h.expectUpstream("<presence to='tea@conference.example.org/al' "
                                "type='unavailable'/>"));
        h.bind(2, "laptop");
        h.fromSession(2, "<presence to='tea@conference.example.org/al'><x "
                         "xmlns='http://jabber.org/protocol/muc'/></presence>");
        h.clear(); // laptop's replay of the room as it was
        const QString gone = QString(self).replace(QStringLiteral("<presence "),
                                                   QStringLiteral("<presence type='unavailable' "));
        h.fromUpstream(gone);
        EXPECT(h.expectToSession(1, withTo(gone, "alice@example.org/xbnc")));
        EXPECT(h.expectUpstream("<presence to='tea@conference.example.org/al'><x "
                                "xmlns='http://jabber.org/protocol/muc'><history "
                                "maxstanzas='20'/></x></presence>"));
        EXPECT(h.expectNothing());
        // the room's answer reaches laptop, which stays in the room
        h.fromUpstream(self);
        EXPECT(h.expectToSession(2, withTo(self, "alice@example.org/xbnc")));
        QCOMPARE(h.account.room(room)->state(), Room::State::Joined);
    }

    void aSessionDisconnectedRoomIsStillRejoined()
    {
        AccountHarness h;
        inTheRoom(h);
        h.account.sessionClosed(1);
        h.account.upstreamOffline();
        h.clear();
        h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        bool rejoined = false;
        for (const auto &sent : h.sent)
            rejoined |= sent.stanza.name() == u"presence" &&
                        sent.stanza.attribute(u"to") == u"tea@conference.example.org/al";
        QVERIFY2(rejoined, "the account left the room because its only session disconnected");
    }
};

QTEST_GUILESS_MAIN(TestRoomHealth)
#include "tst_room_health.moc"
