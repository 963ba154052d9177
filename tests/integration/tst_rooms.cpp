// Group chats through xbnc, end to end (docs/ROOMS.md): the real xbnc binary in front of a real
// Prosody with its MUC component. alice is the bouncer's account; her sessions (phone, laptop,
// tablet, desk) log in to xbnc. Straight to Prosody: bob, the observer, who sits in every room and
// shows what the room really sees of alice, and carol, who creates the rooms and owns them.
#include "bouncer_fixture.h"
#include "muc_helpers.h"
#include "stanza_match.h"

#include <QtTest>

#include <optional>

namespace {

const QString service = QStringLiteral("conference.localhost");

QString roomJid(const QString &name)
{
    return name + QLatin1Char('@') + service;
}

QString occupant(const QString &room, const QString &nick)
{
    return room + QLatin1Char('/') + nick;
}

QString codesText(const XmlNode &stanza)
{
    QList<int> codes = muc::statusCodes(stanza).values();
    std::sort(codes.begin(), codes.end());
    QStringList out;
    for (int c : codes)
        out.append(QString::number(c));
    return out.join(QLatin1Char(','));
}

// What a session must see when it joins (XEP-0045 §7.1, docs/ROOMS.md "Joining"). The defaults
// are the rooms of this file: alice joins carol's room, where bob sits.
struct ExpectedJoin
{
    QString room = {};
    QString selfNick = QStringLiteral("alice"); // the account's nick in the room
    QStringList others = {QStringLiteral("carol"), QStringLiteral("bob")}; // in any order
    QStringList history = {}; // bodies of the history messages, oldest first
    QString subject = {};
    QString to = {};          // the session's full JID
    bool nickDiffers = false; // the session asked for another nick: 210
};

// Empty when `got` is exactly: the other occupants' presences, the self-presence (110, no 201),
// the history with <delay/>, the subject; otherwise what is wrong, with everything received.
QString checkJoin(const QList<XmlNode> &got, const ExpectedJoin &e)
{
    const auto fail = [&got](const QString &what) {
        return what + QStringLiteral("\nreceived:\n") + muc::describe(got);
    };
    qsizetype i = 0;
    QStringList seen;
    for (; i < got.size() && seen.size() < e.others.size(); ++i) {
        const XmlNode &n = got[i];
        const QString nick = n.attribute(u"from").section(QLatin1Char('/'), 1);
        if (n.name != u"presence" || !n.attribute(u"type").isEmpty() || !e.others.contains(nick) ||
            seen.contains(nick))
            return fail(QStringLiteral("stanza %1: expected the presence of one of %2 (seen: %3)")
                            .arg(i)
                            .arg(e.others.join(QLatin1Char(' ')), seen.join(QLatin1Char(' '))));
        if (n.attribute(u"to") != e.to)
            return fail(QStringLiteral("stanza %1: to is not %2").arg(i).arg(e.to));
        seen.append(nick);
    }
    if (seen.size() != e.others.size())
        return fail(QStringLiteral("fewer occupant presences than %1").arg(e.others.size()));

    if (i >= got.size())
        return fail(QStringLiteral("no self-presence"));
    const XmlNode &self = got[i++];
    if (self.name != u"presence" || !self.attribute(u"type").isEmpty() ||
        self.attribute(u"from") != occupant(e.room, e.selfNick))
        return fail(QStringLiteral("stanza %1: expected the self-presence from %2")
                        .arg(i - 1)
                        .arg(occupant(e.room, e.selfNick)));
    const QSet<int> codes = muc::statusCodes(self);
    if (!codes.contains(110) || codes.contains(201) || codes.contains(210) != e.nickDiffers)
        return fail(QStringLiteral("self-presence status codes %1: expected 110, no 201, %2")
                        .arg(codesText(self),
                             e.nickDiffers ? QStringLiteral("210") : QStringLiteral("no 210")));
    if (self.attribute(u"to") != e.to)
        return fail(QStringLiteral("self-presence: to is not ") + e.to);

    for (const QString &body : e.history) {
        if (i >= got.size())
            return fail(QStringLiteral("history message '%1' missing").arg(body));
        const XmlNode &m = got[i++];
        const XmlNode *b = m.child(u"body");
        if (m.name != u"message" || m.attribute(u"type") != u"groupchat" || !b || b->text() != body)
            return fail(
                QStringLiteral("stanza %1: expected history message '%2'").arg(i - 1).arg(body));
        const XmlNode *delay = m.child(u"delay", mucns::delay);
        if (!delay || delay->attribute(u"from") != e.room || delay->attribute(u"stamp").isEmpty())
            return fail(QStringLiteral("history message '%1' has no <delay from='%2' stamp=…/>")
                            .arg(body, e.room));
        if (m.attribute(u"to") != e.to ||
            m.attribute(u"from") != occupant(e.room, QStringLiteral("bob")))
            return fail(QStringLiteral("history message '%1': wrong to or from").arg(body));
    }

    if (i >= got.size())
        return fail(QStringLiteral("no subject message"));
    const XmlNode &subject = got[i++];
    if (!muc::isSubjectMessage(subject) || subject.child(u"subject")->text() != e.subject)
        return fail(QStringLiteral("stanza %1: expected the subject message '%2'")
                        .arg(i - 1)
                        .arg(e.subject));
    if (subject.attribute(u"to") != e.to)
        return fail(QStringLiteral("subject message: to is not ") + e.to);
    if (i != got.size())
        return fail(QStringLiteral("more stanzas than expected"));
    return {};
}

} // namespace

