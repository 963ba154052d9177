#pragma once

#include <QElapsedTimer>
#include <QObject>

class QTimer;

namespace xbnc {

// Notices a bound client that is gone without closing its connection (no FIN: a phone that lost
// its network), before its queue grows: after `idleMs` without a byte from it, pingDue() asks
// the session to ping it; if still nothing arrives within `answerMs`, timedOut().
class IdlePing : public QObject
{
    Q_OBJECT
public:
    IdlePing(int idleMs, int answerMs, QObject *parent);

    void start(); // does nothing when idleMs is 0
    void stop();
    void heardFrom(); // any byte from the client

Q_SIGNALS:
    void pingDue();
    void timedOut();

private:
    void onTimer();

    int idleMs_;
    int answerMs_;
    QTimer *timer_; // child
    QElapsedTimer sinceHeard_;
    bool awaitingAnswer_ = false;
};

} // namespace xbnc
