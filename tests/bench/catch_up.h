#pragma once

#include "bench_rows.h"
#include "catch_up_run.h"
#include "resume_target.h"
#include "tcp_relay.h"

#include <QList>
#include <QString>

#include <map>
#include <memory>
#include <vector>

class BouncerFixture;
class FillerComponent;

// B3 (issue #11): what it costs a client to become current again after K rooms got M messages
// each while it was away, through xbnc and straight on Prosody, both by XEP-0198 resumption and
// by a fresh login that rejoins with history (see CatchUpRun). The four ways take turns at going
// first; each run uses fresh rooms; a warm-up run is not counted.
class CatchUp
{
public:
    CatchUp(BouncerFixture &fixture, FillerComponent &fillers);
    ~CatchUp();

    bool measure(int rooms, int messages, int runs, QList<BenchRow> *rows, QString *error);

private:
    struct Path
    {
        ResumeTarget *target;
        CatchUpRun::Way way;
    };

    bool prepare(QString *error);
    QStringList freshRooms(const QString &tag, int count, int messages);
    void appendRows(int rooms, int messages, int runs, QList<BenchRow> *rows) const;

    BouncerFixture &fixture_;
    FillerComponent &fillers_;
    TcpRelay toXbnc_;
    TcpRelay toProsody_;
    std::unique_ptr<XbncTarget> xbnc_;
    std::unique_ptr<ProsodyTarget> prosody_;
    TestClient *observer_ = nullptr;
    // (target name, way) → one cost per measured run
    std::map<std::pair<QString, CatchUpRun::Way>, std::vector<CatchUpCost>> costs_;
};
