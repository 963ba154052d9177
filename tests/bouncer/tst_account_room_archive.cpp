#include "account_harness.h"
#include "mam_query.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

// Room MAM for every room (issue #9 item 6): a room without MAM gets xbnc's stanza-ids and its
// queries answered from the room log; a room with MAM is left to answer them itself.

namespace {

// RoomScript::jid, spelt out: another file's static is not initialised yet here.
const QString room = QStringLiteral("room@conference.example.org");
const QString self = QStringLiteral("alice@example.org/xbnc");

QString roomDiscoResult(const QString &id, bool mam)
{
    return QStringLiteral("<iq type='result' id='%1' from='%2' to='%3'><query "
                          "xmlns='http://jabber.org/protocol/disco#info'><identity "
                          "category='conference' type='text' name='Tea'/><feature "
                          "var='http://jabber.org/protocol/muc'/>%4<feature "
                          "var='urn:xmpp:sid:0'/></query></iq>")
        .arg(id, room, self, mam ? QStringLiteral("<feature var='urn:xmpp:mam:2'/>") : QString());
}

// The session asks the room's disco#info and the room answers (with MAM or not); returns the
// answer as the session got it.
Element discoverRoom(AccountHarness &h, SessionId session, bool mam)
{
    h.fromSession(session, QStringLiteral("<iq type='get' id='d1' to='%1'><query "
                                          "xmlns='http://jabber.org/protocol/disco#info'/></iq>")
                               .arg(room));
    const AccountHarness::Sent asked = h.take();
    if (asked.target != AccountHarness::Sent::Upstream || asked.stanza.attribute(u"to") != room)
        return {};
    h.fromUpstream(roomDiscoResult(asked.stanza.attribute(u"id"), mam));
    const AccountHarness::Sent answered = h.take();
    return answered.target == AccountHarness::Sent::Session ? answered.stanza : Element();
}

// After upstreamOnline(): the room's rejoin goes up with its disco#info right behind it (while
// the server has the room at hand), then the rest of what a new connection sends. Empty when so.
QString rejoinAsksTheRoom(AccountHarness &h)
{
    for (auto it = h.sent.begin(); it != h.sent.end(); ++it) {
        if (it->stanza.name() != u"presence" || it->stanza.attribute(u"to") != room + "/alice")
            continue;
        h.sent.erase(h.sent.begin(), it + 1);
        const QString problem = h.expectRoomInfo(room);
        h.clear();
        return problem;
    }
    return QStringLiteral("no rejoin of ") + room;
}

RoomScript roomWithoutHistory()
{
    RoomScript script = standardRoom();
    script.history.clear();
    return script;
}

// Upstream online, the phone (1) and any `others` (2, 3…) bound; the phone learns that the room
// has no MAM and joins it first. Empty when all went as expected.
QString inRoomWithoutMam(AccountHarness &h, const QStringList &others = {})
{
    h.online();
    h.bind(1, "phone");
    for (qsizetype i = 0; i < others.size(); ++i)
        h.bind(SessionId(i + 2), others[i]);
    discoverRoom(h, 1, false);
    return joinFirst(h, 1, roomWithoutHistory());
}

QString groupchat(const QString &id, const QString &body, const QString &extra = {})
{
    return QStringLiteral("<message from='%1/bob' to='%2' type='groupchat' id='%3'><body>%4"
                          "</body>%5</message>")
        .arg(room, self, id, body, extra);
}

QString mamQuery(const QString &id, const QString &rsm = {})
{
    return mam::query(id, room, QStringLiteral("f27"), rsm);
}

// The stanza-id by the room on a message, empty when none.
QString roomStanzaId(const Element &message)
{
    for (const Element &c : message.children())
        if (c.name() == u"stanza-id" && c.attribute(u"by") == room)
            return c.attribute(u"id");
    return {};
}

QStringList features(const Element &discoResult)
{
    QStringList vars;
    if (const Element *query = discoResult.firstChild(u"query"))
        for (const Element &c : query->children())
            if (c.name() == u"feature")
                vars << c.attribute(u"var");
    return vars;
}

// Records the archive kind each time the account asks the wiring to store the room.
class ArchiveRecorder : public AccountHarness
{
public:
    QList<Room::Archive> stored;
    void roomEntered(const Room &r) override
    {
        if (r.archive() != Room::Archive::Unknown)
            stored << r.archive();
    }
};

} // namespace

