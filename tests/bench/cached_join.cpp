#include "cached_join.h"

#include "bench_median.h"
#include "bouncer_fixture.h"
#include "filler_component.h"
#include "muc_helpers.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <cstdio>

namespace {

constexpr int joinTimeoutMs = 60000;

QString occupant(const QString &room, const QString &nick)
{
    return room + QLatin1Char('/') + nick;
}

} // namespace

CachedJoin::CachedJoin(BouncerFixture &fixture, FillerComponent &fillers)
    : fixture_(fixture), fillers_(fillers)
{
}

bool CachedJoin::connectClients(QString *error)
{
    if (direct_)
        return true; // connected for an earlier room
    direct_ = fixture_.direct(QStringLiteral("carol"));
    first_ = fixture_.session(QStringLiteral("phone"));
    second_ = fixture_.session(QStringLiteral("laptop"));
    if (!direct_ || !first_ || !second_) {
        *error = fixture_.errorString();
        direct_ = nullptr;
        return false;
    }
    // As phones do, on both sides: the server then keeps each stanza until it is acknowledged.
    for (TestClient *client : {direct_, first_, second_}) {
        if (!client->enableStreamManagement()) {
            *error = client->name() + QStringLiteral(": ") + client->errorString();
            direct_ = nullptr;
            return false;
        }
    }
    return true;
}

bool CachedJoin::measure(int occupants, int runs, QList<BenchRow> *rows, QString *error)
{
    const QString room = QStringLiteral("b2-%1@conference.localhost").arg(occupants);
    fillers_.createRoom(room, occupants);
    if (!fillers_.barrier(error) || !connectClients(error))
        return false;
    std::vector<Run> measured;
    for (int run = 0; run <= runs; ++run) {
        const std::optional<Run> r = measureOnce(room, occupants, run % 2 == 1, error);
        if (!r)
            return false;
        std::fprintf(stderr, "B2 N=%-5d run %d: direct %.1f ms, uncached %.1f ms, cached %.1f ms\n",
                     occupants, run, r->direct.ms, r->uncached.ms, r->cached.ms);
        if (run > 0) // the first is a warm-up: first TLS records, first room of each client
            measured.push_back(*r);
    }
    const auto median = [&measured](Join Run::*join, double Join::*figure) {
        return medianOf(measured, [&](const Run &r) { return r.*join.*figure; });
    };
    const double d = median(&Run::direct, &Join::ms);
    const double u = median(&Run::uncached, &Join::ms);
    const double c = median(&Run::cached, &Join::ms);
    const QString runsNote = QStringLiteral("median of %1 runs").arg(runs);
    rows->append({QStringLiteral("B2"),
                  QStringLiteral("cached join, %1 occupants: join to subject").arg(occupants),
                  QStringLiteral("ms"), d, c, QStringLiteral("≥ 10× faster than direct"),
                  c > 0 && d / c >= 10,
                  runsNote + QStringLiteral("; xbnc replays the room from memory")});
    rows->append(
        {QStringLiteral("B2"),
         QStringLiteral("first (uncached) join, %1 occupants: join to subject").arg(occupants),
         QStringLiteral("ms"), d, u, QStringLiteral("≤ 1.1× direct"), u <= 1.1 * d,
         runsNote + QStringLiteral("; xbnc joins upstream and relays the room's answer as it "
                                   "arrives")});
    // CPU rows have no target; `direct` is absent for xbnc's own CPU.
    const auto cpuRow = [&](const QString &what, std::optional<double> direct, double xbnc,
                            const QString &note) {
        rows->append({QStringLiteral("B2"), what.arg(occupants), QStringLiteral("ms"), direct, xbnc,
                      QString(), std::nullopt,
                      runsNote +
                          QStringLiteral("; CPU time during the join (the scheduler's, all "
                                         "threads)") +
                          note});
    };
    cpuRow(QStringLiteral("first join, %1 occupants: Prosody CPU"),
           median(&Run::direct, &Join::prosodyCpuMs), median(&Run::uncached, &Join::prosodyCpuMs),
           QStringLiteral("; direct: carol's join, xbnc: the account's"));
    cpuRow(QStringLiteral("first join, %1 occupants: xbnc CPU"), std::nullopt,
           median(&Run::uncached, &Join::xbncCpuMs), QString());
    cpuRow(QStringLiteral("cached join, %1 occupants: client CPU"),
           median(&Run::direct, &Join::clientCpuMs), median(&Run::cached, &Join::clientCpuMs),
           QStringLiteral("; the benchmark's client reading the join"));
    cpuRow(QStringLiteral("cached join, %1 occupants: xbnc CPU"), std::nullopt,
           median(&Run::cached, &Join::xbncCpuMs), QString());
    return true;
}

