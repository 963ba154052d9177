// B1 fan-out and B5 upstream cost (issue #11): one room on Prosody, a sender connected straight
// to it, and N receiving sessions of one account either through xbnc (alice, N resources) or
// straight on Prosody (bob, N resources, each joining the room itself: a user's N devices
// today). Both sides are measured in the same run, taking turns, on one monotonic clock. Then
// B5's presence churn: N sessions of alice through xbnc, and of carol straight on Prosody, come
// and go while bob, a contact of both, watches from their rooms. Stanzas are counted by
// Prosody itself (ServerStanzaCounts):
//   build/tests/bench/bench_flow [--quick] [--json FILE]
// It prints one line per burst on stderr and writes the side-by-side rows (bench_rows.h). It
// exits 1 when a message was lost or reordered at 50 msg/s, 2 when the setup failed.
#include "bench_rows.h"
#include "bouncer_fixture.h"
#include "fanout_run.h"
#include "muc_helpers.h"
#include "presence_churn.h"
#include "roster_setup.h"
#include "server_stanza_counts.h"
#include "tcp_relay.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>
#include <map>

namespace {

const QString roomService = QStringLiteral("conference.localhost");
constexpr double latencyRate = 50;
constexpr double p99LimitMs = 1000;

struct Plan
{
    std::vector<int> sessions;
    qint64 latencyMessages;
    std::vector<double> rates; // stepped up until p99 passes the limit or a message is lost
    double stepSeconds;
    int drainMs;
    int churnSessions; // sessions that come and go in the presence churn
};

Plan planFor(bool quick)
{
    if (quick)
        return {{1, 3}, 10, {250}, 0.2, 3000, 2};
    // Doubling until each side fails, so that the top step held is a ceiling, not the plan's
    // end; 32,000 msg/s is far past what one Prosody core delivers to one session.
    return {{1, 10, 50}, 250, {250, 500, 1000, 2000, 4000, 8000, 16000, 32000}, 3, 5000, 10};
}

// What was measured for one side at one N.
struct SideFigures
{
    FanOutResult latency;
    qint64 serverMessages = 0; // what the server sent towards the receivers during `latency`
    double sustained = 0;      // msg/s, 0 when not even the first step held
};

void printRun(const QString &side, double rate, const FanOutResult &r)
{
    std::fprintf(stderr,
                 "%-6s N=%-3d %6.0f msg/s: %lld sent, %lld delivered, %lld lost, %lld out of "
                 "order, p50 %.1f ms, p99 %.1f ms, %lld B from the server\n",
                 qPrintable(side), r.sessions, rate, r.sent, r.delivered, r.lost, r.outOfOrder,
                 r.p50Ms, r.p99Ms, r.serverBytes);
}

bool createRoom(TestClient &owner, const QString &room, QString *error)
{
    // Not archived: Prosody's file archive grows slower to append to with every message, which
    // is the same on both sides and would swamp what is compared (fan-out) within a few steps.
    const QList<QPair<QString, QString>> persistent = {
        {QStringLiteral("muc#roomconfig_persistentroom"), QStringLiteral("1")},
        {QStringLiteral("muc#roomconfig_enablearchiving"), QStringLiteral("0")}};
    if (!muc::createRoom(owner, room, QStringLiteral("owner"), persistent, error))
        return false;
    // The owner leaves so that both rooms hold the same occupants: sender and receivers.
    owner.send(muc::leavePresence(room + QStringLiteral("/owner")));
    return owner.roundTrip();
}

LoadSession::Options senderOptions(BouncerFixture &fixture, const QString &room)
{
    LoadSession::Options o;
    o.port = fixture.prosody().c2sPort();
    o.caFile = fixture.prosody().caCertificatePath();
    o.user = QStringLiteral("sender");
    o.password = BouncerFixture::password(o.user);
    o.resource = QStringLiteral("to-") + room.section(u'@', 0, 0);
    o.occupantJid = room + QStringLiteral("/sender");
    return o;
}

QString ratioTarget(int sessions)
{
    switch (sessions) {
    case 1:
        return QStringLiteral("≤ 1.2× direct");
    case 10:
        return QStringLiteral("≤ 0.6× direct");
    case 50:
        return QStringLiteral("≤ 0.3× direct");
    default:
        return {};
    }
}

double targetRatio(int sessions)
{
    return sessions == 1 ? 1.2 : sessions == 10 ? 0.6 : sessions == 50 ? 0.3 : 0;
}

QList<BenchRow> rowsFor(int n, const SideFigures &direct, const SideFigures &xbnc,
                        double singleSessionCeiling)
{
    QList<BenchRow> rows;
    BenchRow p50{QStringLiteral("B1"),
                 QStringLiteral("fan-out N=%1, 50 msg/s, latency p50").arg(n),
                 QStringLiteral("ms"),
                 direct.latency.p50Ms,
                 xbnc.latency.p50Ms,
                 ratioTarget(n),
                 std::nullopt,
                 QStringLiteral("sender → room → N sessions, one clock; TLS both sides")};
    if (const double limit = targetRatio(n); limit > 0)
        p50.met = *benchRatio(p50) <= limit;
    rows.append(p50);
    rows.append({QStringLiteral("B1"), QStringLiteral("fan-out N=%1, 50 msg/s, latency p99").arg(n),
                 QStringLiteral("ms"), direct.latency.p99Ms, xbnc.latency.p99Ms, QString(),
                 std::nullopt, QString()});
    BenchRow rate{QStringLiteral("B1"),
                  QStringLiteral("fan-out N=%1, highest rate with p99 ≤ 1 s").arg(n),
                  QStringLiteral("msg/s"),
                  direct.sustained,
                  xbnc.sustained,
                  QString(),
                  std::nullopt,
                  QStringLiteral("steps doubling from 250 msg/s up to 32,000 until the side "
                                 "fails; a lost or reordered message fails the step; 0: not even "
                                 "250 msg/s held")};
    if (n == 10) {
        rate.target =
            QStringLiteral("xbnc ≥ 90 % of direct at N=1 (%1 msg/s)").arg(singleSessionCeiling);
        rate.met = xbnc.sustained >= 0.9 * singleSessionCeiling;
    }
    rows.append(rate);
    const auto perMessage = [](const FanOutResult &r, qint64 value) {
        return r.sent > 0 ? double(value) / double(r.sent) : 0.0;
    };
    rows.append({QStringLiteral("B5"),
                 QStringLiteral("server → receivers per room message, N=%1").arg(n),
                 QStringLiteral("bytes"), perMessage(direct.latency, direct.latency.serverBytes),
                 perMessage(xbnc.latency, xbnc.latency.serverBytes), QString(), std::nullopt,
                 QStringLiteral("TLS bytes through a relay in front of the server: the direct "
                                "clients' connections, xbnc's one upstream connection")});
    BenchRow stanzas{QStringLiteral("B5"),
                     QStringLiteral("server → receivers: stanzas per room message, N=%1").arg(n),
                     QStringLiteral("stanzas"),
                     perMessage(direct.latency, direct.serverMessages),
                     perMessage(xbnc.latency, xbnc.serverMessages),
                     QStringLiteral("xbnc: exactly 1"),
                     xbnc.latency.sent > 0 && xbnc.serverMessages == xbnc.latency.sent,
                     QStringLiteral("messages Prosody's c2s sessions sent, counted by a module in "
                                    "Prosody: the N direct clients' sessions, xbnc's one upstream "
                                    "session")};
    rows.append(stanzas);
    return rows;
}

// The figures of one side's presence churn, a round ending by closing the stream and one by
// dropping the connection.
struct ChurnFigures
{
    PresenceChurnCounts closed;
    PresenceChurnCounts dropped;
};

QList<BenchRow> churnRows(int n, const ChurnFigures &direct, const ChurnFigures &xbnc)
{
    using Phase = std::map<QString, qint64> PresenceChurnCounts::*;
    const auto row = [n](const QString &what, const ChurnFigures &d, const ChurnFigures &x,
                         const PresenceChurnCounts ChurnFigures::*round, Phase phase,
                         const QString &note, const QString &more = {}) {
        const qint64 xbncCount = total(x.*round.*phase);
        return BenchRow{QStringLiteral("B5"),
                        what.arg(n),
                        QStringLiteral("stanzas"),
                        double(total(d.*round.*phase)) / n,
                        double(xbncCount) / n,
                        QStringLiteral("xbnc: 0"),
                        xbncCount == 0,
                        note + QStringLiteral("; xbnc: ") + describeCounts(x.*round.*phase) + more};
    };
    const QString upstream = QStringLiteral("presence the user's connections to the server "
                                            "carried (xbnc: its one upstream), over N");
    const QString peer = QStringLiteral("presence received by bob, a contact in the room, "
                                        "straight on the server, over N");
    const QString secondRound = QStringLiteral(
        "; a second round while xbnc's account is still in the room (a session that goes "
        "without leaving does not take it out): xbnc ");
    return {
        row(QStringLiteral("upstream presence per session connect (initial presence + room "
                           "join), N=%1"),
            direct, xbnc, &ChurnFigures::closed, &PresenceChurnCounts::upstreamOnConnect, upstream,
            secondRound + describeCounts(xbnc.dropped.upstreamOnConnect)),
        row(QStringLiteral("upstream presence per session leave (stream closed), N=%1"), direct,
            xbnc, &ChurnFigures::closed, &PresenceChurnCounts::upstreamOnLeave, upstream),
        row(QStringLiteral("upstream presence per session leave (TCP dropped), N=%1"), direct, xbnc,
            &ChurnFigures::dropped, &PresenceChurnCounts::upstreamOnLeave, upstream),
        row(QStringLiteral("presence a contact in the room gets per session connect, N=%1"), direct,
            xbnc, &ChurnFigures::closed, &PresenceChurnCounts::peerOnConnect, peer,
            secondRound + describeCounts(xbnc.dropped.peerOnConnect)),
        row(QStringLiteral("presence a contact in the room gets per session leave (stream "
                           "closed), N=%1"),
            direct, xbnc, &ChurnFigures::closed, &PresenceChurnCounts::peerOnLeave, peer),
        row(QStringLiteral("presence a contact in the room gets per session leave (TCP "
                           "dropped), N=%1"),
            direct, xbnc, &ChurnFigures::dropped, &PresenceChurnCounts::peerOnLeave, peer),
    };
}

// Rooms for the churn, one per side, with bob (a contact of alice and of carol) in both;
// bob's full JID, or empty with *error.
QString setUpChurnWatcher(BouncerFixture &fixture, TestClient &owner, const QStringList &rooms,
                          QString *error)
{
    TestClient *bob = fixture.direct(QStringLiteral("bob"));
    if (!bob) {
        *error = fixture.errorString();
        return {};
    }
    for (const QString &room : rooms) {
        if (!createRoom(owner, room, error) ||
            !muc::join(*bob, room + QStringLiteral("/bob"), error))
            return {};
    }
    return bob->fullJid();
}

void printChurn(const QString &side, const QString &leave, const PresenceChurnCounts &c)
{
    std::fprintf(
        stderr,
        "%-6s churn, %s: upstream presence on connect %s, on leave %s; bob got on "
        "connect %s, on leave %s\n",
        qPrintable(side), qPrintable(leave), qPrintable(describeCounts(c.upstreamOnConnect)),
        qPrintable(describeCounts(c.upstreamOnLeave)), qPrintable(describeCounts(c.peerOnConnect)),
        qPrintable(describeCounts(c.peerOnLeave)));
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption quickOption(QStringLiteral("quick"),
                                         QStringLiteral("A few seconds: tiny N and bursts."));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Write the rows to <file>."),
                                        QStringLiteral("file"));
    parser.addOptions({quickOption, jsonOption});
    parser.process(app);
    const Plan plan = planFor(parser.isSet(quickOption));

