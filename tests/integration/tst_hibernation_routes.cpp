// The routes into and out of XEP-0198 hibernation that a lost TCP connection does not take,
// end to end through the real xbnc: a phone behind a TcpRelay that stops forwarding (pinged,
// no answer), one that stops reading (its send queue over max_send_queue), and a phone that
// binds its resource again instead of resuming. Each time nothing bob sent is lost or doubled.
#include "bouncer_fixture.h"
#include "stanza_match.h"
#include "tcp_relay.h"

#include <QtTest>

namespace {

constexpr char16_t smNs[] = u"urn:xmpp:sm:3";
const QString bobFull = QStringLiteral("bob@localhost/desk");
// Large enough that a few dozen fill the socket buffers between xbnc and a phone that does not
// read, well under Prosody's stanza size limit.
constexpr int floodBodyBytes = 60 * 1024;

bool isSm(const XmlNode &n, QStringView name)
{
    return n.xmlns == smNs && n.name == name;
}

bool isStanza(const XmlNode &n)
{
    return n.xmlns == u"jabber:client" &&
           (n.name == u"message" || n.name == u"presence" || n.name == u"iq");
}

QByteArray chatFromBob(const QString &id, const QByteArray &body = {})
{
    return "<message to='alice@localhost' type='chat' id='" + id.toUtf8() + "'><body>" +
           (body.isEmpty() ? id.toUtf8() : body) + "</body></message>";
}

bool isFromBob(const XmlNode &n)
{
    return n.name == u"message" && n.attribute(u"from") == bobFull;
}

// The ids of bob's chat messages among `stanzas`, in order.
QStringList chatIds(const QList<XmlNode> &stanzas)
{
    QStringList ids;
    for (const XmlNode &n : stanzas)
        if (isFromBob(n))
            ids.append(n.attribute(u"id"));
    return ids;
}

// Reads bob's messages from `client` until `ids` holds `total`, appending their ids; with
// `delayed`, each must carry a XEP-0203 <delay/>. False (with a warning) otherwise.
bool readFromBobUntil(TestClient &client, QStringList &ids, qsizetype total, bool delayed = false)
{
    while (ids.size() < total) {
        const std::optional<XmlNode> next = client.readUntil(isFromBob);
        if (!next || (delayed && !next->child(u"delay", u"urn:xmpp:delay"))) {
            qWarning().noquote() << "after" << ids.join(u' ') << ":"
                                 << (next ? QString::fromUtf8(next->toXml())
                                          : client.errorString());
            return false;
        }
        ids.append(next->attribute(u"id"));
    }
    return true;
}

QStringList numbered(const QString &prefix, int first, int last)
{
    QStringList ids;
    for (int i = first; i <= last; ++i)
        ids.append(prefix + QString::number(i));
    return ids;
}

} // namespace

class TestHibernationRoutes : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void unansweredPingHibernatesAndResumes();
    void fullSendQueueHibernatesAndResumes();
    void catchUpAllowanceEndsOnceTheCatchUpIsRead();
    void rebindingEndsTheHibernatingSessionAndItsMessagesWait();

private:
    // The phone through relay_, with stream management and resumption on; its handled count is
    // in handled_. Null on failure (a warning says why).
    // Each test's phone is a device of its own: what one test leaves to catch up on does not
    // reach the next.
    TestClient *phoneThroughRelay(const QString &resource);
    // Reads from the phone until a stanza matches, counting every stanza towards handled_.
    bool readCounting(TestClient &phone, const std::function<bool(const XmlNode &)> &wanted);
    // A new connection of the phone resumes `previd` having handled handled_ stanzas; returns
    // the stanzas sent again, up to xbnc's <r/> that ends them, or nullopt. Through relay_
    // when `port` is its port.
    std::optional<QList<XmlNode>> resume(const QString &previd, quint16 port = 0);
    // With relay_ stalled, bob sends chats of floodBodyBytes (ids prefix1, prefix2, …) until
    // xbnc cuts the phone for not reading; how many were sent, or -1 when it was not cut.
    int floodUntilCut(TestClient &bob, TestClient &phone, const QString &prefix);
    bool waitForLog(const QString &line);

    BouncerFixture fixture_;
    TcpRelay relay_;
    std::vector<std::unique_ptr<TestClient>> connections_;
    QString resource_; // the phone's, for the test under way
    QString previd_;
    quint32 handled_ = 0;
    qsizetype logMark_ = 0;
};