std::optional<CachedJoin::Run> CachedJoin::measureOnce(const QString &room, int occupants,
                                                       bool directFirst, QString *error)
{
    Run run;
    const auto timeDirect = [&]() -> bool {
        const QString me = occupant(room, QStringLiteral("carol"));
        const std::optional<Join> join = timedJoin(*direct_, me, occupants, error);
        run.direct = join.value_or(Join{});
        return join && leave(*direct_, me, error);
    };
    const QString alice = occupant(room, QStringLiteral("alice"));
    if (directFirst && !timeDirect())
        return std::nullopt;
    // The account is not in the room: the phone's join goes upstream.
    const std::optional<Join> uncached = timedJoin(*first_, alice, occupants, error);
    if (!uncached)
        return std::nullopt;
    run.uncached = *uncached;
    const std::optional<Join> cached = timedJoin(*second_, alice, occupants, error);
    if (!cached)
        return std::nullopt;
    run.cached = *cached;
    // The laptop's leave stays inside xbnc; the phone's, the last, takes the account out of
    // the room, and its unavailable comes back once the room confirmed it.
    if (!leave(*second_, alice, error) || !leave(*first_, alice, error))
        return std::nullopt;
    if (!directFirst && !timeDirect())
        return std::nullopt;
    return run;
}

std::optional<CachedJoin::Join>
CachedJoin::timedJoin(TestClient &client, const QString &occupantJid, int others, QString *error)
{
    const QString room = occupantJid.section(QLatin1Char('/'), 0, 0);
    client.takeBuffered();
    const double prosodyCpu = cpuMilliseconds(fixture_.prosody().processId());
    const double xbncCpu = cpuMilliseconds(fixture_.xbnc().processId());
    const double clientCpu = cpuMilliseconds(QCoreApplication::applicationPid());
    QElapsedTimer clock;
    clock.start();
    client.send(muc::joinPresence(occupantJid));
    const std::optional<QList<XmlNode>> join =
        muc::readJoin(client, room, QDeadlineTimer(joinTimeoutMs));
    const Join measured{
        .ms = double(clock.nsecsElapsed()) / 1e6,
        .prosodyCpuMs = cpuMilliseconds(fixture_.prosody().processId()) - prosodyCpu,
        .xbncCpuMs = cpuMilliseconds(fixture_.xbnc().processId()) - xbncCpu,
        .clientCpuMs = cpuMilliseconds(QCoreApplication::applicationPid()) - clientCpu};
    if (!join || join->isEmpty() || !muc::isSubjectMessage(join->last())) {
        *error = QStringLiteral("%1: join of %2 did not end with the subject: %3")
                     .arg(client.name(), occupantJid,
                          join ? muc::describe(*join) : client.errorString());
        return std::nullopt;
    }
    int listed = 0;
    for (const XmlNode &n : *join)
        listed += n.name == u"presence" && n.attribute(u"from") != occupantJid ? 1 : 0;
    if (listed < others) {
        *error = QStringLiteral("%1: join of %2 listed %3 occupants, not %4")
                     .arg(client.name(), occupantJid)
                     .arg(listed)
                     .arg(others);
        return std::nullopt;
    }
    return measured;
}

bool CachedJoin::leave(TestClient &client, const QString &occupantJid, QString *error)
{
    client.send(muc::leavePresence(occupantJid));
    if (client.readUntil(muc::presenceFrom(occupantJid, QStringLiteral("unavailable")),
                         QDeadlineTimer(joinTimeoutMs))) {
        client.takeBuffered();
        return true;
    }
    *error = client.name() + QStringLiteral(": no unavailable after leaving ") + occupantJid +
             QStringLiteral(": ") + client.errorString();
    return false;
}
