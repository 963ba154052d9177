// Group chats through xbnc, end to end (docs/ROOMS.md): the real xbnc binary in front of a real
// Prosody with its MUC component. alice is the bouncer's account; her sessions (phone, laptop,
// tablet, desk) log in to xbnc. Straight to Prosody: bob, the observer, who sits in every room and
// shows what the room really sees of alice, and carol, who creates the rooms and owns them.
#include "muc_helpers.h"
#include "prosody_fixture.h"
#include "stanza_match.h"
#include "test_client.h"
#include "xbnc_process.h"

#include <QtTest>

#include <memory>

namespace {

const QString alicePassword = QStringLiteral("alice-pw");
const QString bobPassword = QStringLiteral("bob-pw");
const QString carolPassword = QStringLiteral("carol-pw");
const QString service = QStringLiteral("conference.localhost");

QString roomJid(const QString &name)
{
    return name + QLatin1Char('@') + service;
}

QString occupant(const QString &room, const QString &nick)
{
    return room + QLatin1Char('/') + nick;
}

// Presences from exactly that occupant JID, whatever their type.
int countPresences(const QList<XmlNode> &stanzas, const QString &occupantJid)
{
    return int(std::count_if(stanzas.begin(), stanzas.end(), [&occupantJid](const XmlNode &n) {
        return n.name == u"presence" && n.attribute(u"from") == occupantJid;
    }));
}

int countMatching(const QList<XmlNode> &stanzas, const muc::Predicate &predicate)
{
    return int(std::count_if(stanzas.begin(), stanzas.end(), predicate));
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

// What a session must see when it joins (XEP-0045 §7.1, docs/ROOMS.md "Joining").
struct ExpectedJoin
{
    QString room;
    QString selfNick;    // the account's nick in the room
    QStringList others;  // nicks of the other occupants, in any order
    QStringList history; // bodies of the history messages, oldest first
    QString subject;
    QString to;               // the session's full JID
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
    void init();
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
    std::unique_ptr<TestClient> session(const QString &resource);
    std::unique_ptr<TestClient> direct(const QString &user, const QString &password,
                                       QString *error);
    // carol creates the room (instant room, or with that configuration); bob joins it unless
    // the room would refuse him. Both wait for the end of their joins.
    bool setUpRoom(const QString &room, const QList<QPair<QString, QString>> &config,
                   bool observerJoins, QString *error);
    // Everything the observer received up to a point by which whatever alice's account sent
    // the room before has been relayed by the room: `session` (through xbnc, upstream, the
    // room) gets a disco#info reply from the room, then the observer's own ping returns.
    std::optional<QList<XmlNode>> observerBarrier(TestClient &session, const QString &room);
    // The observer sees alice's occupant JID `self` become available exactly once (by the
    // barrier through `session`), and nothing else from it.
    bool roomSawOneJoin(TestClient &session, const QString &self, QString *error);

    ProsodyFixture prosody_;
    XbncProcess xbnc_;
    std::unique_ptr<TestClient> observer_;  // bob
    std::unique_ptr<TestClient> moderator_; // carol
    qsizetype logMark_ = 0;
    int barriers_ = 0;
    QString barrierError_;
};

std::unique_ptr<TestClient> TestRooms::session(const QString &resource)
{
    auto client = std::make_unique<TestClient>(resource);
    TestClientOptions o;
    o.port = xbnc_.port();
    o.fingerprint = xbnc_.fingerprint();
    o.user = QStringLiteral("alice");
    o.password = alicePassword;
    o.resource = resource;
    o.mechanism = QStringLiteral("SCRAM-SHA-256");
    if (!client->login(o)) {
        qWarning("%s", qPrintable(client->errorString()));
        return nullptr;
    }
    // The session is attached to the account before the test goes on.
    if (!client->ping()) {
        qWarning("%s", qPrintable(client->errorString()));
        return nullptr;
    }
    return client;
}

std::unique_ptr<TestClient> TestRooms::direct(const QString &user, const QString &password,
                                              QString *error)
{
    auto client = std::make_unique<TestClient>(user);
    TestClientOptions o;
    o.port = prosody_.c2sPort();
    o.caFile = prosody_.caCertificatePath();
    o.user = user;
    o.password = password;
    o.resource = QStringLiteral("desk");
    if (!client->login(o)) {
        *error = client->errorString();
        return nullptr;
    }
    return client;
}

bool TestRooms::setUpRoom(const QString &room, const QList<QPair<QString, QString>> &config,
                          bool observerJoins, QString *error)
{
    if (!muc::createRoom(*moderator_, room, QStringLiteral("carol"), config, error))
        return false;
    if (observerJoins && !muc::join(*observer_, occupant(room, QStringLiteral("bob")), error))
        return false;
    moderator_->takeBuffered();
    return true;
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
        barrierError_ = QStringLiteral("barrier: ") + session.errorString();
        return std::nullopt;
    }
    if (reply->attribute(u"type") != u"result") {
        barrierError_ = QStringLiteral("barrier: disco#info of the room answered with ") +
                        QString::fromUtf8(reply->toXml());
        return std::nullopt;
    }
    auto seen = observer_->ping();
    if (!seen)
        barrierError_ = observer_->errorString();
    return seen;
}

bool TestRooms::roomSawOneJoin(TestClient &session, const QString &self, QString *error)
{
    if (!observer_->readUntil(muc::presenceFrom(self))) {
        *error = observer_->errorString();
        return false;
    }
    const auto seen = observerBarrier(session, self.section(QLatin1Char('/'), 0, 0));
    if (!seen) {
        *error = barrierError_;
        return false;
    }
    if (countPresences(*seen, self) != 0) {
        *error = QStringLiteral("the room saw more of %1 than one join:\n%2")
                     .arg(self, muc::describe(*seen));
        return false;
    }
    return true;
}

void TestRooms::initTestCase()
{
    QString error;
    QVERIFY2(prosody_.start(&error), qPrintable(error));
    QVERIFY(prosody_.addUser(QStringLiteral("alice"), alicePassword));
    QVERIFY(prosody_.addUser(QStringLiteral("bob"), bobPassword));
    QVERIFY(prosody_.addUser(QStringLiteral("carol"), carolPassword));
    observer_ = direct(QStringLiteral("bob"), bobPassword, &error);
    QVERIFY2(observer_, qPrintable(error));
    moderator_ = direct(QStringLiteral("carol"), carolPassword, &error);
    QVERIFY2(moderator_, qPrintable(error));

    QVERIFY2(xbnc_.start(xbnc_.configFor(prosody_, QStringLiteral("alice"), alicePassword), &error),
             qPrintable(error));
    QVERIFY2(xbnc_.waitForLog(QStringLiteral("upstream online as alice@localhost/xbnc")) >= 0,
             qPrintable(xbnc_.output()));
}

void TestRooms::init()
{
    logMark_ = xbnc_.outputSize();
    barrierError_.clear();
}

void TestRooms::cleanup()
{
    if (QTest::currentTestFailed()) {
        qInfo().noquote() << "--- xbnc output during this test ---\n"
                          << xbnc_.output().mid(logMark_);
        qInfo().noquote() << "--- prosody log (tail) ---\n" << prosody_.logText().right(6000);
    }
    QVERIFY2(xbnc_.isRunning(), qPrintable(xbnc_.output().mid(logMark_)));
    // What the direct clients received in one test must not satisfy the next one.
    observer_->takeBuffered();
    moderator_->takeBuffered();
}

void TestRooms::cleanupTestCase()
{
    observer_.reset();
    moderator_.reset();
    QString error;
    QVERIFY2(xbnc_.stop(&error), qPrintable(error));
}

// Scenario 1: the account joins once; later sessions get a faithful join of their own.
void TestRooms::firstJoinGoesUpstreamLaterJoinsAreReplayed()
{
    const QString room = roomJid(QStringLiteral("join"));
    const QString self = occupant(room, QStringLiteral("alice"));
    const QString subject = QStringLiteral("Plans for today");
    QString error;
    QVERIFY2(setUpRoom(room, {}, true, &error), qPrintable(error));
    moderator_->send(QStringLiteral("<message to='%1' type='groupchat' id='subject-1'>"
                                    "<subject>%2</subject></message>")
                         .arg(room, subject)
                         .toUtf8());
    QVERIFY2(observer_->readUntil(muc::subjectOf(room)), qPrintable(observer_->errorString()));

    auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"));
    QVERIFY(laptop);
    auto tablet = session(QStringLiteral("tablet"));
    QVERIFY(tablet);

    // The first join goes to the room and comes back live, in the room's order.
    const auto phoneJoin = muc::join(*phone, self, &error);
    QVERIFY2(phoneJoin, qPrintable(error));
    QString problem = checkJoin(*phoneJoin, {room,
                                             QStringLiteral("alice"),
                                             {QStringLiteral("carol"), QStringLiteral("bob")},
                                             {},
                                             subject,
                                             phone->fullJid()});
    QVERIFY2(problem.isEmpty(), qPrintable(QStringLiteral("[phone] ") + problem));

    // The room sees alice arrive exactly once.
    QVERIFY2(roomSawOneJoin(*phone, self, &error), qPrintable(error));

    // Room traffic while the account is in: the log that later joins replay.
    const QStringList bodies = {QStringLiteral("one"), QStringLiteral("two"),
                                QStringLiteral("three")};
    for (const QString &body : bodies) {
        observer_->send(QStringLiteral("<message to='%1' type='groupchat' id='history-%2'>"
                                       "<body>%2</body></message>")
                            .arg(room, body)
                            .toUtf8());
        QVERIFY2(phone->readUntil(muc::groupchatWithBody(room, body)),
                 qPrintable(phone->errorString()));
    }

    // Later joins are answered from xbnc's state: nothing goes to the room.
    const auto laptopJoin = muc::join(*laptop, self, &error, "<history maxstanzas='2'/>");
    QVERIFY2(laptopJoin, qPrintable(error));
    problem = checkJoin(*laptopJoin, {room,
                                      QStringLiteral("alice"),
                                      {QStringLiteral("carol"), QStringLiteral("bob")},
                                      {QStringLiteral("two"), QStringLiteral("three")},
                                      subject,
                                      laptop->fullJid()});
    QVERIFY2(problem.isEmpty(), qPrintable(QStringLiteral("[laptop] ") + problem));

    // No <history/>: the last 20, here all three.
    const auto tabletJoin = muc::join(*tablet, self, &error);
    QVERIFY2(tabletJoin, qPrintable(error));
    problem = checkJoin(*tabletJoin, {room,
                                      QStringLiteral("alice"),
                                      {QStringLiteral("carol"), QStringLiteral("bob")},
                                      bodies,
                                      subject,
                                      tablet->fullJid()});
    QVERIFY2(problem.isEmpty(), qPrintable(QStringLiteral("[tablet] ") + problem));

    const auto seen = observerBarrier(*phone, room);
    QVERIFY2(seen, qPrintable(barrierError_));
    QVERIFY2(countPresences(*seen, self) == 0,
             qPrintable(QStringLiteral("the room saw later joins:\n") + muc::describe(*seen)));
    // The replays went to the joining sessions only.
    const auto atPhone = phone->ping();
    QVERIFY2(atPhone, qPrintable(phone->errorString()));
    QVERIFY2(countMatching(*atPhone, muc::fromRoom(room)) == 0,
             qPrintable(muc::describe(*atPhone)));
}

// Scenario 2: room messages reach each joined session exactly once, and no other session.
void TestRooms::groupchatReachesEachJoinedSessionOnce()
{
    const QString room = roomJid(QStringLiteral("fanout"));
    const QString self = occupant(room, QStringLiteral("alice"));
    QString error;
    QVERIFY2(setUpRoom(room, {}, true, &error), qPrintable(error));
    auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"));
    QVERIFY(laptop);
    auto tablet = session(QStringLiteral("tablet"));
    QVERIFY(tablet);
    auto desk = session(QStringLiteral("desk")); // never joins
    QVERIFY(desk);
    const QList<TestClient *> joined = {phone.get(), laptop.get(), tablet.get()};
    for (TestClient *s : joined)
        QVERIFY2(muc::join(*s, self, &error), qPrintable(error));

    const QString fromBob = QStringLiteral("hello room");
    observer_->send(QStringLiteral("<message to='%1' type='groupchat' id='fan-in'>"
                                   "<body>%2</body></message>")
                        .arg(room, fromBob)
                        .toUtf8());
    for (TestClient *s : joined) {
        const auto message = s->readUntil(muc::groupchatWithBody(room, fromBob));
        QVERIFY2(message, qPrintable(s->errorString()));
        QCOMPARE(message->attribute(u"from"), occupant(room, QStringLiteral("bob")));
        QCOMPARE(message->attribute(u"to"), s->fullJid());
        const auto rest = s->ping();
        QVERIFY2(rest, qPrintable(s->errorString()));
        QVERIFY2(countMatching(*rest, muc::groupchatWithBody(room, fromBob)) == 0,
                 qPrintable(s->name() + QStringLiteral(" got it twice:\n") + muc::describe(*rest)));
    }
    auto atDesk = desk->ping();
    QVERIFY2(atDesk, qPrintable(desk->errorString()));
    QVERIFY2(countMatching(*atDesk, muc::fromRoom(room)) == 0, qPrintable(muc::describe(*atDesk)));

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
    const auto seen = observerBarrier(*phone, room);
    QVERIFY2(seen, qPrintable(barrierError_));
    QVERIFY2(countMatching(*seen, muc::groupchatWithBody(room, fromPhone)) == 0,
             qPrintable(QStringLiteral("the room got it twice:\n") + muc::describe(*seen)));

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
        const auto rest = s->ping();
        QVERIFY2(rest, qPrintable(s->errorString()));
        QVERIFY2(countMatching(*rest, muc::groupchatWithBody(room, fromPhone)) == 0,
                 qPrintable(s->name() + QStringLiteral(" got it twice:\n") + muc::describe(*rest)));
    }
    atDesk = desk->ping();
    QVERIFY2(atDesk, qPrintable(desk->errorString()));
    QVERIFY2(countMatching(*atDesk, muc::fromRoom(room)) == 0, qPrintable(muc::describe(*atDesk)));
}

