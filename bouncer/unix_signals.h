#pragma once

#include <QObject>

class QSocketNotifier;

namespace xbnc {

// Turns SIGTERM/SIGINT/SIGHUP into Qt signals on the event loop. A signal handler may only do
// async-signal-safe work, so it writes the signal number into a socket pair that the loop reads.
class UnixSignals : public QObject
{
    Q_OBJECT
public:
    explicit UnixSignals(QObject *parent = nullptr);
    ~UnixSignals() override;
    bool install(QString *error);

Q_SIGNALS:
    void terminate();
    void reload();

private:
    void readSignal();
    QSocketNotifier *notifier_ = nullptr;
};

} // namespace xbnc