class TestRooms : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void firstJoinGoesUpstreamLaterJoinsAreReplayed();
    void groupchatReachesEachJoinedSessionOnce();
    void leavingKeepsTheAccountUntilTheLastSessionLeaves();
    void otherOccupantsNickChangeReachesEverySession();
    void kickReachesEverySessionAndLaterJoinGoesUpstream();
    void destroyReachesEveryJoinedSession();
    void ownNickChangeReachesEverySession();
    void membersOnlyErrorGoesToTheAskingSessionOnly();
    void takenNickIsAConflictForTheAskingSessionOnly();
    void privateMessagesReachJoinedSessionsAndLeaveAsTheOccupant();
    void privateMessageFromSessionIsCarbonCopiedToJoinedSessions();
    void selfPingIsAnsweredWhileJoined();

private:
    // The prefix most scenarios share: carol's room, bob in it, and alice's sessions logged in.
    struct Scene
    {
        QString room;
        QString self; // alice's occupant JID
        TestClient *phone = nullptr;
        TestClient *laptop = nullptr;
        TestClient *tablet = nullptr;
        TestClient *desk = nullptr; // only when asked for; never joins
    };
    enum class Desk
    {
        Absent,
        LoggedIn
    };
    // The scene of room `name` where the first `joining` of phone, laptop and tablet have
    // joined (and the room saw alice arrive once); nullopt on failure, see error_.
    std::optional<Scene> joinedRoom(const QString &name, int joining, Desk desk = Desk::Absent);
    // carol creates the room (instant room, or with that configuration); bob joins it unless
    // the room would refuse him. Both wait for the end of their joins.
    bool setUpRoom(const QString &room, const QList<QPair<QString, QString>> &config,
                   bool observerJoins);
    // `session` joins as `occupantJid` and receives exactly `expected` (its `to` is filled in);
    // empty when it did, otherwise what went wrong.
    QString joinProblem(TestClient &session, const QString &occupantJid, ExpectedJoin expected,
                        const QByteArray &insideX = {});
    // `session` asks to join as `occupantJid` and gets exactly one error presence from it,
    // addressed to the session, with that condition and error type.
    bool joinRefused(TestClient &session, const QString &occupantJid, const QString &condition,
                     const QString &type);
    // Everything the observer received up to a point by which whatever alice's account sent
    // the room before has been relayed by the room: `session` (through xbnc, upstream, the
    // room) gets a disco#info reply from the room, then the observer's own ping returns.
    std::optional<QList<XmlNode>> observerBarrier(TestClient &session, const QString &room);
    // By that barrier, the observer received nothing `unwanted`; otherwise error_ says `what`.
    bool roomSawNone(TestClient &session, const QString &room, const muc::Predicate &unwanted,
                     const QString &what);
    // The observer sees alice's occupant JID `self` become available exactly once (by the
    // barrier through `session`), and nothing else from it.
    bool roomSawOneJoin(TestClient &session, const QString &self);
    // `session` sees the occupant `from` leave with 303 and <item nick=newNick/>, then come back
    // as newNick, both addressed to the session, and marked 110 when the nick is alice's own.
    bool sawNickChange(TestClient &session, const QString &from, const QString &newNick, bool own);
    bool fail(const QString &message);

    BouncerFixture fixture_;
    TestClient *observer_ = nullptr;  // bob
    TestClient *moderator_ = nullptr; // carol
    int barriers_ = 0;
    QString error_;
};

bool TestRooms::fail(const QString &message)
{
    error_ = message;
    return false;
}

bool TestRooms::setUpRoom(const QString &room, const QList<QPair<QString, QString>> &config,
                          bool observerJoins)
{
    if (!muc::createRoom(*moderator_, room, QStringLiteral("carol"), config, &error_))
        return false;
    if (observerJoins && !muc::join(*observer_, occupant(room, QStringLiteral("bob")), &error_))
        return false;
    moderator_->takeBuffered();
    return true;
}

std::optional<TestRooms::Scene> TestRooms::joinedRoom(const QString &name, int joining, Desk desk)
{
    Scene scene{roomJid(name), occupant(roomJid(name), QStringLiteral("alice"))};
    if (!setUpRoom(scene.room, {}, true))
        return std::nullopt;
    const std::pair<TestClient **, QString> cast[] = {
        {&scene.phone, QStringLiteral("phone")},
        {&scene.laptop, QStringLiteral("laptop")},
        {&scene.tablet, QStringLiteral("tablet")},
        {&scene.desk, desk == Desk::LoggedIn ? QStringLiteral("desk") : QString()},
    };
    for (const auto &[client, resource] : cast) {
        if (!resource.isEmpty() && !(*client = fixture_.session(resource))) {
            fail(fixture_.errorString());
            return std::nullopt;
        }
    }
    for (int i = 0; i < joining; ++i) {
        if (!muc::join(**cast[i].first, scene.self, &error_))
            return std::nullopt;
    }
    if (joining > 0 && !roomSawOneJoin(*scene.phone, scene.self))
        return std::nullopt;
    return scene;
}