    BouncerFixture fixture;
    TcpRelay upstreamRelay;
    TcpRelay directRelay;
    TestClient *owner = nullptr;
    const QString directRoom = QStringLiteral("bench-direct@") + roomService;
    const QString xbncRoom = QStringLiteral("bench-xbnc@") + roomService;
    QString error;
    ServerStanzaCounts::enableOn(fixture.prosody());
    const auto contactOfBob = [&fixture, &error](const QString &user) {
        return makeContacts(fixture.prosody(), user, BouncerFixture::password(user),
                            QStringLiteral("bob"), BouncerFixture::password(QStringLiteral("bob")),
                            &error);
    };
    if (!fixture.startProsody(
            {QStringLiteral("bob"), QStringLiteral("sender"), QStringLiteral("carol")}) ||
        !contactOfBob(BouncerFixture::accountUser()) || !contactOfBob(QStringLiteral("carol")) ||
        !upstreamRelay.listen(fixture.prosody().c2sPort()) ||
        !directRelay.listen(fixture.prosody().c2sPort())) {
        std::fprintf(stderr, "setup failed: %s %s\n", qPrintable(fixture.errorString()),
                     qPrintable(error));
        return 2;
    }
    fixture.setXbncConfig(QStringLiteral("upstream/port"), QString::number(upstreamRelay.port()));
    if (!fixture.startXbnc() || !(owner = fixture.direct(QStringLiteral("sender"))) ||
        !createRoom(*owner, directRoom, &error) || !createRoom(*owner, xbncRoom, &error)) {
        std::fprintf(stderr, "setup failed: %s %s\n", qPrintable(fixture.errorString()),
                     qPrintable(error));
        return 2;
    }

