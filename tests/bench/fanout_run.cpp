#include "fanout_run.h"

#include "tcp_relay.h"
#include "wait.h"

#include <QTimer>

#include <algorithm>
#include <cmath>

namespace {

constexpr int joinTimeoutMs = 60000;
// Logins in flight at once: xbnc bounds the connections of one address that are not logged in.
constexpr int loginsInFlight = 4;
constexpr int backlogTimeoutMs = 120000;

bool waitJoined(const LoadSession &session, QDeadlineTimer deadline, QString *error)
{
    if (!waitUntil([&] { return session.isJoined() || session.hasFailed(); }, deadline) ||
        session.hasFailed()) {
        *error = session.hasFailed() ? session.errorString()
                                     : QStringLiteral("timed out joining the room");
        return false;
    }
    return true;
}

LoadSession::Options withResource(LoadSession::Options options, const QString &resource)
{
    options.resource = resource;
    return options;
}

double percentile(const std::vector<double> &sorted, double fraction)
{
    if (sorted.empty())
        return 0;
    const auto rank = std::size_t(std::ceil(fraction * double(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

} // namespace

bool FanOutSide::join(int n, QString *error)
{
    const QDeadlineTimer deadline(joinTimeoutMs);
    if (!senderSession) {
        senderSession = std::make_unique<LoadSession>(sender);
        senderSession->start();
        if (!waitJoined(*senderSession, deadline, error))
            return false;
    }
    const std::size_t first = receivers.size();
    for (int i = 0; i < n; ++i) {
        receivers.push_back(std::make_unique<LoadSession>(
            withResource(receiver, QStringLiteral("%1-%2").arg(name).arg(i))));
        receivers.back()->start();
        if (i >= loginsInFlight - 1 &&
            !waitJoined(*receivers[first + std::size_t(i - loginsInFlight + 1)], deadline, error))
            return false;
    }
    for (std::size_t i = first; i < receivers.size(); ++i) {
        if (!waitJoined(*receivers[i], deadline, error))
            return false;
    }
    return true;
}

void FanOutSide::leave()
{
    for (const auto &session : receivers)
        session->leaveAndClose();
    // The leaves must reach the server before the sessions and their sockets go.
    waitUntil(
        [this] {
            return std::all_of(receivers.begin(), receivers.end(),
                               [](const auto &session) { return session->hasClosed(); });
        },
        QDeadlineTimer(joinTimeoutMs));
    receivers.clear();
}

FanOutResult runFanOut(FanOutSide &side, double rate, qint64 count, int drainMs)
{
    FanOutResult result;
    result.sessions = int(side.receivers.size());
    const qint64 first = side.nextSequence;
    side.nextSequence += count;
    std::vector<qint64> receivedBefore;
    for (const auto &session : side.receivers) {
        session->takeArrivals();
        session->expectFrom(first);
        receivedBefore.push_back(session->messagesReceived());
        result.clientBytes -= session->bytesReceived();
    }
    side.senderSession->takeArrivals();
    const qint64 serverBytesBefore = side.relay ? side.relay->forwardedToClient() : 0;
    const qint64 outOfOrderBefore = [&] {
        qint64 total = 0;
        for (const auto &session : side.receivers)
            total += session->outOfOrder();
        return total;
    }();

    // The sender keeps to the rate on average: each tick sends what is due by then.
    const LoadSession::Clock::time_point start = LoadSession::Clock::now();
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    QObject::connect(&tick, &QTimer::timeout, [&] {
        const double elapsed =
            std::chrono::duration<double>(LoadSession::Clock::now() - start).count();
        const qint64 due = std::min(count, qint64(elapsed * rate) + 1);
        while (result.sent < due)
            side.senderSession->sendToRoom(first + result.sent++);
        if (result.sent == count)
            tick.stop();
    });
    tick.start(2);
    const qint64 sendMs = qint64(1000.0 * double(count) / rate);
    waitUntil([&] { return result.sent == count; }, QDeadlineTimer(sendMs + 30000), 1);
    tick.stop();
    const auto everyoneHasAll = [&] {
        for (std::size_t i = 0; i < side.receivers.size(); ++i) {
            if (side.receivers[i]->messagesReceived() - receivedBefore[i] < count)
                return false;
        }
        return true;
    };
    waitUntil(everyoneHasAll, QDeadlineTimer(drainMs), 1);

    std::vector<double> latencies;
    for (const auto &session : side.receivers) {
        for (const LoadSession::Arrival &arrival : session->takeArrivals())
            latencies.push_back(std::chrono::duration<double, std::milli>(arrival.latency).count());
        result.outOfOrder += session->outOfOrder();
        result.clientBytes += session->bytesReceived();
    }
    result.outOfOrder -= outOfOrderBefore;
    side.senderSession->takeArrivals();
    result.delivered = qint64(latencies.size());
    result.lost = std::max<qint64>(0, result.sent * result.sessions - result.delivered);
    // A message still missing counts as slower than any that arrived.
    const double missing = double(sendMs + drainMs);
    latencies.insert(latencies.end(), std::size_t(result.lost), missing);
    std::sort(latencies.begin(), latencies.end());
    result.p50Ms = percentile(latencies, 0.50);
    result.p99Ms = percentile(latencies, 0.99);
    if (side.relay)
        result.serverBytes = side.relay->forwardedToClient() - serverBytesBefore;
    // An overloaded step leaves a backlog behind; it must not reach the next step's figures.
    waitUntil(everyoneHasAll, QDeadlineTimer(backlogTimeoutMs), 10);
    for (const auto &session : side.receivers)
        session->takeArrivals();
    return result;
}