QString TestRooms::joinProblem(TestClient &session, const QString &occupantJid,
                               ExpectedJoin expected, const QByteArray &insideX)
{
    QString error;
    const auto got = muc::join(session, occupantJid, &error, insideX);
    if (!got)
        return error;
    expected.to = session.fullJid();
    const QString problem = checkJoin(*got, expected);
    return problem.isEmpty() ? problem : QStringLiteral("[%1] ").arg(session.name()) + problem;
}

bool TestRooms::joinRefused(TestClient &session, const QString &occupantJid,
                            const QString &condition, const QString &type)
{
    const auto refused = muc::join(session, occupantJid, &error_);
    if (!refused)
        return false;
    const XmlNode &presence = refused->front();
    const XmlNode *error = presence.child(u"error");
    if (refused->size() == 1 && muc::presenceFrom(occupantJid, QStringLiteral("error"))(presence) &&
        presence.attribute(u"to") == session.fullJid() &&
        muc::errorCondition(presence) == condition && error && error->attribute(u"type") == type)
        return true;
    return fail(QStringLiteral("[%1] expected one <%2/> error (type %3) from %4, got:\n%5")
                    .arg(session.name(), condition, type, occupantJid, muc::describe(*refused)));
}

std::optional<QList<XmlNode>> TestRooms::observerBarrier(TestClient &session, const QString &room)
{
    const QString id = QStringLiteral("barrier-%1").arg(++barriers_);
    session.send(QStringLiteral("<iq type='get' id='%1' to='%2'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
                     .arg(id, room)
                     .toUtf8());
    const auto reply = session.readUntil(match::iq(id), QDeadlineTimer(10000));
    if (!reply) {
        fail(QStringLiteral("barrier: ") + session.errorString());
        return std::nullopt;
    }
    if (reply->attribute(u"type") != u"result") {
        fail(QStringLiteral("barrier: disco#info of the room answered with ") +
             QString::fromUtf8(reply->toXml()));
        return std::nullopt;
    }
    auto seen = observer_->ping();
    if (!seen)
        fail(observer_->errorString());
    return seen;
}

bool TestRooms::roomSawNone(TestClient &session, const QString &room,
                            const muc::Predicate &unwanted, const QString &what)
{
    const auto seen = observerBarrier(session, room);
    if (!seen)
        return false;
    if (std::any_of(seen->begin(), seen->end(), unwanted))
        return fail(what + QStringLiteral(":\n") + muc::describe(*seen));
    return true;
}

bool TestRooms::roomSawOneJoin(TestClient &session, const QString &self)
{
    if (!observer_->readUntil(muc::presenceFrom(self)))
        return fail(observer_->errorString());
    return roomSawNone(session, self.section(QLatin1Char('/'), 0, 0), muc::anyPresenceFrom(self),
                       QStringLiteral("the room saw more of %1 than one join").arg(self));
}

bool TestRooms::sawNickChange(TestClient &session, const QString &from, const QString &newNick,
                              bool own)
{
    const QString room = from.section(QLatin1Char('/'), 0, 0);
    const auto gone = session.readUntil(muc::fromRoom(room));
    const auto back = gone ? session.readUntil(muc::fromRoom(room)) : std::nullopt;
    if (!back)
        return fail(session.errorString());
    const QSet<int> goneCodes = muc::statusCodes(*gone);
    const XmlNode *item = muc::userItem(*gone);
    const bool left = muc::presenceFrom(from, QStringLiteral("unavailable"))(*gone) &&
                      goneCodes.contains(303) && (!own || goneCodes.contains(110)) && item &&
                      item->attribute(u"nick") == newNick &&
                      gone->attribute(u"to") == session.fullJid();
    const bool returned = muc::presenceFrom(occupant(room, newNick))(*back) &&
                          (!own || muc::statusCodes(*back).contains(110)) &&
                          back->attribute(u"to") == session.fullJid();
    if (left && returned)
        return true;
    return fail(QStringLiteral("[%1] expected %2 to become %3 (303%4, to %5), got:\n%6")
                    .arg(session.name(), from, newNick,
                         own ? QStringLiteral(" and 110") : QString(), session.fullJid(),
                         muc::describe({*gone, *back})));
}

void TestRooms::initTestCase()
{
    QVERIFY2(fixture_.start({QStringLiteral("bob"), QStringLiteral("carol")}),
             qPrintable(fixture_.errorString()));
    observer_ = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(observer_, qPrintable(fixture_.errorString()));
    moderator_ = fixture_.direct(QStringLiteral("carol"));
    QVERIFY2(moderator_, qPrintable(fixture_.errorString()));
}

void TestRooms::cleanup()
{
    fixture_.finishTest();
}

void TestRooms::cleanupTestCase()
{
    fixture_.stop();
}

// Scenario 1: the account joins once; later sessions get a faithful join of their own.
void TestRooms::firstJoinGoesUpstreamLaterJoinsAreReplayed()
{
    const auto scene = joinedRoom(QStringLiteral("join"), 0);
    QVERIFY2(scene, qPrintable(error_));
    const auto [room, self, phone, laptop, tablet, desk] = *scene;
    const QString subject = QStringLiteral("Plans for today");
    moderator_->send(QStringLiteral("<message to='%1' type='groupchat' id='subject-1'>"
                                    "<subject>%2</subject></message>")
                         .arg(room, subject)
                         .toUtf8());
    QVERIFY2(observer_->readUntil(muc::subjectOf(room)), qPrintable(observer_->errorString()));

    // The first join goes to the room and comes back live, in the room's order.
    QString problem = joinProblem(*phone, self, {.room = room, .subject = subject});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));

    // The room sees alice arrive exactly once.
    QVERIFY2(roomSawOneJoin(*phone, self), qPrintable(error_));

    // Room traffic while the account is in: the log that later joins replay.
    const QStringList bodies = {QStringLiteral("one"), QStringLiteral("two"),
                                QStringLiteral("three")};
    for (const QString &body : bodies) {
        observer_->send(muc::groupchat(room, QStringLiteral("history-") + body, body));
        QVERIFY2(phone->readUntil(muc::groupchatWithBody(room, body)),
                 qPrintable(phone->errorString()));
    }

    // Later joins are answered from xbnc's state: nothing goes to the room.
    problem = joinProblem(*laptop, self,
                          {.room = room,
                           .history = {QStringLiteral("two"), QStringLiteral("three")},
                           .subject = subject},
                          "<history maxstanzas='2'/>");
    QVERIFY2(problem.isEmpty(), qPrintable(problem));

    // No <history/>: the last 20, here all three.
    problem = joinProblem(*tablet, self, {.room = room, .history = bodies, .subject = subject});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));

    QVERIFY2(roomSawNone(*phone, room, muc::anyPresenceFrom(self),
                         QStringLiteral("the room saw later joins")),
             qPrintable(error_));
    // The replays went to the joining sessions only.
    QVERIFY2(phone->expectNone(muc::fromRoom(room)), qPrintable(phone->errorString()));
}