void TestHibernationRoutes::initTestCase()
{
    // A silent client is pinged after 1 s and has 1 s to answer; a client that does not read
    // is cut off once 64 KiB wait for it in xbnc, well before its unacknowledged stanzas (which
    // include those in the socket buffers) reach the hibernation bounds.
    fixture_.setXbncConfig(QStringLiteral("listener/idle_timeout"), QStringLiteral("1"));
    fixture_.setXbncConfig(QStringLiteral("listener/ping_timeout"), QStringLiteral("1"));
    fixture_.setXbncConfig(QStringLiteral("listener/max_send_queue"), QStringLiteral("65536"));
    fixture_.setXbncConfig(QStringLiteral("sessions/max_hibernation_bytes"),
                           QString::number(256 * 1024 * 1024));
    fixture_.setXbncConfig(QStringLiteral("sessions/resume_timeout"), QStringLiteral("300"));
    QVERIFY2(fixture_.start({QStringLiteral("bob")}), qPrintable(fixture_.errorString()));
    QVERIFY(relay_.listen(fixture_.xbnc().port()));
}

void TestHibernationRoutes::cleanup()
{
    relay_.setFrozen(false);
    relay_.setStalled(false);
    relay_.cut();
    connections_.clear();
    fixture_.finishTest();
    logMark_ = fixture_.xbnc().outputSize();
}

void TestHibernationRoutes::cleanupTestCase()
{
    fixture_.stop();
}

TestClient *TestHibernationRoutes::phoneThroughRelay(const QString &resource)
{
    resource_ = resource;
    TestClientOptions options = fixture_.sessionOptions(resource);
    options.port = relay_.port();
    auto phone = std::make_unique<TestClient>(resource);
    if (!phone->login(options)) {
        qWarning().noquote() << phone->errorString();
        return nullptr;
    }
    phone->send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    // In order: the stanzas before <enabled/> do not count towards h, those after it do.
    std::optional<XmlNode> enabled;
    while ((enabled = phone->readStanza(QDeadlineTimer(10000))) && !isSm(*enabled, u"enabled")) {
    }
    if (!enabled) {
        qWarning().noquote() << phone->errorString();
        return nullptr;
    }
    previd_ = enabled->attribute(u"id");
    handled_ = 0;
    connections_.push_back(std::move(phone));
    return connections_.back().get();
}

bool TestHibernationRoutes::readCounting(TestClient &phone,
                                         const std::function<bool(const XmlNode &)> &wanted)
{
    for (;;) {
        const std::optional<XmlNode> n = phone.readStanza(QDeadlineTimer(10000));
        if (!n)
            return false;
        handled_ += isStanza(*n);
        if (wanted(*n))
            return true;
    }
}

std::optional<QList<XmlNode>> TestHibernationRoutes::resume(const QString &previd, quint16 port)
{
    auto again = std::make_unique<TestClient>(QStringLiteral("phone-again"));
    TestClientOptions options = fixture_.sessionOptions(resource_);
    if (port)
        options.port = port;
    if (!again->connectAndSecure(options) || !again->authenticate()) {
        qWarning().noquote() << again->errorString();
        return std::nullopt;
    }
    again->send("<resume xmlns='urn:xmpp:sm:3' previd='" + previd.toUtf8() + "' h='" +
                QByteArray::number(handled_) + "'/>");
    TestClient &client = *again;
    connections_.push_back(std::move(again));
    const auto resumed = client.readStanza(QDeadlineTimer(10000));
    if (!resumed || !isSm(*resumed, u"resumed")) {
        qWarning().noquote() << "not resumed:"
                             << (resumed ? QString::fromUtf8(resumed->toXml())
                                         : client.errorString());
        return std::nullopt;
    }
    QList<XmlNode> sentAgain;
    for (;;) {
        const std::optional<XmlNode> n = client.readStanza(QDeadlineTimer(10000));
        if (!n) {
            qWarning().noquote() << client.errorString();
            return std::nullopt;
        }
        if (isSm(*n, u"r"))
            return sentAgain;
        sentAgain.append(*n);
    }
}