    FanOutSide direct;
    direct.name = QStringLiteral("direct");
    direct.receiver.port = directRelay.port();
    direct.receiver.caFile = fixture.prosody().caCertificatePath();
    direct.receiver.user = QStringLiteral("bob");
    direct.receiver.password = BouncerFixture::password(direct.receiver.user);
    direct.receiver.occupantJid = directRoom + QStringLiteral("/bob");
    direct.sender = senderOptions(fixture, directRoom);
    direct.relay = &directRelay;
    direct.serverJidPrefix = QStringLiteral("bob@localhost/direct-");

    FanOutSide xbnc;
    xbnc.name = QStringLiteral("xbnc");
    xbnc.receiver.port = fixture.xbnc().port();
    xbnc.receiver.fingerprint = fixture.xbnc().fingerprint();
    xbnc.receiver.user = BouncerFixture::accountUser();
    xbnc.receiver.password = BouncerFixture::password(xbnc.receiver.user);
    xbnc.receiver.mechanism = QStringLiteral("SCRAM-SHA-256");
    xbnc.receiver.occupantJid = xbncRoom + QStringLiteral("/alice");
    xbnc.sender = senderOptions(fixture, xbncRoom);
    xbnc.relay = &upstreamRelay;
    xbnc.serverJidPrefix = BouncerFixture::accountUser() + QStringLiteral("@localhost/");