// Scenario 2: room messages reach each joined session exactly once, and no other session.
void TestRooms::groupchatReachesEachJoinedSessionOnce()
{
    const auto scene = joinedRoom(QStringLiteral("fanout"), 3, Desk::LoggedIn);
    QVERIFY2(scene, qPrintable(error_));
    const auto [room, self, phone, laptop, tablet, desk] = *scene;
    const QList<TestClient *> joined = {phone, laptop, tablet};

    const QString fromBob = QStringLiteral("hello room");
    observer_->send(muc::groupchat(room, QStringLiteral("fan-in"), fromBob));
    for (TestClient *s : joined) {
        const auto message = s->readUntil(muc::groupchatWithBody(room, fromBob));
        QVERIFY2(message, qPrintable(s->errorString()));
        QCOMPARE(message->attribute(u"from"), occupant(room, QStringLiteral("bob")));
        QCOMPARE(message->attribute(u"to"), s->fullJid());
        QVERIFY2(s->expectNone(muc::groupchatWithBody(room, fromBob)),
                 qPrintable(s->errorString()));
    }
    QVERIFY2(desk->expectNone(muc::fromRoom(room)), qPrintable(desk->errorString()));

    // phone's own message: to the room once, and back to every joined session by reflection.
    const QString fromPhone = QStringLiteral("hi from the phone");
    phone->send(QStringLiteral("<message to='%1' type='groupchat' id='fan-out'><body>%2</body>"
                               "<origin-id xmlns='urn:xmpp:sid:0' id='oid-fan-out'/></message>")
                    .arg(room, fromPhone)
                    .toUtf8());
    const auto atObserver = observer_->readUntil(muc::groupchatWithBody(room, fromPhone));
    QVERIFY2(atObserver, qPrintable(observer_->errorString()));
    QCOMPARE(atObserver->attribute(u"from"), self);
    const XmlNode *roomStanzaId = atObserver->child(u"stanza-id", mucns::sid);
    QVERIFY2(roomSawNone(*phone, room, muc::groupchatWithBody(room, fromPhone),
                         QStringLiteral("the room got it twice")),
             qPrintable(error_));

    for (TestClient *s : joined) {
        const auto message = s->readUntil(muc::groupchatWithBody(room, fromPhone));
        QVERIFY2(message, qPrintable(s->errorString()));
        QCOMPARE(message->attribute(u"from"), self);
        QCOMPARE(message->attribute(u"to"), s->fullJid());
        const XmlNode *originId = message->child(u"origin-id", mucns::sid);
        QVERIFY2(originId, message->toXml().constData());
        QCOMPARE(originId->attribute(u"id"), QStringLiteral("oid-fan-out"));
        if (roomStanzaId) {
            const XmlNode *stanzaId = message->child(u"stanza-id", mucns::sid);
            QVERIFY2(stanzaId, message->toXml().constData());
            QCOMPARE(stanzaId->attribute(u"id"), roomStanzaId->attribute(u"id"));
        }
        QVERIFY2(s->expectNone(muc::groupchatWithBody(room, fromPhone)),
                 qPrintable(s->errorString()));
    }
    QVERIFY2(desk->expectNone(muc::fromRoom(room)), qPrintable(desk->errorString()));
}

