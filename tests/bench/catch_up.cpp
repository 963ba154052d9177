#include "catch_up.h"

#include "bench_median.h"
#include "bouncer_fixture.h"
#include "filler_component.h"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace {

QString wayName(CatchUpRun::Way way)
{
    return way == CatchUpRun::Way::Resume ? QStringLiteral("resume") : QStringLiteral("rejoin");
}

} // namespace

CatchUp::CatchUp(BouncerFixture &fixture, FillerComponent &fillers)
    : fixture_(fixture), fillers_(fillers)
{
}

CatchUp::~CatchUp() = default;

bool CatchUp::prepare(QString *error)
{
    if (xbnc_)
        return true;
    if (!toXbnc_.listen(fixture_.xbnc().port()) ||
        !toProsody_.listen(fixture_.prosody().c2sPort())) {
        *error = QStringLiteral("cannot listen for the byte-counting relays");
        return false;
    }
    observer_ = fixture_.session(QStringLiteral("observer"));
    if (!observer_) {
        *error = fixture_.errorString();
        return false;
    }
    xbnc_ = std::make_unique<XbncTarget>(fixture_, &toXbnc_);
    prosody_ = std::make_unique<ProsodyTarget>(fixture_, &toProsody_);
    return true;
}

QStringList CatchUp::freshRooms(const QString &tag, int count, int messages)
{
    // Prosody keeps 20 messages of history unless the room asks for more; one more for the
    // message read before going away.
    const QString length = QString::number(std::max(20, messages + 1));
    QStringList rooms;
    for (int j = 0; j < count; ++j) {
        rooms.append(QStringLiteral("%1-%2@conference.localhost").arg(tag).arg(j));
        fillers_.createRoom(rooms.last(), 1,
                            {{QStringLiteral("muc#roomconfig_historylength"), length}});
    }
    return rooms;
}

bool CatchUp::measure(int rooms, int messages, int runs, QList<BenchRow> *rows, QString *error)
{
    if (!prepare(error))
        return false;
    costs_.clear();
    std::vector<Path> paths{{prosody_.get(), CatchUpRun::Way::Rejoin},
                            {xbnc_.get(), CatchUpRun::Way::Resume},
                            {prosody_.get(), CatchUpRun::Way::Resume},
                            {xbnc_.get(), CatchUpRun::Way::Rejoin}};
    for (int run = 0; run <= runs; ++run) {
        std::rotate(paths.begin(), paths.begin() + 1, paths.end()); // take turns at going first
        for (const Path &path : paths) {
            const QString tag = QStringLiteral("b3-%1-%2-k%3-m%4-%5")
                                    .arg(path.target->name(), wayName(path.way))
                                    .arg(rooms)
                                    .arg(messages)
                                    .arg(run);
            const QStringList roomList = freshRooms(tag, rooms, messages);
            if (!fillers_.barrier(error))
                return false;
            TestClient *observer = path.target == xbnc_.get() ? observer_ : nullptr;
            CatchUpRun measurement(*path.target, fillers_, observer, path.way, roomList, messages,
                                   tag);
            if (!measurement.run()) {
                *error = measurement.errorString();
                return false;
            }
            const CatchUpCost &c = measurement.cost();
            std::fprintf(stderr,
                         "B3 %-7s %-6s K=%d M=%d run %d: %lld stanzas, %lld B on the wire "
                         "(%lld B XML), current after %.1f ms\n",
                         qPrintable(path.target->name()), qPrintable(wayName(path.way)), rooms,
                         messages, run, c.stanzas, c.wireIn, c.xmlIn, c.msToCurrent);
            if (run > 0)
                costs_[{path.target->name(), path.way}].push_back(c);
        }
    }
    appendRows(rooms, messages, runs, rows);
    return true;
}

void CatchUp::appendRows(int rooms, int messages, int runs, QList<BenchRow> *rows) const
{
    const struct
    {
        const char *what;
        const char *unit;
        std::function<double(const CatchUpCost &)> field;
    } figures[] = {
        {"ms until current", "ms", [](const CatchUpCost &c) { return c.msToCurrent; }},
        {"stanzas until current", "stanzas",
         [](const CatchUpCost &c) { return double(c.stanzas); }},
        {"bytes until current", "bytes", [](const CatchUpCost &c) { return double(c.wireIn); }},
    };
    for (CatchUpRun::Way way : {CatchUpRun::Way::Resume, CatchUpRun::Way::Rejoin}) {
        const auto &direct = costs_.at({prosody_->name(), way});
        const auto &through = costs_.at({xbnc_->name(), way});
        for (const auto &figure : figures)
            rows->append(
                {QStringLiteral("B3"),
                 QStringLiteral("catch-up by %1, %2 rooms × %3 missed: %4")
                     .arg(way == CatchUpRun::Way::Resume ? QStringLiteral("SM resume")
                                                         : QStringLiteral("login + rejoin"))
                     .arg(rooms)
                     .arg(messages)
                     .arg(QLatin1String(figure.what)),
                 QLatin1String(figure.unit),
                 medianOf(direct, figure.field),
                 medianOf(through, figure.field),
                 {},
                 std::nullopt,
                 QStringLiteral("median of %1 runs; from the first byte of the new connection; "
                                "bytes on the wire, TLS included")
                     .arg(runs)});
    }
}