// Scenario 3: disconnects and explicit leaves stay local until the last joined session leaves.
void TestRooms::leavingKeepsTheAccountUntilTheLastSessionLeaves()
{
    const QString room = roomJid(QStringLiteral("leaving"));
    const QString self = occupant(room, QStringLiteral("alice"));
    QString error;
    QVERIFY2(setUpRoom(room, {}, true, &error), qPrintable(error));
    auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"));
    QVERIFY(laptop);
    auto tablet = session(QStringLiteral("tablet"));
    QVERIFY(tablet);
    for (TestClient *s : {phone.get(), laptop.get(), tablet.get()})
        QVERIFY2(muc::join(*s, self, &error), qPrintable(error));
    QVERIFY2(roomSawOneJoin(*phone, self, &error), qPrintable(error));

    // The laptop goes away without leaving.
    laptop->disconnectFromServer();
    QVERIFY2(laptop->expectClosed(), qPrintable(laptop->errorString()));
    auto seen = observerBarrier(*phone, room);
    QVERIFY2(seen, qPrintable(barrierError_));
    QVERIFY2(countPresences(*seen, self) == 0,
             qPrintable(QStringLiteral("a disconnect reached the room:\n") + muc::describe(*seen)));

    // The tablet leaves explicitly: its own unavailable, nothing upstream.
    tablet->send(muc::leavePresence(self));
    const auto left = tablet->readUntil(muc::fromRoom(room));
    QVERIFY2(left, qPrintable(tablet->errorString()));
    QVERIFY2(muc::presenceFrom(self, QStringLiteral("unavailable"))(*left),
             left->toXml().constData());
    QVERIFY2(muc::statusCodes(*left).contains(110), left->toXml().constData());
    QCOMPARE(left->attribute(u"to"), tablet->fullJid());
    seen = observerBarrier(*phone, room);
    QVERIFY2(seen, qPrintable(barrierError_));
    QVERIFY2(countPresences(*seen, self) == 0,
             qPrintable(QStringLiteral("a leave reached the room:\n") + muc::describe(*seen)));
    auto atPhone = phone->ping();
    QVERIFY2(atPhone, qPrintable(phone->errorString()));
    QVERIFY2(
        countPresences(*atPhone, self) == 0,
        qPrintable(QStringLiteral("the phone saw the tablet leave:\n") + muc::describe(*atPhone)));

    // The tablet is out: room traffic reaches the phone only.
    const QString body = QStringLiteral("after the tablet left");
    observer_->send(QStringLiteral("<message to='%1' type='groupchat' id='after-leave'>"
                                   "<body>%2</body></message>")
                        .arg(room, body)
                        .toUtf8());
    QVERIFY2(phone->readUntil(muc::groupchatWithBody(room, body)),
             qPrintable(phone->errorString()));
    const auto atTablet = tablet->ping();
    QVERIFY2(atTablet, qPrintable(tablet->errorString()));
    QVERIFY2(countMatching(*atTablet, muc::fromRoom(room)) == 0,
             qPrintable(muc::describe(*atTablet)));

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
    const QString room = roomJid(QStringLiteral("others"));
    const QString self = occupant(room, QStringLiteral("alice"));
    const QString oldNick = occupant(room, QStringLiteral("bob"));
    const QString newNick = occupant(room, QStringLiteral("bobby"));
    QString error;
    QVERIFY2(setUpRoom(room, {}, true, &error), qPrintable(error));
    auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"));
    QVERIFY(laptop);
    auto tablet = session(QStringLiteral("tablet"));
    QVERIFY(tablet);
    for (TestClient *s : {phone.get(), laptop.get()})
        QVERIFY2(muc::join(*s, self, &error), qPrintable(error));

    observer_->send(QStringLiteral("<presence to='%1'/>").arg(newNick).toUtf8());
    QVERIFY2(observer_->readUntil(muc::presenceFrom(newNick)),
             qPrintable(observer_->errorString()));
    for (TestClient *s : {phone.get(), laptop.get()}) {
        const auto gone = s->readUntil(muc::fromRoom(room));
        QVERIFY2(gone, qPrintable(s->errorString()));
        QVERIFY2(muc::presenceFrom(oldNick, QStringLiteral("unavailable"))(*gone),
                 gone->toXml().constData());
        QVERIFY2(muc::statusCodes(*gone).contains(303), gone->toXml().constData());
        QVERIFY2(muc::userItem(*gone), gone->toXml().constData());
        QCOMPARE(muc::userItem(*gone)->attribute(u"nick"), QStringLiteral("bobby"));
        QCOMPARE(gone->attribute(u"to"), s->fullJid());
        const auto back = s->readUntil(muc::fromRoom(room));
        QVERIFY2(back, qPrintable(s->errorString()));
        QVERIFY2(muc::presenceFrom(newNick)(*back), back->toXml().constData());
        QCOMPARE(back->attribute(u"to"), s->fullJid());
        const auto rest = s->ping();
        QVERIFY2(rest, qPrintable(s->errorString()));
        QVERIFY2(countMatching(*rest, muc::fromRoom(room)) == 0, qPrintable(muc::describe(*rest)));
    }

    // A session joining now meets bobby, and no bob.
    const auto tabletJoin = muc::join(*tablet, self, &error);
    QVERIFY2(tabletJoin, qPrintable(error));
    const QString problem =
        checkJoin(*tabletJoin, {room,
                                QStringLiteral("alice"),
                                {QStringLiteral("carol"), QStringLiteral("bobby")},
                                {},
                                {},
                                tablet->fullJid()});
    QVERIFY2(problem.isEmpty(), qPrintable(QStringLiteral("[tablet] ") + problem));
}