// Scenario 3: disconnects and explicit leaves stay local until the last joined session leaves.
void TestRooms::leavingKeepsTheAccountUntilTheLastSessionLeaves()
{
    const auto scene = joinedRoom(QStringLiteral("leaving"), 3);
    QVERIFY2(scene, qPrintable(error_));
    const auto [room, self, phone, laptop, tablet, desk] = *scene;

    // The laptop goes away without leaving.
    laptop->disconnectFromServer();
    QVERIFY2(laptop->expectClosed(), qPrintable(laptop->errorString()));
    QVERIFY2(roomSawNone(*phone, room, muc::anyPresenceFrom(self),
                         QStringLiteral("a disconnect reached the room")),
             qPrintable(error_));

    // The tablet leaves explicitly: its own unavailable, nothing upstream.
    tablet->send(muc::leavePresence(self));
    const auto left = tablet->readUntil(muc::fromRoom(room));
    QVERIFY2(left, qPrintable(tablet->errorString()));
    QVERIFY2(muc::presenceFrom(self, QStringLiteral("unavailable"))(*left),
             left->toXml().constData());
    QVERIFY2(muc::statusCodes(*left).contains(110), left->toXml().constData());
    QCOMPARE(left->attribute(u"to"), tablet->fullJid());
    QVERIFY2(roomSawNone(*phone, room, muc::anyPresenceFrom(self),
                         QStringLiteral("a leave reached the room")),
             qPrintable(error_));
    // The phone did not see the tablet leave.
    QVERIFY2(phone->expectNone(muc::anyPresenceFrom(self)), qPrintable(phone->errorString()));

    // The tablet is out: room traffic reaches the phone only.
    const QString body = QStringLiteral("after the tablet left");
    observer_->send(muc::groupchat(room, QStringLiteral("after-leave"), body));
    QVERIFY2(phone->readUntil(muc::groupchatWithBody(room, body)),
             qPrintable(phone->errorString()));
    QVERIFY2(tablet->expectNone(muc::fromRoom(room)), qPrintable(tablet->errorString()));

    // The last joined session leaves: now the room sees alice go.
    phone->send(muc::leavePresence(self));
    const auto phoneLeft = phone->readUntil(muc::presenceFrom(self, QStringLiteral("unavailable")));
    QVERIFY2(phoneLeft, qPrintable(phone->errorString()));
    QVERIFY2(muc::statusCodes(*phoneLeft).contains(110), phoneLeft->toXml().constData());
    QCOMPARE(phoneLeft->attribute(u"to"), phone->fullJid());
    QVERIFY2(observer_->readUntil(muc::presenceFrom(self, QStringLiteral("unavailable"))),
             qPrintable(observer_->errorString()));
}

