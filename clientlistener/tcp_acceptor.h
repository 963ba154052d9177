#pragma once

#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>

#include <chrono>

class QSocketNotifier;
class QTcpServer;
class QTimer;

namespace xbnc {

// A listening port that hands out raw socket descriptors, so that the connection can become a
// TcpTlsSocket, which starts TLS at once or after STARTTLS.
//
// It calls accept() itself instead of leaving that to QTcpServer: when accept() fails for want of
// descriptors (EMFILE, ENFILE), QTcpServer either pauses for good or retries in a tight loop.
// This one logs the failure, waits (growing from `first` to `max`) and tries again, so it serves
// again as soon as descriptors are free.
class TcpAcceptor : public QObject
{
    Q_OBJECT
public:
    struct Backoff
    {
        std::chrono::milliseconds first{100};
        std::chrono::milliseconds max{1000};
    };

    explicit TcpAcceptor(Backoff backoff, QObject *parent = nullptr);
    ~TcpAcceptor() override;

    bool listen(const QHostAddress &address, quint16 port);
    void close();
    bool isListening() const;
    quint16 serverPort() const;
    QString errorString() const;

Q_SIGNALS:
    void accepted(qintptr socketDescriptor, const QHostAddress &peer);
    // accept() failed with this errno; accepting resumes after a growing pause.
    void acceptFailed(int errorNumber);

private:
    void acceptPending();
    void backOff(int errorNumber);
    void warnRateLimited(int errorNumber);

    Backoff backoff_;
    QTcpServer *server_;                 // child: opens the port, never accepts
    QSocketNotifier *notifier_{nullptr}; // child while listening
    QTimer *retryTimer_;                 // child
    std::chrono::milliseconds delay_{0}; // 0 while accept() works
    QElapsedTimer lastWarning_;
    int unreportedFailures_ = 0;
};

} // namespace xbnc
