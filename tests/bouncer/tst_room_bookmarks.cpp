// XEP-0402 bookmarks drive the account's own room membership: autojoin joins at start and on a
// notification, a retraction or autojoin=false leaves (when no session is in the room), and a
// bookmarked room is kept when its last session leaves.
#include "account_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

QString item(const QString &room, bool autojoin, const QString &nick = {})
{
    return QStringLiteral("<item id='%1'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='%2'>"
                          "%3</conference></item>")
        .arg(room, autojoin ? QStringLiteral("true") : QStringLiteral("false"),
             nick.isEmpty() ? QString() : QStringLiteral("<nick>%1</nick>").arg(nick));
}

QString bookmarkEvent(const QString &items)
{
    return QStringLiteral("<message from='alice@example.org' to='alice@example.org/xbnc' "
                          "type='headline' id='e'><event "
                          "xmlns='http://jabber.org/protocol/pubsub#event'><items "
                          "node='urn:xmpp:bookmarks:1'>%1</items></event></message>")
        .arg(items);
}

QString joinOf(const QString &occupant)
{
    return QStringLiteral("<presence to='%1'><x xmlns='http://jabber.org/protocol/muc'><history "
                          "maxstanzas='20'/></x></presence>")
        .arg(occupant);
}

// The room's answer to the account's join: the account is in the room.
void roomAnswers(AccountHarness &h, const QString &occupant)
{
    h.fromUpstream(QStringLiteral("<presence from='%1' to='alice@example.org/xbnc'><x "
                                  "xmlns='http://jabber.org/protocol/muc#user'><item "
                                  "affiliation='member' role='participant'/><status "
                                  "code='110'/></x></presence>")
                       .arg(occupant));
}

void startWith(AccountHarness &h, const QString &items)
{
    h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
    h.clear();
    h.fromUpstream(QStringLiteral("<iq type='result' id='xbnc-bookmarks' "
                                  "to='alice@example.org/xbnc'><pubsub "
                                  "xmlns='http://jabber.org/protocol/pubsub'><items "
                                  "node='urn:xmpp:bookmarks:1'>%1</items></pubsub></iq>")
                       .arg(items));
}

} // namespace