    std::vector<FanOutSide *> sides{&direct, &xbnc};
    std::map<int, std::map<QString, SideFigures>> figures;
    bool lostAtLatencyRate = false;
    for (int n : plan.sessions) {
        std::reverse(sides.begin(), sides.end()); // take turns at going first
        for (FanOutSide *side : sides) {
            if (!side->join(n, &error)) {
                std::fprintf(stderr, "%s: joining %d sessions failed: %s\n", qPrintable(side->name),
                             n, qPrintable(error));
                return 2;
            }
            runFanOut(*side, latencyRate, 10, plan.drainMs); // warm-up, not counted
        }
        for (FanOutSide *side : sides) {
            const std::optional<ServerStanzaCounts> before =
                ServerStanzaCounts::read(*owner, &error);
            const FanOutResult r =
                runFanOut(*side, latencyRate, plan.latencyMessages, plan.drainMs);
            const std::optional<ServerStanzaCounts> after =
                ServerStanzaCounts::read(*owner, &error);
            if (!before || !after) {
                std::fprintf(stderr, "counting stanzas failed: %s\n", qPrintable(error));
                return 2;
            }
            printRun(side->name, latencyRate, r);
            lostAtLatencyRate = lostAtLatencyRate || !r.clean();
            figures[n][side->name].latency = r;
            figures[n][side->name].serverMessages =
                total(countsAdded(*before, *after, side->serverJidPrefix, u"out message"));
        }
        std::map<QString, bool> stillHolding{{direct.name, true}, {xbnc.name, true}};
        for (double rate : plan.rates) {
            if (!stillHolding[direct.name] && !stillHolding[xbnc.name])
                break;
            for (FanOutSide *side : sides) {
                if (!stillHolding[side->name])
                    continue;
                const FanOutResult r =
                    runFanOut(*side, rate, qint64(rate * plan.stepSeconds), plan.drainMs);
                printRun(side->name, rate, r);
                if (r.clean() && r.p99Ms <= p99LimitMs)
                    figures[n][side->name].sustained = rate;
                else
                    stillHolding[side->name] = false;
            }
        }
        for (FanOutSide *side : sides)
            side->leave();
    }

