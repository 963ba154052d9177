#include "idle_ping.h"

#include <QTimer>

namespace xbnc {

IdlePing::IdlePing(int idleMs, int answerMs, QObject *parent)
    : QObject(parent), idleMs_(idleMs), answerMs_(answerMs), timer_(new QTimer(this))
{
    timer_->setSingleShot(true);
    connect(timer_, &QTimer::timeout, this, &IdlePing::onTimer);
}

void IdlePing::start()
{
    if (idleMs_ <= 0)
        return;
    sinceHeard_.start();
    awaitingAnswer_ = false;
    timer_->start(idleMs_);
}

void IdlePing::stop()
{
    timer_->stop();
    sinceHeard_.invalidate();
}

void IdlePing::heardFrom()
{
    // Only a time stamp: restarting a timer on every read would cost more than a busy session
    // needs; onTimer() sees how long it really has been.
    if (!sinceHeard_.isValid())
        return;
    sinceHeard_.start();
    awaitingAnswer_ = false;
}

void IdlePing::onTimer()
{
    if (awaitingAnswer_) { // heardFrom() would have cleared it
        Q_EMIT timedOut();
        return;
    }
    const qint64 silentMs = sinceHeard_.elapsed();
    if (silentMs < idleMs_) {
        timer_->start(int(idleMs_ - silentMs));
        return;
    }
    awaitingAnswer_ = true;
    timer_->start(answerMs_);
    Q_EMIT pingDue();
}

} // namespace xbnc