class TestRoomBookmarks : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void aRemovalFromBeforeARestartKeepsTheBookmarkOff()
    {
        AccountHarness h;
        h.account.restoreRoomRemoval("a@conference.example.org", "kick");
        startWith(h, item("a@conference.example.org", true, "al") +
                         item("c@conference.example.org", true));
        EXPECT(h.expectUpstream(joinOf("c@conference.example.org/alice")));
        EXPECT(h.expectNothing());
    }

    void autojoinBookmarksAreJoinedAtStart()
    {
        AccountHarness h;
        startWith(h, item("a@conference.example.org", true, "al") +
                         item("b@conference.example.org", false) +
                         item("c@conference.example.org", true));
        EXPECT(h.expectUpstream(joinOf("a@conference.example.org/al")));
        // without a nick in the bookmark, the account's local part
        EXPECT(h.expectUpstream(joinOf("c@conference.example.org/alice")));
        EXPECT(h.expectNothing());
    }

    void notificationsJoinAndLeaveAndReachEverySession()
    {
        AccountHarness h;
        startWith(h, {});
        h.bind(1, "phone");
        h.fromUpstream(bookmarkEvent(item("d@conference.example.org", true, "al")));
        EXPECT(h.expectUpstream(joinOf("d@conference.example.org/al")));
        QCOMPARE(h.take().session, SessionId(1)); // the notification itself
        EXPECT(h.expectNothing());
        roomAnswers(h, "d@conference.example.org/al");
        EXPECT(h.expectNothing()); // no session joined: nobody is shown the room

        h.fromUpstream(bookmarkEvent("<retract id='d@conference.example.org'/>"));
        EXPECT(h.expectUpstream("<presence to='d@conference.example.org/al' "
                                "type='unavailable'/>"));
        QCOMPARE(h.take().session, SessionId(1));
        EXPECT(h.expectNothing());
    }

    void autojoinOffLeavesOnlyOnAChange()
    {
        AccountHarness h;
        startWith(h, item("e@conference.example.org", true));
        EXPECT(h.expectUpstream(joinOf("e@conference.example.org/alice")));
        roomAnswers(h, "e@conference.example.org/alice");
        h.fromUpstream(bookmarkEvent(item("e@conference.example.org", false)));
        EXPECT(h.expectUpstream("<presence to='e@conference.example.org/alice' "
                                "type='unavailable'/>"));
        EXPECT(h.expectNothing());
    }

    void bookmarkedRoomIsKeptWhenTheLastSessionLeaves()
    {
        AccountHarness h;
        startWith(h, item("f@conference.example.org", true, "al"));
        h.clear();
        roomAnswers(h, "f@conference.example.org/al");
        h.bind(1, "phone");
        h.fromSession(1, "<presence to='f@conference.example.org/al'><x "
                         "xmlns='http://jabber.org/protocol/muc'/></presence>");
        h.clear(); // the replay
        h.fromSession(1, "<presence to='f@conference.example.org/al' type='unavailable'/>");
        EXPECT(h.expectToSession(1, "<presence from='f@conference.example.org/al' "
                                    "to='alice@example.org/xbnc' type='unavailable'><x "
                                    "xmlns='http://jabber.org/protocol/muc#user'><item "
                                    "affiliation='member' role='none'/><status code='110'/>"
                                    "</x></presence>"));
        EXPECT(h.expectNothing()); // nothing upstream: the account stays
    }

    void aSessionsPublishAndRetractAreFollowed()
    {
        AccountHarness h;
        startWith(h, {});
        h.bind(1, "phone");
        h.fromSession(1, "<iq type='set' id='p1'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                         "<publish node='urn:xmpp:bookmarks:1'>" +
                             item("j@conference.example.org", true, "al") +
                             "</publish></pubsub></iq>");
        EXPECT(h.expectUpstream(joinOf("j@conference.example.org/al")));
        QCOMPARE(h.take().stanza.attribute(u"type"), u"set"); // the publish itself, upstream
        roomAnswers(h, "j@conference.example.org/al");
        h.fromSession(1, "<iq type='set' id='p2'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                         "<retract node='urn:xmpp:bookmarks:1' notify='true'><item "
                         "id='j@conference.example.org'/></retract></pubsub></iq>");
        EXPECT(h.expectUpstream("<presence to='j@conference.example.org/al' "
                                "type='unavailable'/>"));
        QCOMPARE(h.take().stanza.attribute(u"type"), u"set");
        EXPECT(h.expectNothing());
    }

    void privateStorageWhenTheServerHasNoPepBookmarks()
    {
        AccountHarness h;
        h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        h.clear();
        h.fromUpstream("<iq type='error' id='xbnc-bookmarks'><error type='cancel'>"
                       "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                       "</iq>");
        EXPECT(h.expectUpstream("<iq type='get' id='xbnc-bookmarks-legacy'><query "
                                "xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/>"
                                "</query></iq>"));
        EXPECT(h.expectNothing());
        h.fromUpstream("<iq type='result' id='xbnc-bookmarks-legacy'><query "
                       "xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'>"
                       "<conference jid='h@conference.example.org' autojoin='1'><nick>al</nick>"
                       "<password>pw</password></conference>"
                       "<conference jid='i@conference.example.org' autojoin='false'/>"
                       "<url url='https://example.org'/></storage></query></iq>");
        EXPECT(h.expectUpstream("<presence to='h@conference.example.org/al'><x "
                                "xmlns='http://jabber.org/protocol/muc'><history "
                                "maxstanzas='20'/><password>pw</password></x></presence>"));
        EXPECT(h.expectNothing());
    }

    void aSessionsRoomWithoutAutojoinStaysAtStart()
    {
        AccountHarness h;
        h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        h.bind(1, "phone");
        h.fromSession(1, "<presence to='g@conference.example.org/al'><x "
                         "xmlns='http://jabber.org/protocol/muc'/></presence>");
        roomAnswers(h, "g@conference.example.org/al");
        h.account.sessionClosed(1);
        h.clear();
        h.fromUpstream("<iq type='result' id='xbnc-bookmarks'><pubsub "
                       "xmlns='http://jabber.org/protocol/pubsub'><items "
                       "node='urn:xmpp:bookmarks:1'>" +
                       item("g@conference.example.org", false) + "</items></pubsub></iq>");
        EXPECT(h.expectNothing());
    }

    // A kick, a ban or a destroyed room is the room's decision: the autojoin bookmark the user
    // had before does not bring the account back at the next connection. A change of the
    // bookmark does (the user looked at it again), as does a session's own join.
    void removalOutlastsAutojoin_data()
    {
        QTest::addColumn<QString>("removal"); // inside the self-presence's <x/>
        QTest::addColumn<bool>("backAtReconnect");
        QTest::newRow("kick") << "<status code='307'/>" << false;
        QTest::newRow("ban") << "<status code='301'/>" << false;
        QTest::newRow("destroyed") << "<destroy/>" << false;
        QTest::newRow("shutdown passes") << "<status code='332'/>" << true;
    }
    void removalOutlastsAutojoin()
    {
        QFETCH(QString, removal);
        QFETCH(bool, backAtReconnect);
        const QString bookmark = item("g@conference.example.org", true, "al");
        AccountHarness h;
        startWith(h, bookmark);
        EXPECT(h.expectUpstream(joinOf("g@conference.example.org/al")));
        roomAnswers(h, "g@conference.example.org/al");
        h.fromUpstream(QStringLiteral("<presence from='g@conference.example.org/al' "
                                      "to='alice@example.org/xbnc' type='unavailable'><x "
                                      "xmlns='http://jabber.org/protocol/muc#user'><item "
                                      "affiliation='none' role='none'/><status code='110'/>%1"
                                      "</x></presence>")
                           .arg(removal));
        EXPECT(h.expectNothing());
        h.account.upstreamOffline();
        // The room's own rejoin and the bookmarks at start, together: one join or none.
        h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        h.fromUpstream(QStringLiteral("<iq type='result' id='xbnc-bookmarks' "
                                      "to='alice@example.org/xbnc'><pubsub "
                                      "xmlns='http://jabber.org/protocol/pubsub'><items "
                                      "node='urn:xmpp:bookmarks:1'>%1</items></pubsub></iq>")
                           .arg(bookmark));
        int joins = 0;
        for (const AccountHarness::Sent &sent : h.sent)
            joins += sent.stanza.name() == u"presence" &&
                     sent.stanza.attribute(u"to") == u"g@conference.example.org/al";
        QCOMPARE(joins, backAtReconnect ? 1 : 0);
        h.clear();
        if (backAtReconnect)
            return;
        // The server re-sends the current bookmarks whenever xbnc's caps ask for them: that is
        // no sign of the user's wish, and the account stays out…
        h.fromUpstream(bookmarkEvent(bookmark));
        EXPECT(h.expectNothing());
        // …until the user publishes the bookmark again from a session.
        h.bind(1, "phone");
        h.fromSession(1, "<iq type='set' id='p1'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                         "<publish node='urn:xmpp:bookmarks:1'>" +
                             bookmark + "</publish></pubsub></iq>");
        EXPECT(h.expectUpstream(joinOf("g@conference.example.org/al")));
    }
};

QTEST_GUILESS_MAIN(TestRoomBookmarks)
#include "tst_room_bookmarks.moc"
