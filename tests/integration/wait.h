#pragma once

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QObject>
#include <QTimer>

#include <algorithm>
#include <functional>

// Runs the event loop until predicate() holds or the deadline passes; returns the last value of
// predicate(). For conditions that no signal announces (a port starting to accept connections),
// it re-checks every pollMs while still delivering events to every socket and child process.
bool waitUntil(const std::function<bool()> &predicate, QDeadlineTimer deadline, int pollMs = 10);

// Runs the event loop until `object` emits `signal` or the deadline passes; returns whether the
// signal came. Events of every other object (child process pipes included) are delivered too.
template <typename Object, typename Signal>
bool waitForSignal(Object *object, Signal signal, QDeadlineTimer deadline)
{
    if (deadline.hasExpired())
        return false;
    QEventLoop loop;
    bool fired = false;
    QObject::connect(object, signal, &loop, [&] {
        fired = true;
        loop.quit();
    });
    QTimer timer;
    timer.setSingleShot(true);
    QObject::connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    timer.start(std::max<qint64>(0, deadline.remainingTime()));
    loop.exec();
    return fired;
}
