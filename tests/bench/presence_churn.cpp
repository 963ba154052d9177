#include "presence_churn.h"

#include "muc_helpers.h"
#include "wait.h"

#include <QElapsedTimer>
#include <QStringList>

#include <memory>
#include <vector>

namespace {

// Counts unchanged for this long end a phase; generous against a busy machine.
constexpr int quietMs = 1500;
constexpr int pollMs = 100;
constexpr int settleTimeoutMs = 30000;

// The presence counted on the user's server-side sessions and the peer's.
using Watched = std::pair<std::map<QString, qint64>, std::map<QString, qint64>>;

Watched watched(const ServerStanzaCounts &counts, const PresenceChurnSide &side,
                const QString &peerJid)
{
    return {counts.byKey(side.upstreamJidPrefix, u"in presence"),
            counts.byKey(peerJid, u"out presence")};
}

// The counts once the watched presence has not changed for quietMs (other stanzas go on: xbnc
// pings its rooms); nullopt when they never settle.
std::optional<ServerStanzaCounts> settledCounts(TestClient &counter, const PresenceChurnSide &side,
                                                const QString &peerJid, QString *error)
{
    std::optional<ServerStanzaCounts> last = ServerStanzaCounts::read(counter, error);
    QElapsedTimer unchanged;
    unchanged.start();
    const QDeadlineTimer deadline(settleTimeoutMs);
    while (last && unchanged.elapsed() < quietMs) {
        if (deadline.hasExpired()) {
            *error = QStringLiteral("presence counts kept changing");
            return std::nullopt;
        }
        waitUntil([] { return false; }, QDeadlineTimer(pollMs)); // a pause serving every socket
        std::optional<ServerStanzaCounts> now = ServerStanzaCounts::read(counter, error);
        if (now && watched(*now, side, peerJid) != watched(*last, side, peerJid))
            unchanged.restart();
        last = std::move(now);
    }
    return last;
}

} // namespace

std::optional<PresenceChurnCounts> runPresenceChurn(const PresenceChurnSide &side, int n,
                                                    SessionLeave leave, TestClient &counter,
                                                    const QString &peerJid, QString *error)
{
    const std::optional<ServerStanzaCounts> before = settledCounts(counter, side, peerJid, error);
    if (!before)
        return std::nullopt;
    std::vector<std::unique_ptr<TestClient>> sessions;
    for (int i = 0; i < n; ++i) {
        TestClientOptions options = side.session;
        options.resource = QStringLiteral("churn-%1").arg(i);
        sessions.push_back(std::make_unique<TestClient>(side.name + options.resource));
        if (!sessions.back()->login(options)) {
            *error = sessions.back()->errorString();
            return std::nullopt;
        }
        if (!muc::join(*sessions.back(), side.occupantJid, error))
            return std::nullopt;
    }
    const std::optional<ServerStanzaCounts> connected =
        settledCounts(counter, side, peerJid, error);
    if (!connected)
        return std::nullopt;
    for (const auto &session : sessions) {
        if (leave == SessionLeave::CloseStream)
            session->disconnectFromServer();
        else
            session->abortConnection();
    }
    const std::optional<ServerStanzaCounts> gone = settledCounts(counter, side, peerJid, error);
    if (!gone)
        return std::nullopt;
    const QString upstream = side.upstreamJidPrefix;
    return PresenceChurnCounts{countsAdded(*before, *connected, upstream, u"in presence"),
                               countsAdded(*connected, *gone, upstream, u"in presence"),
                               countsAdded(*before, *connected, peerJid, u"out presence"),
                               countsAdded(*connected, *gone, peerJid, u"out presence")};
}

qint64 total(const std::map<QString, qint64> &counts)
{
    qint64 sum = 0;
    for (const auto &[key, n] : counts)
        sum += n;
    return sum;
}

QString describeCounts(const std::map<QString, qint64> &counts)
{
    QStringList parts;
    for (const auto &[key, n] : counts)
        parts.append(QStringLiteral("%1: %2").arg(key).arg(n));
    return parts.isEmpty() ? QStringLiteral("0")
                           : QStringLiteral("%1 (%2)").arg(total(counts)).arg(parts.join(u", "));
}
