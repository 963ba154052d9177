// An upstream drop that XEP-0198 may resume: while interrupted the hub changes nothing the world
// or the sessions would see and holds back what sessions send; a resumed stream gets what waited
// and nothing else; a refused resumption runs the usual offline/online path and sends again
// what the old stream left unacknowledged, when it still means something.
#include "account_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

QString message(const QString &id, const QString &to = QStringLiteral("bob@example.org"))
{
    return QStringLiteral("<message to='%1' type='chat' id='%2'><body>%2</body></message>")
        .arg(to, id);
}

QString groupchat(const QString &id)
{
    return QStringLiteral("<message to='%1' type='groupchat' id='%2'><body>%2</body></message>")
        .arg(RoomScript::jid, id);
}

// Online, phone (session 1) available and in the standard room, bob available.
QString phoneInRoom(AccountHarness &h)
{
    h.online();
    h.bind(1, QStringLiteral("phone"));
    h.fromUpstream(QStringLiteral("<presence from='bob@example.org/pc' to='%1'/>").arg(boundJid));
    h.clear();
    return joinFirst(h, 1);
}

} // namespace

class TestAccountResume : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void interruptionShowsNothingToSessions();
    void resumeSendsWhatWaitedAndNothingElse();
    void requestInFlightIsAnsweredAfterResume();
    void roomStanzasWaitForTheResumedStream();
    void answerToAPeerWaitsForTheResumedStream();
    void refusedResumptionSendsUnacknowledgedAgain_data();
    void refusedResumptionSendsUnacknowledgedAgain();
};

void TestAccountResume::interruptionShowsNothingToSessions()
{
    AccountHarness h;
    EXPECT(phoneInRoom(h));
    h.account.upstreamInterrupted();
    // No contact goes unavailable, no room shows the account leaving, no request fails.
    EXPECT(h.expectNothing());
    QVERIFY(!h.account.isUpstreamOnline());
    QVERIFY(h.account.isUpstreamInterrupted());
    QCOMPARE(h.account.room(RoomScript::jid)->phase(), Room::Phase::Joined);
}

void TestAccountResume::resumeSendsWhatWaitedAndNothingElse()
{
    AccountHarness h;
    EXPECT(phoneInRoom(h));
    h.account.upstreamInterrupted();
    h.fromSession(1, message(QStringLiteral("m1")));
    h.fromSession(1, QStringLiteral("<presence to='carol@example.org' type='subscribe'/>"));
    h.fromSession(1, message(QStringLiteral("m2")));
    EXPECT(h.expectNothing());
    QCOMPARE(h.account.outboundQueue().size(), 3);

    h.account.upstreamResumed();
    // No presence (unchanged), no carbons, no rejoin, no bookmarks: the server kept them all.
    EXPECT(h.expectUpstream(message(QStringLiteral("m1"))));
    EXPECT(h.expectUpstream(QStringLiteral("<presence to='carol@example.org' type='subscribe'/>")));
    EXPECT(h.expectUpstream(message(QStringLiteral("m2"))));
    EXPECT(h.expectNothing());
    QCOMPARE(h.account.outboundQueue().size(), 0);
    QVERIFY(h.account.isUpstreamOnline());
    QCOMPARE(h.account.room(RoomScript::jid)->phase(), Room::Phase::Joined);
    // Traffic flows as before.
    h.fromSession(1, message(QStringLiteral("m3")));
    EXPECT(h.expectUpstream(message(QStringLiteral("m3"))));
}

void TestAccountResume::requestInFlightIsAnsweredAfterResume()
{
    AccountHarness h;
    EXPECT(phoneInRoom(h));
    h.fromSession(1, QStringLiteral("<iq type='get' id='v1' to='bob@example.org/pc'>"
                                    "<query xmlns='jabber:iq:version'/></iq>"));
    const AccountHarness::Sent relayed = h.take();
    QCOMPARE(relayed.target, AccountHarness::Sent::Upstream);
    const QString id = relayed.stanza.attribute(u"id");
    h.account.upstreamInterrupted();
    EXPECT(h.expectNothing()); // not failed with remote-server-timeout
    h.account.upstreamResumed();
    EXPECT(h.expectNothing());
    // The server resends its answer after <resumed/>; the phone gets it under its own id.
    h.fromUpstream(QStringLiteral("<iq type='result' id='%1' from='bob@example.org/pc' to='%2'>"
                                  "<query xmlns='jabber:iq:version'><name>b</name></query></iq>")
                       .arg(id, boundJid));
    EXPECT(h.expectToSession(1, QStringLiteral("<iq type='result' id='v1' "
                                               "from='bob@example.org/pc' to='%1'><query "
                                               "xmlns='jabber:iq:version'><name>b</name></query>"
                                               "</iq>")
                                    .arg(boundJid)));
}