int TestHibernationRoutes::floodUntilCut(TestClient &bob, TestClient &phone, const QString &prefix)
{
    const QByteArray body(floodBodyBytes, 'x');
    int sent = 0;
    const QDeadlineTimer deadline(30000);
    while (sent < 400 && !deadline.hasExpired()) {
        for (int i = 0; i < 10; ++i)
            bob.send(chatFromBob(prefix + QString::number(++sent), body));
        // Whitespace keeps the phone from looking silent: this route is not the ping's.
        phone.send(" ");
        if (!bob.roundTrip()) {
            qWarning().noquote() << bob.errorString();
            return -1;
        }
        if (fixture_.xbnc().output().indexOf(u"hibernates: it did not read", logMark_) >= 0)
            return sent;
    }
    qWarning().noquote() << "not cut off after" << sent << "messages of" << floodBodyBytes
                         << "bytes";
    return -1;
}

bool TestHibernationRoutes::waitForLog(const QString &line)
{
    const qsizetype found = fixture_.xbnc().waitForLog(line, QDeadlineTimer(15000), logMark_);
    if (found < 0)
        return false;
    logMark_ = found;
    return true;
}

// A TCP relay that stops forwarding (a NAT that forgot the connection): no FIN, no RST, the
// pings go nowhere. The session hibernates and everything since is sent again on resume.
void TestHibernationRoutes::unansweredPingHibernatesAndResumes()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    TestClient *phone = phoneThroughRelay(QStringLiteral("ping-phone"));
    QVERIFY(phone);
    bob->send(chatFromBob(QStringLiteral("before")));
    QVERIFY2(readCounting(*phone, match::message(QStringLiteral("before"))),
             qPrintable(phone->errorString()));

    relay_.setFrozen(true);
    for (int i = 1; i <= 3; ++i)
        bob->send(chatFromBob(QStringLiteral("p%1").arg(i)));
    QVERIFY2(waitForLog(QStringLiteral("hibernates: no answer to a ping")),
             qPrintable(fixture_.xbnc().output().mid(logMark_)));
    QVERIFY(relay_.lostToClient() > 0);
    bob->send(chatFromBob(QStringLiteral("p4"))); // while it hibernates

    const std::optional<QList<XmlNode>> sentAgain = resume(previd_);
    QVERIFY(sentAgain);
    // p4 may still have been on its way through Prosody: then it follows live.
    QStringList ids = chatIds(*sentAgain);
    TestClient &again = *connections_.back();
    QVERIFY(readFromBobUntil(again, ids, 4));
    QCOMPARE(ids, numbered(QStringLiteral("p"), 1, 4));
    QVERIFY2(again.expectNone(isFromBob), qPrintable(again.errorString()));
}

// A phone whose TCP connection still stands but which reads nothing: what xbnc writes piles up
// until max_send_queue bytes wait in xbnc itself; the connection is cut and the session
// hibernates, keeping every stanza in those bytes for the resume.
void TestHibernationRoutes::fullSendQueueHibernatesAndResumes()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    TestClient *phone = phoneThroughRelay(QStringLiteral("slow-phone"));
    QVERIFY(phone);
    bob->send(chatFromBob(QStringLiteral("before")));
    QVERIFY2(readCounting(*phone, match::message(QStringLiteral("before"))),
             qPrintable(phone->errorString()));

    relay_.setStalled(true);
    const int sent = floodUntilCut(*bob, *phone, QStringLiteral("f"));
    QVERIFY(sent > 0);

    const std::optional<QList<XmlNode>> sentAgain = resume(previd_);
    QVERIFY(sentAgain);
    QStringList ids = chatIds(*sentAgain);
    // The last ones may have reached the hub after the resume: they follow live.
    TestClient &again = *connections_.back();
    QVERIFY(readFromBobUntil(again, ids, sent));
    QCOMPARE(ids, numbered(QStringLiteral("f"), 1, sent));
    QVERIFY2(again.expectNone(isFromBob), qPrintable(again.errorString()));
}