// Scenario 5a: a kick removes every session; the next join is a real join again.
void TestRooms::kickReachesEverySessionAndLaterJoinGoesUpstream()
{
    const QString room = roomJid(QStringLiteral("kick"));
    const QString self = occupant(room, QStringLiteral("alice"));
    QString error;
    QVERIFY2(setUpRoom(room, {}, true, &error), qPrintable(error));
    auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"));
    QVERIFY(laptop);
    auto tablet = session(QStringLiteral("tablet"));
    QVERIFY(tablet);
    const QList<TestClient *> joined = {phone.get(), laptop.get(), tablet.get()};
    for (TestClient *s : joined)
        QVERIFY2(muc::join(*s, self, &error), qPrintable(error));
    QVERIFY2(roomSawOneJoin(*phone, self, &error), qPrintable(error));

    const auto kicked = muc::request(
        *moderator_, QStringLiteral("kick-alice"),
        QStringLiteral("<iq type='set' id='kick-alice' to='%1'>"
                       "<query xmlns='http://jabber.org/protocol/muc#admin'>"
                       "<item nick='alice' role='none'><reason>too loud</reason></item>"
                       "</query></iq>")
            .arg(room)
            .toUtf8(),
        &error);
    QVERIFY2(kicked, qPrintable(error));
    QCOMPARE(kicked->attribute(u"type"), QStringLiteral("result"));
    for (TestClient *s : joined) {
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
    auto seen = observerBarrier(*phone, room);
    QVERIFY2(seen, qPrintable(barrierError_));
    QVERIFY2(countPresences(*seen, self) == 0,
             qPrintable(QStringLiteral("alice came back by herself:\n") + muc::describe(*seen)));

    // The phone joins again: a real join, seen by the room, answered live.
    const auto again = muc::join(*phone, self, &error);
    QVERIFY2(again, qPrintable(error));
    const QString problem = checkJoin(*again, {room,
                                               QStringLiteral("alice"),
                                               {QStringLiteral("carol"), QStringLiteral("bob")},
                                               {},
                                               {},
                                               phone->fullJid()});
    QVERIFY2(problem.isEmpty(), qPrintable(QStringLiteral("[phone] ") + problem));
    QVERIFY2(roomSawOneJoin(*phone, self, &error), qPrintable(error));

    // The kicked laptop and tablet are not in the room until they join again.
    const QString body = QStringLiteral("welcome back");
    observer_->send(QStringLiteral("<message to='%1' type='groupchat' id='after-kick'>"
                                   "<body>%2</body></message>")
                        .arg(room, body)
                        .toUtf8());
    QVERIFY2(phone->readUntil(muc::groupchatWithBody(room, body)),
             qPrintable(phone->errorString()));
    for (TestClient *s : {laptop.get(), tablet.get()}) {
        const auto rest = s->ping();
        QVERIFY2(rest, qPrintable(s->errorString()));
        QVERIFY2(countMatching(*rest, muc::fromRoom(room)) == 0,
                 qPrintable(s->name() + QStringLiteral(": ") + muc::describe(*rest)));
    }
}

// Scenario 5b: the room's destruction reaches every joined session, and only those.
void TestRooms::destroyReachesEveryJoinedSession()
{
    const QString room = roomJid(QStringLiteral("doomed"));
    const QString self = occupant(room, QStringLiteral("alice"));
    const QString venue = roomJid(QStringLiteral("elsewhere"));
    QString error;
    QVERIFY2(setUpRoom(room, {}, true, &error), qPrintable(error));
    auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"));
    QVERIFY(laptop);
    auto tablet = session(QStringLiteral("tablet")); // never joins
    QVERIFY(tablet);
    for (TestClient *s : {phone.get(), laptop.get()})
        QVERIFY2(muc::join(*s, self, &error), qPrintable(error));

    const auto destroyed = muc::request(
        *moderator_, QStringLiteral("destroy"),
        QStringLiteral("<iq type='set' id='destroy' to='%1'>"
                       "<query xmlns='http://jabber.org/protocol/muc#owner'>"
                       "<destroy jid='%2'><reason>moving on</reason></destroy></query></iq>")
            .arg(room, venue)
            .toUtf8(),
        &error);
    QVERIFY2(destroyed, qPrintable(error));
    QCOMPARE(destroyed->attribute(u"type"), QStringLiteral("result"));
    for (TestClient *s : {phone.get(), laptop.get()}) {
        const auto gone = s->readUntil(muc::presenceFrom(self, QStringLiteral("unavailable")));
        QVERIFY2(gone, qPrintable(s->errorString()));
        QCOMPARE(gone->attribute(u"to"), s->fullJid());
        const XmlNode *x = gone->child(u"x", mucns::user);
        const XmlNode *destroy = x ? x->child(u"destroy") : nullptr;
        QVERIFY2(destroy, gone->toXml().constData());
        QCOMPARE(destroy->attribute(u"jid"), venue);
        QVERIFY2(destroy->child(u"reason"), gone->toXml().constData());
        QCOMPARE(destroy->child(u"reason")->text(), QStringLiteral("moving on"));
        const auto rest = s->ping();
        QVERIFY2(rest, qPrintable(s->errorString()));
        QVERIFY2(countPresences(*rest, self) == 0, qPrintable(muc::describe(*rest)));
    }
    const auto atTablet = tablet->ping();
    QVERIFY2(atTablet, qPrintable(tablet->errorString()));
    QVERIFY2(countMatching(*atTablet, muc::fromRoom(room)) == 0,
             qPrintable(muc::describe(*atTablet)));
}

// Scenario 6a: a session changes the account's nick.
void TestRooms::ownNickChangeReachesEverySession()
{
    const QString room = roomJid(QStringLiteral("nick"));
    const QString self = occupant(room, QStringLiteral("alice"));
    const QString renamed = occupant(room, QStringLiteral("alison"));
    QString error;
    QVERIFY2(setUpRoom(room, {}, true, &error), qPrintable(error));
    auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"));
    QVERIFY(laptop);
    auto tablet = session(QStringLiteral("tablet"));
    QVERIFY(tablet);
    for (TestClient *s : {phone.get(), laptop.get()})
        QVERIFY2(muc::join(*s, self, &error), qPrintable(error));
    QVERIFY2(roomSawOneJoin(*phone, self, &error), qPrintable(error));

    phone->send(QStringLiteral("<presence to='%1'/>").arg(renamed).toUtf8());
    for (TestClient *s : {phone.get(), laptop.get()}) {
        const auto gone = s->readUntil(muc::fromRoom(room));
        QVERIFY2(gone, qPrintable(s->errorString()));
        QVERIFY2(muc::presenceFrom(self, QStringLiteral("unavailable"))(*gone),
                 gone->toXml().constData());
        const QSet<int> codes = muc::statusCodes(*gone);
        QVERIFY2(codes.contains(303) && codes.contains(110), gone->toXml().constData());
        QVERIFY2(muc::userItem(*gone), gone->toXml().constData());
        QCOMPARE(muc::userItem(*gone)->attribute(u"nick"), QStringLiteral("alison"));
        QCOMPARE(gone->attribute(u"to"), s->fullJid());
        const auto back = s->readUntil(muc::fromRoom(room));
        QVERIFY2(back, qPrintable(s->errorString()));
        QVERIFY2(muc::presenceFrom(renamed)(*back), back->toXml().constData());
        QVERIFY2(muc::statusCodes(*back).contains(110), back->toXml().constData());
        QCOMPARE(back->attribute(u"to"), s->fullJid());
    }

    // The room saw one nick change.
    const auto gone = observer_->readUntil(muc::presenceFrom(self, QStringLiteral("unavailable")));
    QVERIFY2(gone, qPrintable(observer_->errorString()));
    QVERIFY2(muc::statusCodes(*gone).contains(303), gone->toXml().constData());
    QVERIFY2(observer_->readUntil(muc::presenceFrom(renamed)),
             qPrintable(observer_->errorString()));
    auto seen = observerBarrier(*phone, room);
    QVERIFY2(seen, qPrintable(barrierError_));
    QVERIFY2(countPresences(*seen, self) + countPresences(*seen, renamed) == 0,
             qPrintable(muc::describe(*seen)));

    // A session that asks for the old nick joins as alison, told so by 210.
    const auto tabletJoin = muc::join(*tablet, self, &error);
    QVERIFY2(tabletJoin, qPrintable(error));
    const QString problem =
        checkJoin(*tabletJoin, {room,
                                QStringLiteral("alison"),
                                {QStringLiteral("carol"), QStringLiteral("bob")},
                                {},
                                {},
                                tablet->fullJid(),
                                true});
    QVERIFY2(problem.isEmpty(), qPrintable(QStringLiteral("[tablet] ") + problem));
    seen = observerBarrier(*phone, room);
    QVERIFY2(seen, qPrintable(barrierError_));
    QVERIFY2(countPresences(*seen, self) + countPresences(*seen, renamed) == 0,
             qPrintable(muc::describe(*seen)));
}

// Scenario 6b: a join refused by the room is refused to the session that asked, only.
void TestRooms::membersOnlyErrorGoesToTheAskingSessionOnly()
{
    const QString room = roomJid(QStringLiteral("private"));
    const QString self = occupant(room, QStringLiteral("alice"));
    QString error;
    QVERIFY2(setUpRoom(room, {{QStringLiteral("muc#roomconfig_membersonly"), QStringLiteral("1")}},
                       false, &error),
             qPrintable(error));
    auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"));
    QVERIFY(laptop);

    const auto refused = muc::join(*phone, self, &error);
    QVERIFY2(refused, qPrintable(error));
    QVERIFY2(refused->size() == 1, qPrintable(muc::describe(*refused)));
    const XmlNode &presence = refused->front();
    QVERIFY2(muc::presenceFrom(self, QStringLiteral("error"))(presence),
             presence.toXml().constData());
    QCOMPARE(presence.attribute(u"to"), phone->fullJid());
    QCOMPARE(muc::errorCondition(presence), QStringLiteral("registration-required"));
    QCOMPARE(presence.child(u"error")->attribute(u"type"), QStringLiteral("auth"));
    auto atLaptop = laptop->ping();
    QVERIFY2(atLaptop, qPrintable(laptop->errorString()));
    QVERIFY2(countMatching(*atLaptop, muc::fromRoom(room)) == 0,
             qPrintable(muc::describe(*atLaptop)));

    // The room is not left half-joined: the laptop's own attempt is refused the same way.
    const auto again = muc::join(*laptop, self, &error);
    QVERIFY2(again, qPrintable(error));
    QVERIFY2(again->size() == 1 && muc::errorCondition(again->front()) == u"registration-required",
             qPrintable(muc::describe(*again)));
    QCOMPARE(again->front().attribute(u"to"), laptop->fullJid());
    const auto atPhone = phone->ping();
    QVERIFY2(atPhone, qPrintable(phone->errorString()));
    QVERIFY2(countMatching(*atPhone, muc::fromRoom(room)) == 0,
             qPrintable(muc::describe(*atPhone)));
}

// Scenario 6c: a nick somebody else holds.
void TestRooms::takenNickIsAConflictForTheAskingSessionOnly()
{
    const QString room = roomJid(QStringLiteral("taken"));
    const QString taken = occupant(room, QStringLiteral("bob"));
    const QString self = occupant(room, QStringLiteral("alice"));
    QString error;
    QVERIFY2(setUpRoom(room, {}, true, &error), qPrintable(error));
    auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"));
    QVERIFY(laptop);

    const auto refused = muc::join(*laptop, taken, &error);
    QVERIFY2(refused, qPrintable(error));
    QVERIFY2(refused->size() == 1, qPrintable(muc::describe(*refused)));
    const XmlNode &presence = refused->front();
    QVERIFY2(muc::presenceFrom(taken, QStringLiteral("error"))(presence),
             presence.toXml().constData());
    QCOMPARE(presence.attribute(u"to"), laptop->fullJid());
    QCOMPARE(muc::errorCondition(presence), QStringLiteral("conflict"));
    QCOMPARE(presence.child(u"error")->attribute(u"type"), QStringLiteral("cancel"));
    const auto atPhone = phone->ping();
    QVERIFY2(atPhone, qPrintable(phone->errorString()));
    QVERIFY2(countMatching(*atPhone, muc::fromRoom(room)) == 0,
             qPrintable(muc::describe(*atPhone)));

    // With a free nick the laptop gets in, and the room sees alice once.
    const auto joined = muc::join(*laptop, self, &error);
    QVERIFY2(joined, qPrintable(error));
    const QString problem = checkJoin(*joined, {room,
                                                QStringLiteral("alice"),
                                                {QStringLiteral("carol"), QStringLiteral("bob")},
                                                {},
                                                {},
                                                laptop->fullJid()});
    QVERIFY2(problem.isEmpty(), qPrintable(QStringLiteral("[laptop] ") + problem));
    QVERIFY2(roomSawOneJoin(*laptop, self, &error), qPrintable(error));
}

// Scenario 7: private messages through the room.
void TestRooms::privateMessagesReachJoinedSessionsAndLeaveAsTheOccupant()
{
    const QString room = roomJid(QStringLiteral("pm"));
    const QString self = occupant(room, QStringLiteral("alice"));
    const QString bobInRoom = occupant(room, QStringLiteral("bob"));
    QString error;
    QVERIFY2(setUpRoom(room, {}, true, &error), qPrintable(error));
    auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"));
    QVERIFY(laptop);
    auto desk = session(QStringLiteral("desk")); // never joins
    QVERIFY(desk);
    for (TestClient *s : {phone.get(), laptop.get()})
        QVERIFY2(muc::join(*s, self, &error), qPrintable(error));

    observer_->send(QStringLiteral("<message to='%1' type='chat' id='pm-in'>"
                                   "<body>psst</body></message>")
                        .arg(self)
                        .toUtf8());
    for (TestClient *s : {phone.get(), laptop.get()}) {
        const auto pm = s->readUntil(match::message(QStringLiteral("pm-in")));
        QVERIFY2(pm, qPrintable(s->errorString()));
        QCOMPARE(pm->attribute(u"from"), bobInRoom);
        QCOMPARE(pm->attribute(u"to"), s->fullJid());
        QVERIFY2(pm->child(u"body"), pm->toXml().constData());
        QCOMPARE(pm->child(u"body")->text(), QStringLiteral("psst"));
        const auto rest = s->ping();
        QVERIFY2(rest, qPrintable(s->errorString()));
        QVERIFY2(countMatching(*rest, match::message(QStringLiteral("pm-in"))) == 0,
                 qPrintable(muc::describe(*rest)));
    }
    const auto atDesk = desk->ping();
    QVERIFY2(atDesk, qPrintable(desk->errorString()));
    QVERIFY2(countMatching(*atDesk, muc::fromRoom(room)) == 0, qPrintable(muc::describe(*atDesk)));

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
    const auto seen = observerBarrier(*phone, room);
    QVERIFY2(seen, qPrintable(barrierError_));
    QVERIFY2(countMatching(*seen, match::message(QStringLiteral("pm-out"))) == 0,
             qPrintable(muc::describe(*seen)));
}

// Scenario 7b: a PM one session sends shows up on the other joined sessions (carbons).
void TestRooms::privateMessageFromSessionIsCarbonCopiedToJoinedSessions()
{
    const QString room = roomJid(QStringLiteral("pmcarbons"));
    const QString self = occupant(room, QStringLiteral("alice"));
    const QString bobInRoom = occupant(room, QStringLiteral("bob"));
    QString error;
    QVERIFY2(setUpRoom(room, {}, true, &error), qPrintable(error));
    auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"));
    QVERIFY(laptop);
    for (TestClient *s : {phone.get(), laptop.get()}) {
        QVERIFY2(muc::join(*s, self, &error), qPrintable(error));
        const auto enabled = muc::request(
            *s, QStringLiteral("carbons-on"),
            "<iq type='set' id='carbons-on'><enable xmlns='urn:xmpp:carbons:2'/></iq>", &error);
        QVERIFY2(enabled, qPrintable(error));
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
    for (TestClient *s : {phone.get(), laptop.get()}) {
        const auto rest = s->ping();
        QVERIFY2(rest, qPrintable(s->errorString()));
        QVERIFY2(countMatching(*rest, isSent) == 0, qPrintable(muc::describe(*rest)));
    }
}

// Scenario 8: XEP-0410 self-ping.
void TestRooms::selfPingIsAnsweredWhileJoined()
{
    const QString room = roomJid(QStringLiteral("selfping"));
    const QString self = occupant(room, QStringLiteral("alice"));
    QString error;
    QVERIFY2(setUpRoom(room, {}, true, &error), qPrintable(error));
    auto phone = session(QStringLiteral("phone"));
    QVERIFY(phone);
    auto laptop = session(QStringLiteral("laptop"));
    QVERIFY(laptop);
    for (TestClient *s : {phone.get(), laptop.get()})
        QVERIFY2(muc::join(*s, self, &error), qPrintable(error));

    const auto selfPing = [&self](TestClient &s, const QString &id, QString *problem) {
        return muc::request(s, id,
                            QStringLiteral("<iq type='get' id='%1' to='%2'>"
                                           "<ping xmlns='urn:xmpp:ping'/></iq>")
                                .arg(id, self)
                                .toUtf8(),
                            problem);
    };
    for (TestClient *s : {phone.get(), laptop.get()}) {
        const auto pong = selfPing(*s, QStringLiteral("self-ping"), &error);
        QVERIFY2(pong, qPrintable(error));
        QVERIFY2(pong->attribute(u"type") == u"result", pong->toXml().constData());
        QCOMPARE(pong->attribute(u"from"), self);
        QCOMPARE(pong->attribute(u"to"), s->fullJid());
    }

    // Once the account is out, the answer is XEP-0410's "not joined".
    for (TestClient *s : {laptop.get(), phone.get()}) {
        s->send(muc::leavePresence(self));
        QVERIFY2(s->readUntil(muc::presenceFrom(self, QStringLiteral("unavailable"))),
                 qPrintable(s->errorString()));
    }
    QVERIFY2(observer_->readUntil(muc::presenceFrom(self, QStringLiteral("unavailable"))),
             qPrintable(observer_->errorString()));
    const auto refused = selfPing(*phone, QStringLiteral("self-ping-out"), &error);
    QVERIFY2(refused, qPrintable(error));
    QVERIFY2(refused->attribute(u"type") == u"error", refused->toXml().constData());
    QCOMPARE(muc::errorCondition(*refused), QStringLiteral("not-acceptable"));
    QCOMPARE(refused->child(u"error")->attribute(u"type"), QStringLiteral("cancel"));
}

QTEST_GUILESS_MAIN(TestRooms)
#include "tst_rooms.moc"
