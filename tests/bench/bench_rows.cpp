#include "bench_rows.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace {

QJsonValue optionalNumber(const std::optional<double> &value)
{
    return value ? QJsonValue(*value) : QJsonValue(QJsonValue::Null);
}

} // namespace

std::optional<double> benchRatio(const BenchRow &row)
{
    if (!row.direct || !row.xbnc || *row.direct == 0)
        return std::nullopt;
    return *row.xbnc / *row.direct;
}

bool writeBenchRows(const QString &path, const QString &benchmark, const QList<BenchRow> &rows,
                    QString *error)
{
    QJsonArray array;
    for (const BenchRow &row : rows) {
        array.append(QJsonObject{
            {QStringLiteral("id"), row.id},
            {QStringLiteral("what"), row.what},
            {QStringLiteral("unit"), row.unit},
            {QStringLiteral("direct"), optionalNumber(row.direct)},
            {QStringLiteral("xbnc"), optionalNumber(row.xbnc)},
            {QStringLiteral("ratio"), optionalNumber(benchRatio(row))},
            {QStringLiteral("target"), row.target},
            {QStringLiteral("met"), row.met ? QJsonValue(*row.met) : QJsonValue(QJsonValue::Null)},
            {QStringLiteral("note"), row.note},
        });
    }
    const QJsonObject document{{QStringLiteral("benchmark"), benchmark},
                               {QStringLiteral("rows"), array}};
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
        file.write(QJsonDocument(document).toJson()) < 0 || !file.flush()) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

qint64 residentKiB(qint64 pid)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    // Not readLine() in a loop over atEnd(): /proc files report no size.
    const QList<QByteArray> lines = status.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (!line.startsWith("VmRSS:"))
            continue;
        bool ok = false;
        const qint64 kib = line.mid(6).trimmed().split(' ').value(0).toLongLong(&ok);
        return ok ? kib : -1;
    }
    return -1;
}

double cpuMilliseconds(qint64 pid)
{
    const QDir tasks(QStringLiteral("/proc/%1/task").arg(pid));
    const QStringList threads = tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    if (threads.isEmpty())
        return -1;
    qint64 nanoseconds = 0;
    for (const QString &thread : threads) {
        QFile schedstat(tasks.filePath(thread + QStringLiteral("/schedstat")));
        if (!schedstat.open(QIODevice::ReadOnly))
            continue; // the thread ended meanwhile
        // The first field: time spent on a CPU, in nanoseconds.
        bool ok = false;
        const qint64 onCpu = schedstat.readAll().split(' ').value(0).toLongLong(&ok);
        if (ok)
            nanoseconds += onCpu;
    }
    return double(nanoseconds) / 1e6;
}