// A resume may send more than max_send_queue at once (everything the phone missed); that
// allowance ends with the catch-up. A phone that read its catch-up and then stops reading is
// cut at max_send_queue again, not at max_send_queue plus the size of its catch-up.
void TestHibernationRoutes::catchUpAllowanceEndsOnceTheCatchUpIsRead()
{
    // A catch-up of a few times max_send_queue that the kernel takes at once: nothing of it
    // waits in xbnc, so no bytesWritten() ever says the allowance is spent.
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    TestClient *phone = phoneThroughRelay(QStringLiteral("stalling-phone"));
    QVERIFY(phone);
    constexpr int missed = 3;
    const QByteArray body(floodBodyBytes, 'x');
    for (int i = 1; i <= missed; ++i)
        bob->send(chatFromBob(QStringLiteral("m%1").arg(i), body));
    QVERIFY2(readCounting(*phone, match::message(QStringLiteral("m%1").arg(missed))),
             qPrintable(phone->errorString()));
    handled_ = 0; // received, never acknowledged: all of it comes again
    relay_.cut();
    QVERIFY2(waitForLog(QStringLiteral("hibernates: its connection was lost")),
             qPrintable(fixture_.xbnc().output().mid(logMark_)));

    const std::optional<QList<XmlNode>> sentAgain = resume(previd_, relay_.port());
    QVERIFY(sentAgain);
    QCOMPARE(chatIds(*sentAgain), numbered(QStringLiteral("m"), 1, missed));
    TestClient &again = *connections_.back();

    logMark_ = fixture_.xbnc().outputSize();
    relay_.setStalled(true);
    QVERIFY(floodUntilCut(*bob, again, QStringLiteral("g")) > 0);
    const QRegularExpression cut(QStringLiteral("does not read; connection cut with (\\d+) bytes"));
    const QRegularExpressionMatch match = cut.match(fixture_.xbnc().output().mid(logMark_));
    QVERIFY2(match.hasMatch(), qPrintable(fixture_.xbnc().output().mid(logMark_)));
    // At most one stanza over the queue's bound: the write that went over it.
    const qint64 queued = match.captured(1).toLongLong();
    QVERIFY2(queued <= 65536 + floodBodyBytes + 1024,
             qPrintable(QStringLiteral("cut with %1 bytes queued").arg(queued)));
}

// RFC 6120 §7.7.2.2: a phone that lost its connection logs in again and binds the same resource
// instead of resuming. The hibernating session ends with a conflict, and what its client never
// acknowledged reaches the new session as catch-up, once, with a delay.
void TestHibernationRoutes::rebindingEndsTheHibernatingSessionAndItsMessagesWait()
{
    TestClient *bob = fixture_.direct(QStringLiteral("bob"));
    QVERIFY2(bob, qPrintable(fixture_.errorString()));
    TestClient *phone = phoneThroughRelay(QStringLiteral("rebound-phone"));
    QVERIFY(phone);
    bob->send(chatFromBob(QStringLiteral("r1")));
    bob->send(chatFromBob(QStringLiteral("r2")));
    // Received but never acknowledged: the phone dies before it says so.
    QVERIFY2(readCounting(*phone, match::message(QStringLiteral("r2"))),
             qPrintable(phone->errorString()));
    relay_.cut();
    QVERIFY2(waitForLog(QStringLiteral("hibernates: its connection was lost")),
             qPrintable(fixture_.xbnc().output().mid(logMark_)));

    auto again = std::make_unique<TestClient>(QStringLiteral("phone-again"));
    TestClientOptions options = fixture_.sessionOptions(resource_);
    options.sendInitialPresence = false;
    QVERIFY2(again->login(options), qPrintable(again->errorString()));
    TestClient &client = *again;
    connections_.push_back(std::move(again));
    QVERIFY2(waitForLog(QStringLiteral("replaced by a newer one")),
             qPrintable(fixture_.xbnc().output().mid(logMark_)));
    client.send("<presence/>");
    QStringList ids;
    QVERIFY(readFromBobUntil(client, ids, 2, true));
    QCOMPARE(ids, numbered(QStringLiteral("r"), 1, 2));
    QVERIFY2(client.expectNone(isFromBob), qPrintable(client.errorString()));
}

QTEST_GUILESS_MAIN(TestHibernationRoutes)
#include "tst_hibernation_routes.moc"
