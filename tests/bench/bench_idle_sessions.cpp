// Issue #11 B4: what an idle TLS session costs the server, through xbnc and straight on
// Prosody, in the same run:
//   build/tests/bench/bench_idle_sessions [--quick] [--json FILE] [N...]
// (default N: 1 10 100 1000; --quick: 1 and 10, a few seconds, for the smoke test)
// For each N (ascending) both servers get sessions until they hold N of them (logged in over
// STARTTLS with SCRAM, bound, no presence, then silent), the two taking turns at going
// first; then each server's resident set is read. A row is (RSS at N - RSS before any) / N.
// Markdown table on stdout, rows with writeBenchRows() to FILE; exits non-zero when a login
// failed.
#include "bench_rows.h"
#include "bouncer_fixture.h"

#include <QCoreApplication>

#include <cstdio>
#include <memory>
#include <vector>

namespace {

constexpr double kTargetKiB = 32;

// One server's idle sessions and its resident set before them.
struct Side
{
    QString name;
    std::function<TestClientOptions(int)> options; // for session number i
    std::function<qint64()> pid;
    qint64 baselineKiB = 0;
    std::vector<std::unique_ptr<TestClient>> sessions;
};

bool growTo(Side &side, int count, QString *error)
{
    while (int(side.sessions.size()) < count) {
        const int i = int(side.sessions.size());
        auto client = std::make_unique<TestClient>(QStringLiteral("%1-%2").arg(side.name).arg(i));
        if (!client->login(side.options(i))) {
            *error = client->errorString();
            return false;
        }
        side.sessions.push_back(std::move(client));
    }
    // The last login's ping answered: the server has handled every login before it.
    return side.sessions.empty() || side.sessions.back()->roundTrip() ||
           (*error = side.sessions.back()->errorString(), false);
}

double kibPerSession(const Side &side)
{
    const qint64 now = residentKiB(side.pid());
    return side.sessions.empty() ? 0 : double(now - side.baselineKiB) / side.sessions.size();
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QStringList args = app.arguments().mid(1);
    QString jsonPath;
    if (const qsizetype at = args.indexOf(QStringLiteral("--json"));
        at >= 0 && at + 1 < args.size()) {
        jsonPath = args.at(at + 1);
        args.remove(at, 2);
    }
    const bool quick = args.removeAll(QStringLiteral("--quick")) > 0;
    std::vector<int> steps;
    for (const QString &a : args)
        steps.push_back(std::max(1, a.toInt()));
    if (steps.empty())
        steps = quick ? std::vector<int>{1, 10} : std::vector<int>{1, 10, 100, 1000};
    std::sort(steps.begin(), steps.end());

    BouncerFixture fixture;
    if (!fixture.start({QStringLiteral("carol")})) {
        std::fprintf(stderr, "setup failed: %s\n", qPrintable(fixture.errorString()));
        return 2;
    }
    Side xbnc{QStringLiteral("xbnc"),
              [&fixture](int i) {
                  TestClientOptions o = fixture.sessionOptions(QStringLiteral("idle-%1").arg(i));
                  o.sendInitialPresence = false;
                  return o;
              },
              [&fixture] { return fixture.xbnc().processId(); }};
    Side direct{QStringLiteral("direct"),
                [&fixture](int i) {
                    TestClientOptions o = fixture.directOptions(QStringLiteral("carol"),
                                                                QStringLiteral("idle-%1").arg(i));
                    o.sendInitialPresence = false;
                    return o;
                },
                [&fixture] { return fixture.prosody().processId(); }};
    xbnc.baselineKiB = residentKiB(xbnc.pid());
    direct.baselineKiB = residentKiB(direct.pid());
    std::vector<Side *> order{&direct, &xbnc};

    QList<BenchRow> rows;
    std::printf(
        "| N idle TLS sessions | direct (Prosody) KiB/session | xbnc KiB/session | target |\n"
        "|---|---|---|---|\n");
    for (int n : steps) {
        std::reverse(order.begin(), order.end()); // take turns at going first
        for (Side *side : order) {
            QString error;
            if (!growTo(*side, n, &error)) {
                std::fprintf(stderr, "%s: login %zu failed: %s\n", qPrintable(side->name),
                             side->sessions.size(), qPrintable(error));
                return 1;
            }
        }
        BenchRow row;
        row.id = QStringLiteral("B4");
        row.what = QStringLiteral("idle TLS sessions: KiB per session at %1").arg(n);
        row.unit = QStringLiteral("KiB");
        row.direct = kibPerSession(direct);
        row.xbnc = kibPerSession(xbnc);
        row.target = QStringLiteral("≤ 32 KiB");
        row.met = *row.xbnc <= kTargetKiB;
        row.note = QStringLiteral("(RSS at N - RSS before) / N; STARTTLS, SCRAM, bound, "
                                  "no presence");
        std::fprintf(stderr, "N=%d: direct %lld KiB, xbnc %lld KiB resident\n", n,
                     residentKiB(direct.pid()), residentKiB(xbnc.pid()));
        std::printf("| %d | %.1f | %.1f | ≤ %.0f KiB%s |\n", n, *row.direct, *row.xbnc, kTargetKiB,
                    *row.met ? "" : " (not met)");
        std::fflush(stdout);
        rows.append(row);
    }
    if (!jsonPath.isEmpty()) {
        QString error;
        if (!writeBenchRows(jsonPath, QStringLiteral("bench_idle_sessions"), rows, &error)) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 2;
        }
    }
    for (Side *side : order)
        side->sessions.clear();
    return fixture.stopXbnc() ? 0 : 2;
}