    // The presence churn, each side's two rounds taking turns at going first.
    const QString churnDirectRoom = QStringLiteral("churn-direct@") + roomService;
    const QString churnXbncRoom = QStringLiteral("churn-xbnc@") + roomService;
    const QString watcher =
        setUpChurnWatcher(fixture, *owner, {churnDirectRoom, churnXbncRoom}, &error);
    if (watcher.isEmpty()) {
        std::fprintf(stderr, "churn setup failed: %s\n", qPrintable(error));
        return 2;
    }
    PresenceChurnSide churnDirect{direct.name, fixture.directOptions(QStringLiteral("carol")),
                                  churnDirectRoom + QStringLiteral("/carol"),
                                  QStringLiteral("carol@localhost/")};
    PresenceChurnSide churnXbnc{xbnc.name, fixture.sessionOptions(QString()),
                                churnXbncRoom + QStringLiteral("/alice"), xbnc.serverJidPrefix};
    std::map<QString, ChurnFigures> churn;
    const auto churnRound = [&](const PresenceChurnSide &side, SessionLeave leave) {
        const bool closing = leave == SessionLeave::CloseStream;
        std::optional<PresenceChurnCounts> counts =
            runPresenceChurn(side, plan.churnSessions, leave, *owner, watcher, &error);
        if (!counts)
            return false;
        printChurn(side.name, closing ? QStringLiteral("stream closed") : QStringLiteral("dropped"),
                   *counts);
        (closing ? churn[side.name].closed : churn[side.name].dropped) = std::move(*counts);
        return true;
    };
    if (!churnRound(churnDirect, SessionLeave::CloseStream) ||
        !churnRound(churnXbnc, SessionLeave::CloseStream) ||
        !churnRound(churnXbnc, SessionLeave::DropConnection) ||
        !churnRound(churnDirect, SessionLeave::DropConnection)) {
        std::fprintf(stderr, "presence churn failed: %s\n", qPrintable(error));
        return 2;
    }

    QList<BenchRow> rows;
    const double ceiling = figures[plan.sessions.front()][direct.name].sustained;
    for (int n : plan.sessions)
        rows += rowsFor(n, figures[n][direct.name], figures[n][xbnc.name], ceiling);
    rows += churnRows(plan.churnSessions, churn[direct.name], churn[xbnc.name]);
    if (parser.isSet(jsonOption) &&
        !writeBenchRows(parser.value(jsonOption), QStringLiteral("bench_flow"), rows, &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 2;
    }
    for (const BenchRow &row : rows)
        std::printf("%s | %s | %s | %.1f | %.1f\n", qPrintable(row.id), qPrintable(row.what),
                    qPrintable(row.unit), row.direct.value_or(-1), row.xbnc.value_or(-1));
    if (!fixture.stopXbnc()) {
        std::fprintf(stderr, "xbnc did not stop cleanly: %s\n", qPrintable(fixture.errorString()));
        return 2;
    }
    return lostAtLatencyRate ? 1 : 0;
}
