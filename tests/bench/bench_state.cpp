// The room state xbnc keeps for the account, against a client straight on Prosody (issue #11):
//   build/tests/bench/bench_state [--quick] [--runs N] [--only B2,B3,B4] [--json FILE]
//       [--memory-rooms N] [--prosody-room-cache N]
// B2 cached join, B3 catch-up after time away, B4 memory held per room and per occupant. Starts
// its own Prosody (with a component that fills rooms with occupants) and xbnc on loopback;
// prints one line per run on stderr and the Markdown table of the medians on stdout. --quick
// runs every family with tiny sizes in a few seconds. Exits non-zero when a measurement failed
// (a join that did not complete, a message lost or doubled), never because a target was missed.
#include "bench_rows.h"
#include "bouncer_fixture.h"
#include "cached_join.h"
#include "catch_up.h"
#include "filler_component.h"
#include "room_memory.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QUuid>

#include <cstdio>

namespace {

// Long enough for any run, and room for every message a resuming phone missed.
constexpr int prosodyHibernationSeconds = 3600;
constexpr int prosodyQueueSize = 5000;
constexpr qsizetype failureChars = 4000;

struct Sizes
{
    int runs = 5;
    QList<int> joinOccupants{100, 1000};
    QList<int> catchUpRooms{1, 10};
    int catchUpMessages = 20;
    int memoryRooms = 1000;
    int occupantsPerRoom = 10;
};

Sizes quickSizes()
{
    return {.runs = 1,
            .joinOccupants = {10},
            .catchUpRooms = {2},
            .catchUpMessages = 3,
            .memoryRooms = 10,
            .occupantsPerRoom = 3};
}

QString cell(const std::optional<double> &value)
{
    return value ? QString::number(*value, 'f', *value < 10 ? 2 : 0) : QStringLiteral("–");
}

void printTable(const QList<BenchRow> &rows)
{
    std::printf("| family | measured | unit | direct | xbnc | xbnc/direct | target | met | note |\n"
                "|---|---|---|---|---|---|---|---|---|\n");
    for (const BenchRow &row : rows) {
        const std::optional<double> ratio = benchRatio(row);
        const QString met = row.met ? (*row.met ? QStringLiteral("yes") : QStringLiteral("no"))
                                    : QStringLiteral("–");
        std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", qPrintable(row.id),
                    qPrintable(row.what), qPrintable(row.unit), qPrintable(cell(row.direct)),
                    qPrintable(cell(row.xbnc)),
                    qPrintable(ratio ? QString::number(*ratio, 'f', 2) + QStringLiteral("×")
                                     : QStringLiteral("–")),
                    qPrintable(row.target.isEmpty() ? QStringLiteral("–") : row.target),
                    qPrintable(met), qPrintable(row.note));
    }
}

bool runFamilies(const Sizes &sizes, const QStringList &only, BouncerFixture &fixture,
                 FillerComponent &fillers, QList<BenchRow> *rows, QString *error)
{
    if (only.contains(QStringLiteral("B2"))) {
        CachedJoin join(fixture, fillers);
        for (int occupants : sizes.joinOccupants)
            if (!join.measure(occupants, sizes.runs, rows, error))
                return false;
    }
    if (only.contains(QStringLiteral("B3"))) {
        CatchUp catchUp(fixture, fillers);
        for (int rooms : sizes.catchUpRooms)
            if (!catchUp.measure(rooms, sizes.catchUpMessages, sizes.runs, rows, error))
                return false;
    }
    if (only.contains(QStringLiteral("B4"))) {
        RoomMemory memory(fixture, fillers);
        if (!memory.measure(sizes.memoryRooms, sizes.occupantsPerRoom, rows, error))
            return false;
    }
    return true;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("B2 cached join, B3 catch-up, B4 room memory"));
    parser.addHelpOption();
    const QCommandLineOption quick(QStringLiteral("quick"),
                                   QStringLiteral("Tiny sizes, one run: a smoke test."));
    const QCommandLineOption runsOption(QStringLiteral("runs"),
                                        QStringLiteral("Measured runs per figure (default 5)."),
                                        QStringLiteral("N"));
    const QCommandLineOption onlyOption(QStringLiteral("only"),
                                        QStringLiteral("Families to run (default B2,B3,B4)."),
                                        QStringLiteral("LIST"), QStringLiteral("B2,B3,B4"));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Also write the rows to FILE."),
                                        QStringLiteral("FILE"));
    const QCommandLineOption roomsOption(QStringLiteral("memory-rooms"),
                                         QStringLiteral("Rooms for B4 (default 1000)."),
                                         QStringLiteral("N"));
    const QCommandLineOption roomCacheOption(
        QStringLiteral("prosody-room-cache"),
        QStringLiteral("Prosody's muc_room_cache_size (default: Prosody's, 100)."),
        QStringLiteral("N"));
    parser.addOptions({quick, runsOption, onlyOption, jsonOption, roomsOption, roomCacheOption});
    parser.process(app);

    Sizes sizes = parser.isSet(quick) ? quickSizes() : Sizes{};
    if (parser.isSet(runsOption))
        sizes.runs = std::max(1, parser.value(runsOption).toInt());
    if (parser.isSet(roomsOption))
        sizes.memoryRooms = std::max(1, parser.value(roomsOption).toInt());
    const QStringList only = parser.value(onlyOption).split(QLatin1Char(','));

    BouncerFixture fixture;
    const QString componentDomain = QStringLiteral("fill.localhost");
    const QString secret = QUuid::createUuid().toString(QUuid::WithoutBraces);
    fixture.prosody().enableComponent(componentDomain, secret);
    fixture.prosody().enableStreamManagement(prosodyHibernationSeconds, prosodyQueueSize);
    if (parser.isSet(roomCacheOption))
        fixture.prosody().setRoomCacheSize(parser.value(roomCacheOption).toInt());
    // Prosody under the load of thousands of occupants answers late; the short test timers
    // would take that for a dead link.
    fixture.xbnc().setFastTimers(false);
    FillerComponent fillers;
    QString error;
    if (!fixture.start({QStringLiteral("bob"), QStringLiteral("carol")})) {
        std::fprintf(stderr, "setup failed: %s\n", qPrintable(fixture.errorString()));
        return 2;
    }
    if (!fillers.connect(fixture.prosody().componentPort(), componentDomain, secret, &error)) {
        std::fprintf(stderr, "setup failed: %s\n", qPrintable(error));
        return 2;
    }

    QList<BenchRow> rows;
    const bool measured = runFamilies(sizes, only, fixture, fillers, &rows, &error);
    if (!measured)
        std::fprintf(stderr, "FAILED: %s\n--- xbnc's output ---\n%s\n",
                     qPrintable(error.left(failureChars)), qPrintable(fixture.xbnc().output()));
    printTable(rows);
    if (parser.isSet(jsonOption) &&
        !writeBenchRows(parser.value(jsonOption), QStringLiteral("bench_state"), rows, &error)) {
        std::fprintf(stderr, "cannot write the JSON rows: %s\n", qPrintable(error));
        return 2;
    }
    if (!fixture.stopXbnc()) {
        std::fprintf(stderr, "xbnc did not stop cleanly: %s\n", qPrintable(fixture.errorString()));
        return 2;
    }
    return measured ? 0 : 1;
}