// Scenario 4: another occupant's nick change, and what a later join shows of it.
void TestRooms::otherOccupantsNickChangeReachesEverySession()
{
    const auto scene = joinedRoom(QStringLiteral("others"), 2);
    QVERIFY2(scene, qPrintable(error_));
    const auto [room, self, phone, laptop, tablet, desk] = *scene;
    const QString oldNick = occupant(room, QStringLiteral("bob"));
    const QString newNick = occupant(room, QStringLiteral("bobby"));

    observer_->send(QStringLiteral("<presence to='%1'/>").arg(newNick).toUtf8());
    QVERIFY2(observer_->readUntil(muc::presenceFrom(newNick)),
             qPrintable(observer_->errorString()));
    for (TestClient *s : {phone, laptop}) {
        QVERIFY2(sawNickChange(*s, oldNick, QStringLiteral("bobby"), false), qPrintable(error_));
        QVERIFY2(s->expectNone(muc::fromRoom(room)), qPrintable(s->errorString()));
    }

    // A session joining now meets bobby, and no bob.
    const QString problem =
        joinProblem(*tablet, self,
                    {.room = room, .others = {QStringLiteral("carol"), QStringLiteral("bobby")}});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

// Scenario 5a: a kick removes every session; the next join is a real join again.
void TestRooms::kickReachesEverySessionAndLaterJoinGoesUpstream()
{
    const auto scene = joinedRoom(QStringLiteral("kick"), 3);
    QVERIFY2(scene, qPrintable(error_));
    const auto [room, self, phone, laptop, tablet, desk] = *scene;

    const auto kicked = muc::request(
        *moderator_, QStringLiteral("kick-alice"),
        QStringLiteral("<iq type='set' id='kick-alice' to='%1'>"
                       "<query xmlns='http://jabber.org/protocol/muc#admin'>"
                       "<item nick='alice' role='none'><reason>too loud</reason></item>"
                       "</query></iq>")
            .arg(room)
            .toUtf8(),
        &error_);
    QVERIFY2(kicked, qPrintable(error_));
    QCOMPARE(kicked->attribute(u"type"), QStringLiteral("result"));
    for (TestClient *s : {phone, laptop, tablet}) {
        const auto removed = s->readUntil(muc::presenceFrom(self, QStringLiteral("unavailable")));
        QVERIFY2(removed, qPrintable(s->errorString()));
        const QSet<int> codes = muc::statusCodes(*removed);
        QVERIFY2(codes.contains(307) && codes.contains(110), removed->toXml().constData());
        QCOMPARE(removed->attribute(u"to"), s->fullJid());
        const XmlNode *item = muc::userItem(*removed);
        QVERIFY2(item && item->child(u"reason"), removed->toXml().constData());
        QCOMPARE(item->child(u"reason")->text(), QStringLiteral("too loud"));
    }
    const auto kickSeen =
        observer_->readUntil(muc::presenceFrom(self, QStringLiteral("unavailable")));
    QVERIFY2(kickSeen, qPrintable(observer_->errorString()));
    QVERIFY2(muc::statusCodes(*kickSeen).contains(307), kickSeen->toXml().constData());
    // No automatic rejoin.
    QVERIFY2(roomSawNone(*phone, room, muc::anyPresenceFrom(self),
                         QStringLiteral("alice came back by herself")),
             qPrintable(error_));

    // The phone joins again: a real join, seen by the room, answered live.
    const QString problem = joinProblem(*phone, self, {.room = room});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY2(roomSawOneJoin(*phone, self), qPrintable(error_));

    // The kicked laptop and tablet are not in the room until they join again.
    const QString body = QStringLiteral("welcome back");
    observer_->send(muc::groupchat(room, QStringLiteral("after-kick"), body));
    QVERIFY2(phone->readUntil(muc::groupchatWithBody(room, body)),
             qPrintable(phone->errorString()));
    for (TestClient *s : {laptop, tablet})
        QVERIFY2(s->expectNone(muc::fromRoom(room)), qPrintable(s->errorString()));
}

// Scenario 5b: the room's destruction reaches every joined session, and only those.
void TestRooms::destroyReachesEveryJoinedSession()
{
    const auto scene = joinedRoom(QStringLiteral("doomed"), 2); // the tablet never joins
    QVERIFY2(scene, qPrintable(error_));
    const auto [room, self, phone, laptop, tablet, desk] = *scene;
    const QString venue = roomJid(QStringLiteral("elsewhere"));

    const auto destroyed = muc::request(
        *moderator_, QStringLiteral("destroy"),
        QStringLiteral("<iq type='set' id='destroy' to='%1'>"
                       "<query xmlns='http://jabber.org/protocol/muc#owner'>"
                       "<destroy jid='%2'><reason>moving on</reason></destroy></query></iq>")
            .arg(room, venue)
            .toUtf8(),
        &error_);
    QVERIFY2(destroyed, qPrintable(error_));
    QCOMPARE(destroyed->attribute(u"type"), QStringLiteral("result"));
    for (TestClient *s : {phone, laptop}) {
        const auto gone = s->readUntil(muc::presenceFrom(self, QStringLiteral("unavailable")));
        QVERIFY2(gone, qPrintable(s->errorString()));
        QCOMPARE(gone->attribute(u"to"), s->fullJid());
        const XmlNode *x = gone->child(u"x", mucns::user);
        const XmlNode *destroy = x ? x->child(u"destroy") : nullptr;
        QVERIFY2(destroy, gone->toXml().constData());
        QCOMPARE(destroy->attribute(u"jid"), venue);
        QVERIFY2(destroy->child(u"reason"), gone->toXml().constData());
        QCOMPARE(destroy->child(u"reason")->text(), QStringLiteral("moving on"));
        QVERIFY2(s->expectNone(muc::anyPresenceFrom(self)), qPrintable(s->errorString()));
    }
    QVERIFY2(tablet->expectNone(muc::fromRoom(room)), qPrintable(tablet->errorString()));
}

// Scenario 6a: a session changes the account's nick.
void TestRooms::ownNickChangeReachesEverySession()
{
    const auto scene = joinedRoom(QStringLiteral("nick"), 2);
    QVERIFY2(scene, qPrintable(error_));
    const auto [room, self, phone, laptop, tablet, desk] = *scene;
    const QString renamed = occupant(room, QStringLiteral("alison"));
    const muc::Predicate eitherNick = [self, renamed](const XmlNode &n) {
        return muc::anyPresenceFrom(self)(n) || muc::anyPresenceFrom(renamed)(n);
    };

    phone->send(QStringLiteral("<presence to='%1'/>").arg(renamed).toUtf8());
    for (TestClient *s : {phone, laptop})
        QVERIFY2(sawNickChange(*s, self, QStringLiteral("alison"), true), qPrintable(error_));

    // The room saw one nick change.
    const auto gone = observer_->readUntil(muc::presenceFrom(self, QStringLiteral("unavailable")));
    QVERIFY2(gone, qPrintable(observer_->errorString()));
    QVERIFY2(muc::statusCodes(*gone).contains(303), gone->toXml().constData());
    QVERIFY2(observer_->readUntil(muc::presenceFrom(renamed)),
             qPrintable(observer_->errorString()));
    QVERIFY2(roomSawNone(*phone, room, eitherNick, QStringLiteral("more than one nick change")),
             qPrintable(error_));

    // A session that asks for the old nick joins as alison, told so by 210.
    const QString problem = joinProblem(
        *tablet, self, {.room = room, .selfNick = QStringLiteral("alison"), .nickDiffers = true});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY2(roomSawNone(*phone, room, eitherNick, QStringLiteral("the tablet's join reached it")),
             qPrintable(error_));
}

// Scenario 6b: a join refused by the room is refused to the session that asked, only.
void TestRooms::membersOnlyErrorGoesToTheAskingSessionOnly()
{
    const QString room = roomJid(QStringLiteral("private"));
    const QString self = occupant(room, QStringLiteral("alice"));
    QVERIFY2(setUpRoom(room, {{QStringLiteral("muc#roomconfig_membersonly"), QStringLiteral("1")}},
                       false),
             qPrintable(error_));
    TestClient *phone = fixture_.session(QStringLiteral("phone"));
    QVERIFY2(phone, qPrintable(fixture_.errorString()));
    TestClient *laptop = fixture_.session(QStringLiteral("laptop"));
    QVERIFY2(laptop, qPrintable(fixture_.errorString()));

    QVERIFY2(
        joinRefused(*phone, self, QStringLiteral("registration-required"), QStringLiteral("auth")),
        qPrintable(error_));
    QVERIFY2(laptop->expectNone(muc::fromRoom(room)), qPrintable(laptop->errorString()));

    // The room is not left half-joined: the laptop's own attempt is refused the same way.
    QVERIFY2(
        joinRefused(*laptop, self, QStringLiteral("registration-required"), QStringLiteral("auth")),
        qPrintable(error_));
    QVERIFY2(phone->expectNone(muc::fromRoom(room)), qPrintable(phone->errorString()));
}

// Scenario 6c: a nick somebody else holds.
void TestRooms::takenNickIsAConflictForTheAskingSessionOnly()
{
    const auto scene = joinedRoom(QStringLiteral("taken"), 0);
    QVERIFY2(scene, qPrintable(error_));
    const auto [room, self, phone, laptop, tablet, desk] = *scene;
    const QString taken = occupant(room, QStringLiteral("bob"));

    QVERIFY2(joinRefused(*laptop, taken, QStringLiteral("conflict"), QStringLiteral("cancel")),
             qPrintable(error_));
    QVERIFY2(phone->expectNone(muc::fromRoom(room)), qPrintable(phone->errorString()));

    // With a free nick the laptop gets in, and the room sees alice once.
    const QString problem = joinProblem(*laptop, self, {.room = room});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY2(roomSawOneJoin(*laptop, self), qPrintable(error_));
}

// Scenario 7: private messages through the room.
void TestRooms::privateMessagesReachJoinedSessionsAndLeaveAsTheOccupant()
{
    const auto scene = joinedRoom(QStringLiteral("pm"), 2, Desk::LoggedIn);
    QVERIFY2(scene, qPrintable(error_));
    const auto [room, self, phone, laptop, tablet, desk] = *scene;
    const QString bobInRoom = occupant(room, QStringLiteral("bob"));

    observer_->send(QStringLiteral("<message to='%1' type='chat' id='pm-in'>"
                                   "<body>psst</body></message>")
                        .arg(self)
                        .toUtf8());
    for (TestClient *s : {phone, laptop}) {
        const auto pm = s->readUntil(match::message(QStringLiteral("pm-in")));
        QVERIFY2(pm, qPrintable(s->errorString()));
        QCOMPARE(pm->attribute(u"from"), bobInRoom);
        QCOMPARE(pm->attribute(u"to"), s->fullJid());
        QVERIFY2(pm->child(u"body"), pm->toXml().constData());
        QCOMPARE(pm->child(u"body")->text(), QStringLiteral("psst"));
        QVERIFY2(s->expectNone(match::message(QStringLiteral("pm-in"))),
                 qPrintable(s->errorString()));
    }
    QVERIFY2(desk->expectNone(muc::fromRoom(room)), qPrintable(desk->errorString()));

    phone->send(QStringLiteral("<message to='%1' type='chat' id='pm-out'>"
                               "<body>hi bob</body></message>")
                    .arg(bobInRoom)
                    .toUtf8());
    const auto atObserver = observer_->readUntil(match::message(QStringLiteral("pm-out")));
    QVERIFY2(atObserver, qPrintable(observer_->errorString()));
    QCOMPARE(atObserver->attribute(u"from"), self);
    QCOMPARE(atObserver->attribute(u"type"), QStringLiteral("chat"));
    QVERIFY2(atObserver->child(u"body"), atObserver->toXml().constData());
    QCOMPARE(atObserver->child(u"body")->text(), QStringLiteral("hi bob"));
    QVERIFY2(roomSawNone(*phone, room, match::message(QStringLiteral("pm-out")),
                         QStringLiteral("bob got it twice")),
             qPrintable(error_));
}

// Scenario 7b: a PM one session sends shows up on the other joined sessions (carbons).
void TestRooms::privateMessageFromSessionIsCarbonCopiedToJoinedSessions()
{
    const auto scene = joinedRoom(QStringLiteral("pmcarbons"), 2);
    QVERIFY2(scene, qPrintable(error_));
    const auto [room, self, phone, laptop, tablet, desk] = *scene;
    const QString bobInRoom = occupant(room, QStringLiteral("bob"));
    for (TestClient *s : {phone, laptop}) {
        const auto enabled = muc::request(
            *s, QStringLiteral("carbons-on"),
            "<iq type='set' id='carbons-on'><enable xmlns='urn:xmpp:carbons:2'/></iq>", &error_);
        QVERIFY2(enabled, qPrintable(error_));
        QCOMPARE(enabled->attribute(u"type"), QStringLiteral("result"));
    }

    phone->send(QStringLiteral("<message to='%1' type='chat' id='pm-carbon'>"
                               "<body>between us</body></message>")
                    .arg(bobInRoom)
                    .toUtf8());
    QVERIFY2(observer_->readUntil(match::message(QStringLiteral("pm-carbon"))),
             qPrintable(observer_->errorString()));
    const auto isSent = [](const XmlNode &n) {
        return n.name == u"message" && n.child(u"sent", u"urn:xmpp:carbons:2");
    };
    const auto carbon = laptop->readUntil(isSent);
    QVERIFY2(carbon, qPrintable(laptop->errorString()));
    QCOMPARE(carbon->attribute(u"to"), laptop->fullJid());
    const XmlNode *forwarded =
        carbon->child(u"sent", u"urn:xmpp:carbons:2")->child(u"forwarded", u"urn:xmpp:forward:0");
    const XmlNode *inner = forwarded ? forwarded->child(u"message", u"jabber:client") : nullptr;
    QVERIFY2(inner, carbon->toXml().constData());
    QCOMPARE(inner->attribute(u"id"), QStringLiteral("pm-carbon"));
    QCOMPARE(inner->attribute(u"to"), bobInRoom);
    QVERIFY2(inner->child(u"body"), carbon->toXml().constData());
    QCOMPARE(inner->child(u"body")->text(), QStringLiteral("between us"));
    for (TestClient *s : {phone, laptop})
        QVERIFY2(s->expectNone(isSent), qPrintable(s->errorString()));
}

// Scenario 8: XEP-0410 self-ping.
void TestRooms::selfPingIsAnsweredWhileJoined()
{
    const auto scene = joinedRoom(QStringLiteral("selfping"), 2);
    QVERIFY2(scene, qPrintable(error_));
    const QString self = scene->self;
    const auto selfPing = [this, &self](TestClient &s, const QString &id) {
        return muc::request(s, id,
                            QStringLiteral("<iq type='get' id='%1' to='%2'>"
                                           "<ping xmlns='urn:xmpp:ping'/></iq>")
                                .arg(id, self)
                                .toUtf8(),
                            &error_);
    };
    for (TestClient *s : {scene->phone, scene->laptop}) {
        const auto pong = selfPing(*s, QStringLiteral("self-ping"));
        QVERIFY2(pong, qPrintable(error_));
        QVERIFY2(pong->attribute(u"type") == u"result", pong->toXml().constData());
        QCOMPARE(pong->attribute(u"from"), self);
        QCOMPARE(pong->attribute(u"to"), s->fullJid());
    }

    // Once the account is out, the answer is XEP-0410's "not joined".
    for (TestClient *s : {scene->laptop, scene->phone}) {
        s->send(muc::leavePresence(self));
        QVERIFY2(s->readUntil(muc::presenceFrom(self, QStringLiteral("unavailable"))),
                 qPrintable(s->errorString()));
    }
    QVERIFY2(observer_->readUntil(muc::presenceFrom(self, QStringLiteral("unavailable"))),
             qPrintable(observer_->errorString()));
    const auto refused = selfPing(*scene->phone, QStringLiteral("self-ping-out"));
    QVERIFY2(refused, qPrintable(error_));
    QVERIFY2(refused->attribute(u"type") == u"error", refused->toXml().constData());
    QCOMPARE(muc::errorCondition(*refused), QStringLiteral("not-acceptable"));
    QCOMPARE(refused->child(u"error")->attribute(u"type"), QStringLiteral("cancel"));
}

QTEST_GUILESS_MAIN(TestRooms)
#include "tst_rooms.moc"
