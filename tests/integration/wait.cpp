#include "wait.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QTimer>

bool waitUntil(const std::function<bool()> &predicate, QDeadlineTimer deadline, int pollMs)
{
    while (!predicate()) {
        if (deadline.hasExpired())
            return predicate();
        QEventLoop loop;
        QTimer::singleShot(std::min<qint64>(pollMs, deadline.remainingTime()), &loop,
                           &QEventLoop::quit);
        loop.exec();
    }
    return true;
}
