// A phone resuming its session after missing N messages, through xbnc and straight on Prosody
// (mod_smacks), both over STARTTLS on loopback with a byte-counting relay in front of the server:
//   build/tests/bench/bench_resume [RUNS [N...]]        (default: 5 runs of N = 10 100 1000)
// Half of the N missed messages are 1:1 to the phone's account, half go to a room it is in.
// Each (target, N) is measured RUNS times, the targets taking turns; it prints one line per
// run on stderr and a Markdown table of the medians on stdout. It exits non-zero when a resume
// failed or the phone lost, doubled or reordered a message.
#include "bouncer_fixture.h"
#include "resume_run.h"
#include "resume_target.h"
#include "tcp_relay.h"

#include <QCoreApplication>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <vector>

namespace {

// Long enough for any run, and room for N = 1000 unacknowledged stanzas (Prosody's default
// queue of 500 would end the session instead).
constexpr int prosodyHibernationSeconds = 3600;
constexpr int prosodyQueueSize = 5000;

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double medianOf(const std::vector<ResumeCost> &costs,
                const std::function<double(const ResumeCost &)> &field)
{
    std::vector<double> values;
    for (const ResumeCost &c : costs)
        values.push_back(field(c));
    return median(values);
}

void printRun(const QString &target, int missed, int run, const ResumeCost &c)
{
    std::fprintf(stderr,
                 "%-8s N=%-5d run %d: %d round trips, %d <r/>, %lld stanzas, %lld elements, "
                 "%lld B in (%lld B XML), %lld B out, current after %.1f ms\n",
                 qPrintable(target), missed, run, c.roundTrips, c.ackRequests, c.stanzas,
                 c.elements, c.wireIn, c.xmlIn, c.wireOut, c.msToCurrent);
}

void printTable(const std::map<std::pair<int, QString>, std::vector<ResumeCost>> &results)
{
    std::printf("| target | N missed | round trips | stanzas in | bytes in (XML inside TLS) "
                "| bytes out | ms until current |\n"
                "|---|---|---|---|---|---|---|\n");
    for (const auto &[key, costs] : results) {
        const auto m = [&costs](auto field) { return medianOf(costs, field); };
        std::printf("| %s | %d | %.0f | %.0f | %.0f (%.0f) | %.0f | %.1f |\n",
                    qPrintable(key.second), key.first,
                    m([](const ResumeCost &c) { return double(c.roundTrips); }),
                    m([](const ResumeCost &c) { return double(c.stanzas); }),
                    m([](const ResumeCost &c) { return double(c.wireIn); }),
                    m([](const ResumeCost &c) { return double(c.xmlIn); }),
                    m([](const ResumeCost &c) { return double(c.wireOut); }),
                    m([](const ResumeCost &c) { return c.msToCurrent; }));
    }
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments().mid(1);
    const int runs = args.isEmpty() ? 5 : std::max(1, args.first().toInt());
    std::vector<int> sizes;
    for (const QString &a : args.mid(1))
        sizes.push_back(std::max(2, a.toInt() / 2 * 2));
    if (sizes.empty())
        sizes = {10, 100, 1000};

    BouncerFixture fixture;
    fixture.prosody().enableStreamManagement(prosodyHibernationSeconds, prosodyQueueSize);
    TcpRelay toXbnc, toProsody;
    TestClient *bob = nullptr;
    if (!fixture.start({QStringLiteral("bob"), QStringLiteral("carol")}) ||
        !toXbnc.listen(fixture.xbnc().port()) || !toProsody.listen(fixture.prosody().c2sPort()) ||
        !(bob = fixture.direct(QStringLiteral("bob")))) {
        std::fprintf(stderr, "setup failed: %s\n", qPrintable(fixture.errorString()));
        return 2;
    }
    XbncTarget xbnc(fixture, &toXbnc);
    ProsodyTarget prosody(fixture, &toProsody);
    std::vector<ResumeTarget *> targets{&prosody, &xbnc};

    std::map<std::pair<int, QString>, std::vector<ResumeCost>> results;
    int failures = 0;
    // Run 0 warms both paths up (first room, first login) and is not counted.
    for (int run = 0; run <= runs; ++run) {
        for (int missed : sizes) {
            if (run == 0 && missed != sizes.front())
                continue;
            std::reverse(targets.begin(), targets.end()); // take turns at going first
            for (ResumeTarget *target : targets) {
                ResumeRun measurement(*target, *bob, run, missed);
                if (!measurement.run()) {
                    std::fprintf(stderr, "FAILED %s\n", qPrintable(measurement.errorString()));
                    ++failures;
                    continue;
                }
                if (measurement.replayedOnLogin() > 0)
                    std::fprintf(stderr, "%s: the fresh login got %d old 1:1 messages again\n",
                                 qPrintable(target->name()), measurement.replayedOnLogin());
                printRun(target->name(), missed, run, measurement.cost());
                if (run > 0)
                    results[{missed, target->name()}].push_back(measurement.cost());
            }
        }
    }
    printTable(results);
    if (!fixture.stopXbnc()) {
        std::fprintf(stderr, "xbnc did not stop cleanly: %s\n", qPrintable(fixture.errorString()));
        return 2;
    }
    return failures == 0 ? 0 : 1;
}
