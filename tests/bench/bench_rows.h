#pragma once

#include <QList>
#include <QString>

#include <optional>

// One row of the side-by-side table (issue #11): a figure measured straight on Prosody and the
// same figure through xbnc, in the same run. Every benchmark program that takes part writes its
// rows with writeBenchRows(); the driver merges the files into one JSON and one Markdown table.
struct BenchRow
{
    QString id;   // the family: "B1" … "B5"
    QString what; // what was measured, with its parameters: "fan-out N=10, 50 msg/s, p50"
    QString unit; // "ms", "msg/s", "KiB", "stanzas", "bytes"…
    std::optional<double> direct; // absent where a figure has no direct counterpart
    std::optional<double> xbnc;
    QString target;          // as the issue states it ("≤ 0.6× direct"); empty when none
    std::optional<bool> met; // whether the target was met; absent without a target
    QString note;            // what limits the figure, or how it was taken
};

// xbnc / direct, when both are there and direct is not zero.
std::optional<double> benchRatio(const BenchRow &row);

// Writes {"benchmark": name, "rows": [...]} to `path`. False with `error` set when it cannot.
bool writeBenchRows(const QString &path, const QString &benchmark, const QList<BenchRow> &rows,
                    QString *error);

// The resident set of a running process in KiB (VmRSS), or -1 when it cannot be read.
qint64 residentKiB(qint64 pid);

// The CPU time a running process has used so far, all its threads, in milliseconds to the
// nanosecond (the scheduler's own count, /proc/<pid>/task/*/schedstat), or -1 when it cannot be
// read.
double cpuMilliseconds(qint64 pid);