void TestAccountResume::roomStanzasWaitForTheResumedStream()
{
    AccountHarness h;
    EXPECT(phoneInRoom(h));
    h.account.upstreamInterrupted();
    h.fromSession(1, groupchat(QStringLiteral("g1")));
    EXPECT(h.expectNothing());
    h.account.upstreamResumed();
    EXPECT(h.expectUpstream(groupchat(QStringLiteral("g1"))));
    EXPECT(h.expectNothing());
}

void TestAccountResume::answerToAPeerWaitsForTheResumedStream()
{
    AccountHarness h;
    EXPECT(phoneInRoom(h));
    h.fromUpstream(QStringLiteral("<iq type='get' id='v9' from='bob@example.org/pc' to='%1'>"
                                  "<query xmlns='jabber:iq:version'/></iq>")
                       .arg(boundJid));
    const AccountHarness::Sent asked = h.take();
    QCOMPARE(asked.target, AccountHarness::Sent::Session);
    h.account.upstreamInterrupted();
    h.fromSession(1, QStringLiteral("<iq type='result' id='%1' to='bob@example.org/pc'><query "
                                    "xmlns='jabber:iq:version'><name>p</name></query></iq>")
                         .arg(asked.stanza.attribute(u"id")));
    EXPECT(h.expectNothing());
    h.account.upstreamResumed();
    EXPECT(h.expectUpstream(QStringLiteral("<iq type='result' id='v9' to='bob@example.org/pc'>"
                                           "<query xmlns='jabber:iq:version'><name>p</name>"
                                           "</query></iq>")));
    EXPECT(h.expectNothing());
}

void TestAccountResume::refusedResumptionSendsUnacknowledgedAgain_data()
{
    QTest::addColumn<QStringList>("unacknowledged"); // by the old stream, oldest first
    QTest::addColumn<QStringList>("sentAgain");      // after presence, carbons and the rejoin
    const QString subscribe = QStringLiteral("<presence to='carol@example.org' type='subscribe'/>");
    const QString directed =
        QStringLiteral("<presence to='dave@example.org'><show>dnd</show></presence>");
    const QString answer =
        QStringLiteral("<iq type='result' id='peer-1' to='bob@example.org/pc'/>");
    QTest::newRow("messages, subscriptions, directed presence, answers: again, in order")
        << QStringList{message("m1"), subscribe, groupchat("g1"), directed, answer}
        << QStringList{message("m1"), subscribe, groupchat("g1"), directed, answer};
    QTest::newRow("the aggregate, room presence and requests: not again")
        << QStringList{"<presence><show>away</show></presence>", joinPresence(),
                       "<iq type='get' id='xbnc-7' to='example.org'><ping "
                       "xmlns='urn:xmpp:ping'/></iq>",
                       message("m2")}
        << QStringList{message("m2")};
}

void TestAccountResume::refusedResumptionSendsUnacknowledgedAgain()
{
    QFETCH(QStringList, unacknowledged);
    QFETCH(QStringList, sentAgain);
    AccountHarness h;
    EXPECT(phoneInRoom(h));
    h.account.upstreamInterrupted();
    h.fromSession(1, message(QStringLiteral("queued")));
    h.account.upstreamOffline(); // the server refused to resume
    h.clear();                   // what sessions learn of that is tst_upstream_queue's business
    std::vector<Element> stanzas;
    for (const QString &xml : unacknowledged)
        stanzas.push_back(Element::fromXml(xml.toUtf8()));
    h.account.upstreamOnline(Jid(boundJid), std::move(stanzas));
    EXPECT(h.expectUpstream(withOwnCaps(QStringLiteral("<presence/>"))));
    EXPECT(h.expectUpstream(carbonsEnable));
    const AccountHarness::Sent rejoin = h.take();
    QCOMPARE(rejoin.stanza.name(), QStringLiteral("presence"));
    QCOMPARE(rejoin.stanza.attribute(u"to"), RoomScript::occupant(QStringLiteral("alice")));
    EXPECT(h.expectRoomInfo(RoomScript::jid));
    for (const QString &stanza : sentAgain)
        EXPECT(h.expectUpstream(stanza));
    EXPECT(h.expectUpstream(message(QStringLiteral("queued"))));
    EXPECT(h.expectUpstream(bookmarksRequest));
    EXPECT(h.expectServerInfoAndRoster());
    EXPECT(h.expectNothing());
}

QTEST_GUILESS_MAIN(TestAccountResume)
#include "tst_account_resume.moc"
