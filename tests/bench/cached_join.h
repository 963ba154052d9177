#pragma once

#include "bench_rows.h"

#include <QList>
#include <QString>

#include <optional>
#include <vector>

class BouncerFixture;
class FillerComponent;
class TestClient;

// B2 (issue #11): how long a join takes, from the join presence until the subject, in a room of
// N filler occupants: a session through xbnc joining a room the account is already in (cached:
// xbnc replays it), the first session through xbnc (uncached: xbnc joins upstream and relays),
// and a client straight on Prosody (carol). Each run measures the three, the direct join
// alternately first and last; a warm-up run is not counted.
class CachedJoin
{
public:
    CachedJoin(BouncerFixture &fixture, FillerComponent &fillers);

    // Fills the room, then measures `runs` times; appends the B2 rows. False with *error when a
    // join failed or lacked occupants.
    bool measure(int occupants, int runs, QList<BenchRow> *rows, QString *error);

private:
    // One join: wall time, and the CPU time Prosody, xbnc and the client spent meanwhile.
    struct Join
    {
        double ms = 0;
        double prosodyCpuMs = 0;
        double xbncCpuMs = 0;
        double clientCpuMs = 0; // this process: the client reading the join
    };
    struct Run
    {
        Join direct;
        Join uncached;
        Join cached;
    };

    bool connectClients(QString *error);
    std::optional<Run> measureOnce(const QString &room, int occupants, bool directFirst,
                                   QString *error);
    // From the join presence to the subject; fails unless the join listed at least `others`
    // other occupants.
    std::optional<Join> timedJoin(TestClient &client, const QString &occupantJid, int others,
                                  QString *error);
    bool leave(TestClient &client, const QString &occupantJid, QString *error);

    BouncerFixture &fixture_;
    FillerComponent &fillers_;
    TestClient *direct_ = nullptr; // carol on Prosody
    TestClient *first_ = nullptr;  // alice's "phone" through xbnc: the uncached join
    TestClient *second_ = nullptr; // alice's "laptop" through xbnc: the cached join
};