class TestAccountRoomArchive : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void discoOfARoomWithoutMamGetsXbncsArchive()
    {
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        const Element answer = discoverRoom(h, 1, false);
        QCOMPARE(answer.attribute(u"id"), QStringLiteral("d1"));
        QCOMPARE(features(answer), (QStringList{"http://jabber.org/protocol/muc", "urn:xmpp:sid:0",
                                                "urn:xmpp:mam:2"}));
        EXPECT(h.expectNothing());
    }

    void discoOfARoomWithMamIsUnchanged()
    {
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        const Element answer = discoverRoom(h, 1, true);
        QCOMPARE(canonical(answer), canonical(roomDiscoResult("d1", true)));
    }

    void discoOfAContactIsUnchanged()
    {
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        h.fromSession(1, "<iq type='get' id='d2' to='bob@example.org'><query "
                         "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        const QString id = h.take().stanza.attribute(u"id");
        const QString reply = QStringLiteral(
            "<iq type='result' id='%1' from='bob@example.org' to='%2'><query "
            "xmlns='http://jabber.org/protocol/disco#info'><identity category='account' "
            "type='registered'/><feature var='urn:xmpp:mam:1'/></query></iq>");
        h.fromUpstream(reply.arg(id, self));
        EXPECT(h.expectToSession(1, reply.arg("d2", self)));
    }

    void roomWithoutMamIsAnsweredFromTheLog()
    {
        AccountHarness h;
        EXPECT(inRoomWithoutMam(h));

        // A stanza-id "by the room" from a room without an archive is made up: replaced.
        h.fromUpstream(groupchat("l1", "one",
                                 QStringLiteral("<stanza-id xmlns='urn:xmpp:sid:0' by='%1' "
                                                "id='forged'/>")
                                     .arg(room)));
        h.fromUpstream(groupchat("l2", "two"));
        QStringList live;
        for (int i = 0; i < 2; ++i) {
            const AccountHarness::Sent sent = h.take();
            QCOMPARE(sent.session, SessionId(1));
            live << roomStanzaId(sent.stanza);
        }
        QVERIFY(!live[0].isEmpty() && live[0] != QStringLiteral("forged"));
        QVERIFY(!live[1].isEmpty() && live[1] != live[0]);
        EXPECT(h.expectNothing());

        h.fromSession(1, mamQuery("q1", "<max>10</max><before/>"));
        for (int i = 0; i < 2; ++i) {
            const AccountHarness::Sent result = h.take();
            QCOMPARE(result.session, SessionId(1));
            QCOMPARE(result.stanza.attribute(u"to"), self);
            QCOMPARE(result.stanza.attribute(u"from"), room);
            const Element *r = result.stanza.firstChild(u"result", u"urn:xmpp:mam:2");
            QVERIFY(r);
            QCOMPARE(r->attribute(u"queryid"), QStringLiteral("f27"));
            QCOMPARE(r->attribute(u"id"), live[i]); // the id the live copy carried
            const Element *inner = r->firstChild(u"forwarded")->firstChild(u"message");
            QCOMPARE(inner->attribute(u"from"), room + "/bob");
            QCOMPARE(roomStanzaId(*inner), live[i]);
        }
        EXPECT(h.expectToSession(
            1, QStringLiteral("<iq type='result' id='q1' from='%1' to='%2'><fin "
                              "xmlns='urn:xmpp:mam:2' complete='true'><set "
                              "xmlns='http://jabber.org/protocol/rsm'><first index='0'>%3</first>"
                              "<last>%4</last><count>2</count></set></fin></iq>")
                   .arg(room, self, live[0], live[1])));
        EXPECT(h.expectNothing()); // nothing upstream
    }

    void theJoinsHistoryCarriesXbncsIds()
    {
        AccountHarness h;
        EXPECT(inRoomWithoutMam(h, {QStringLiteral("laptop")}));
        h.fromUpstream(groupchat("l1", "one"));
        const QString id = roomStanzaId(h.take().stanza);
        QVERIFY(!id.isEmpty());
        h.fromSession(2, joinPresence("alice", "<history maxstanzas='1'/>"));
        AccountHarness::Sent history;
        for (AccountHarness::Sent s = h.take(); s.target == AccountHarness::Sent::Session;
             s = h.take())
            if (s.stanza.firstChild(u"body"))
                history = s;
        QCOMPARE(roomStanzaId(history.stanza), id);
    }

    void aSessionThatDidNotJoinIsRefused()
    {
        AccountHarness h;
        EXPECT(inRoomWithoutMam(h, {QStringLiteral("laptop")}));
        h.fromUpstream(groupchat("l1", "one"));
        h.clear();
        h.fromSession(2, mamQuery("q2"));
        EXPECT(h.expectToSession(
            2, QStringLiteral("<iq type='error' id='q2' from='%1' to='%2'><error type='auth'>"
                              "<forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                              "</iq>")
                   .arg(room, self)));
        EXPECT(h.expectNothing());
    }

    void theFormIsAnsweredLocally()
    {
        AccountHarness h;
        EXPECT(inRoomWithoutMam(h));
        h.fromSession(1, QStringLiteral("<iq type='get' id='f1' to='%1'><query "
                                        "xmlns='urn:xmpp:mam:2'/></iq>")
                             .arg(room));
        const AccountHarness::Sent form = h.take();
        QCOMPARE(form.target, AccountHarness::Sent::Session);
        QCOMPARE(form.stanza.attribute(u"type"), QStringLiteral("result"));
        QVERIFY(form.stanza.firstChild(u"query")->firstChild(u"x", u"jabber:x:data"));
        EXPECT(h.expectNothing());
    }

    void answeredWhileUpstreamIsAway()
    {
        AccountHarness h;
        EXPECT(inRoomWithoutMam(h));
        h.fromUpstream(groupchat("l1", "one"));
        h.account.upstreamOffline();
        h.clear();
        h.fromSession(1, mamQuery("q3"));
        const AccountHarness::Sent result = h.take();
        QVERIFY(result.stanza.firstChild(u"result", u"urn:xmpp:mam:2"));
        QCOMPARE(h.take().stanza.attribute(u"type"), QStringLiteral("result"));
        EXPECT(h.expectNothing());
    }

    void roomWithMamIsAskedItself_data()
    {
        QTest::addColumn<bool>("discovered"); // false: nobody asked the room's features
        QTest::newRow("the room said it has MAM") << true;
        QTest::newRow("not known yet") << false;
    }
    void roomWithMamIsAskedItself()
    {
        QFETCH(bool, discovered);
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        if (discovered)
            discoverRoom(h, 1, true);
        EXPECT(joinFirst(h, 1)); // the standard room's history keeps the room's s1 and s2
        const QString live = groupchat(
            "l1", "one",
            QStringLiteral("<stanza-id xmlns='urn:xmpp:sid:0' by='%1' id='s3'/>").arg(room));
        h.fromUpstream(live);
        EXPECT(h.expectRelayed(1, live));
        h.fromSession(1, mamQuery("q4"));
        const AccountHarness::Sent relayed = h.take();
        QCOMPARE(relayed.target, AccountHarness::Sent::Upstream);
        QCOMPARE(relayed.stanza.attribute(u"to"), room);
        QVERIFY(relayed.stanza.attribute(u"id") != QStringLiteral("q4"));
        EXPECT(h.expectNothing());
    }

    // Item 1 of the second round: xbnc asks a room it joined whether it has MAM, so that a room
    // without one gets xbnc's archive although no client asked the room's disco#info.
    void xbncAsksTheJoinedRoomItself_data()
    {
        QTest::addColumn<QString>("answer");   // %1: the id xbnc asked under
        QTest::addColumn<int>("archiveValue"); // Room::Archive
        QTest::newRow("no MAM") << roomDiscoResult("%1", false) << int(Room::Archive::Log);
        QTest::newRow("MAM") << roomDiscoResult("%1", true) << int(Room::Archive::Room);
        QTest::newRow("error") << QStringLiteral("<iq type='error' id='%1' from='%2'><error "
                                                 "type='cancel'><service-unavailable "
                                                 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                                                 "</error></iq>")
                                      .arg("%1", room)
                               << int(Room::Archive::Unknown);
    }
    void xbncAsksTheJoinedRoomItself()
    {
        QFETCH(QString, answer);
        QFETCH(int, archiveValue);
        const auto archive = Room::Archive(archiveValue);
        ArchiveRecorder h;
        h.online();
        h.bind(1, "phone");
        EXPECT(joinFirst(h, 1, roomWithoutHistory())); // ends with xbnc's disco#info to the room
        h.fromUpstream(answer.arg("xbnc-roominfo-" + room));
        EXPECT(h.expectNothing()); // xbnc's own question: no session sees the answer
        QCOMPARE(h.account.room(room)->archive(), archive);
        // Stored with the room once learned, so a restart knows it.
        QCOMPARE(h.stored, archive == Room::Archive::Unknown ? QList<Room::Archive>{}
                                                             : QList<Room::Archive>{archive});
        h.fromUpstream(groupchat("l1", "one"));
        const QString id = roomStanzaId(h.take().stanza);
        QCOMPARE(!id.isEmpty(), archive == Room::Archive::Log);
        h.fromSession(1, mamQuery("q6"));
        const AccountHarness::Sent sent = h.take();
        QCOMPARE(sent.target, archive == Room::Archive::Log ? AccountHarness::Sent::Session
                                                            : AccountHarness::Sent::Upstream);
        if (archive == Room::Archive::Log) {
            QCOMPARE(sent.stanza.firstChild(u"result", u"urn:xmpp:mam:2")->attribute(u"id"), id);
            QCOMPARE(h.take().stanza.attribute(u"type"), QStringLiteral("result"));
        }
        EXPECT(h.expectNothing());
    }

    void anUnansweredRoomIsAskedAgainOnTheNextJoin()
    {
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        EXPECT(joinFirst(h, 1, roomWithoutHistory()));
        h.account.upstreamOffline(); // the question dies with the connection
        h.account.upstreamOnline(Jid(boundJid));
        EXPECT(rejoinAsksTheRoom(h));
        const RoomScript script = roomWithoutHistory();
        for (const QString &stanza : script.all())
            h.fromUpstream(stanza);
        h.sent.erase(std::remove_if(h.sent.begin(), h.sent.end(),
                                    [](const AccountHarness::Sent &s) {
                                        return s.target == AccountHarness::Sent::Session;
                                    }),
                     h.sent.end());
        EXPECT(h.expectNothing()); // asked once, with the rejoin
        QCOMPARE(h.account.room(room)->archive(), Room::Archive::Unknown);
    }

    // An account joining many rooms at once (a client with many bookmarks, every restart):
    // each room's disco#info goes up right behind its join, while the server has that room at
    // hand (Prosody keeps only its 100 most recently used rooms in memory and would load each
    // room again for a question asked at the join's end); the end of the join asks nothing more.
    void eachRoomIsAskedRightBehindItsJoin()
    {
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        const int rooms = 150;
        const auto join = [](int i) {
            return QStringLiteral("<presence to='r%1@conference.example.org/alice'><x "
                                  "xmlns='http://jabber.org/protocol/muc'/></presence>")
                .arg(i);
        };
        for (int i = 0; i < rooms; ++i)
            h.fromSession(1, join(i));
        for (int i = 0; i < rooms; ++i)
            EXPECT(h.expectUpstream(join(i))); // and the room's disco#info next
        EXPECT(h.expectNothing());
        h.fromUpstream("<presence from='r0@conference.example.org/alice' "
                       "to='alice@example.org/xbnc'><x "
                       "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' "
                       "role='participant'/><status code='110'/></x></presence>");
        h.fromUpstream("<message from='r0@conference.example.org' to='alice@example.org/xbnc' "
                       "type='groupchat' id='s'><subject/></message>");
        QVERIFY(h.account.room(QStringLiteral("r0@conference.example.org"))->phase() ==
                Room::Phase::Joined);
        QVERIFY(std::none_of(h.sent.begin(), h.sent.end(), [](const AccountHarness::Sent &s) {
            return s.target == AccountHarness::Sent::Upstream;
        }));
    }

    // After a restart the kind stored with the room applies at once (stanza-ids, MAM answered
    // from the log), and the rejoin asks the room again in case its configuration changed.
    void aRestoredRoomKeepsItsArchiveAndIsAskedAgain()
    {
        AccountHarness h;
        h.account.restoreRoom(room, QStringLiteral("alice"), {}, true, {}, Room::Archive::Log);
        QCOMPARE(h.account.room(room)->archive(), Room::Archive::Log);
        h.account.upstreamOnline(Jid(boundJid));
        EXPECT(rejoinAsksTheRoom(h));
        const RoomScript script = roomWithoutHistory();
        for (const QString &stanza : script.all())
            h.fromUpstream(stanza);
        EXPECT(h.expectNothing()); // asked once, with the rejoin
        h.fromUpstream(roomDiscoResult("xbnc-roominfo-" + room, true));
        QCOMPARE(h.account.room(room)->archive(), Room::Archive::Room);
    }

    void learningLateGivesTheLoggedMessagesIds()
    {
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        EXPECT(joinFirst(h, 1, roomWithoutHistory()));
        h.fromUpstream(groupchat("l1", "one"));
        EXPECT(h.expectRelayed(1, groupchat("l1", "one"))); // unknown yet: as the room sent it
        discoverRoom(h, 1, false);
        h.fromSession(1, mamQuery("q5"));
        const AccountHarness::Sent result = h.take();
        const Element *r = result.stanza.firstChild(u"result", u"urn:xmpp:mam:2");
        QVERIFY(r);
        QVERIFY(!r->attribute(u"id").isEmpty());
        QCOMPARE(roomStanzaId(*r->firstChild(u"forwarded")->firstChild(u"message")),
                 r->attribute(u"id"));
        QCOMPARE(h.take().stanza.attribute(u"type"), QStringLiteral("result"));
        EXPECT(h.expectNothing());
    }
};

QTEST_GUILESS_MAIN(TestAccountRoomArchive)
#include "tst_account_room_archive.moc"
