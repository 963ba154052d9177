#include "cached_join.h"

#include "bench_median.h"
#include "bouncer_fixture.h"
#include "filler_component.h"
#include "muc_helpers.h"

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
    if (!direct_)
        direct_ = fixture_.direct(QStringLiteral("carol"));
    if (!first_)
        first_ = fixture_.session(QStringLiteral("phone"));
    if (!second_)
        second_ = fixture_.session(QStringLiteral("laptop"));
    if (direct_ && first_ && second_)
        return true;
    *error = fixture_.errorString();
    return false;
}

bool CachedJoin::measure(int occupants, int runs, QList<BenchRow> *rows, QString *error)
{
    const QString room = QStringLiteral("b2-%1@conference.localhost").arg(occupants);
    fillers_.createRoom(room, occupants);
    if (!fillers_.barrier(error) || !connectClients(error))
        return false;
    std::vector<double> direct, uncached, cached;
    for (int run = 0; run <= runs; ++run) {
        const std::optional<Run> r = measureOnce(room, occupants, run % 2 == 1, error);
        if (!r)
            return false;
        std::fprintf(stderr, "B2 N=%-5d run %d: direct %.1f ms, uncached %.1f ms, cached %.1f ms\n",
                     occupants, run, r->direct, r->uncached, r->cached);
        if (run == 0)
            continue; // warm-up: first TLS records, first room of each client
        direct.push_back(r->direct);
        uncached.push_back(r->uncached);
        cached.push_back(r->cached);
    }
    const double d = medianOf(direct);
    const double u = medianOf(uncached);
    const double c = medianOf(cached);
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
         runsNote + QStringLiteral("; xbnc joins upstream, then replays")});
    return true;
}

std::optional<CachedJoin::Run> CachedJoin::measureOnce(const QString &room, int occupants,
                                                       bool directFirst, QString *error)
{
    Run run;
    const auto timeDirect = [&]() -> bool {
        const QString me = occupant(room, QStringLiteral("carol"));
        const std::optional<double> ms = timedJoin(*direct_, me, occupants, error);
        run.direct = ms.value_or(0);
        return ms && leave(*direct_, me, error);
    };
    const QString alice = occupant(room, QStringLiteral("alice"));
    if (directFirst && !timeDirect())
        return std::nullopt;
    // The account is not in the room: the phone's join goes upstream.
    const std::optional<double> uncached = timedJoin(*first_, alice, occupants, error);
    if (!uncached)
        return std::nullopt;
    run.uncached = *uncached;
    const std::optional<double> cached = timedJoin(*second_, alice, occupants, error);
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

std::optional<double> CachedJoin::timedJoin(TestClient &client, const QString &occupantJid,
                                            int others, QString *error)
{
    const QString room = occupantJid.section(QLatin1Char('/'), 0, 0);
    client.takeBuffered();
    QElapsedTimer clock;
    clock.start();
    client.send(muc::joinPresence(occupantJid));
    const std::optional<QList<XmlNode>> join =
        muc::readJoin(client, room, QDeadlineTimer(joinTimeoutMs));
    const double ms = double(clock.nsecsElapsed()) / 1e6;
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
    return ms;
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
