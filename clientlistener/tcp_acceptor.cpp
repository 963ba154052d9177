#include "tcp_acceptor.h"

#include <QLoggingCategory>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTimer>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/socket.h>

Q_LOGGING_CATEGORY(lcAcceptor, "xbnc.listener.accept")

namespace xbnc {

namespace {

// Qt's default of 50 is too short for a burst of connections: with SYN cookies on, a client whose
// handshake completes while the queue is full believes it is connected, yet the kernel holds no
// trace of it, so no accept() and no deadline ever reaches it.
constexpr int kListenBacklog = 1024;
// Other sockets get their turn between batches.
constexpr int kAcceptsPerWakeup = 64;
constexpr qint64 kWarningIntervalMs = 10 * 1000;

// Errors accept() reports for a connection that died in the queue: the next one may be fine.
bool concernsOnlyThatConnection(int errorNumber)
{
    switch (errorNumber) {
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case EPERM: // a firewall rule refused it
        return true;
    default:
        return false;
    }
}

} // namespace

TcpAcceptor::TcpAcceptor(Backoff backoff, QObject *parent)
    : QObject(parent), backoff_(backoff), server_(new QTcpServer(this)),
      retryTimer_(new QTimer(this))
{
    server_->setListenBacklogSize(kListenBacklog);
    retryTimer_->setSingleShot(true);
    connect(retryTimer_, &QTimer::timeout, this, [this] {
        notifier_->setEnabled(true);
        acceptPending();
    });
}

TcpAcceptor::~TcpAcceptor()
{
    close();
}

bool TcpAcceptor::listen(const QHostAddress &address, quint16 port)
{
    if (!server_->listen(address, port))
        return false;
    server_->pauseAccepting(); // from now on the descriptor is ours to accept on
    notifier_ = new QSocketNotifier(server_->socketDescriptor(), QSocketNotifier::Read, this);
    connect(notifier_, &QSocketNotifier::activated, this, &TcpAcceptor::acceptPending);
    return true;
}

void TcpAcceptor::close()
{
    retryTimer_->stop();
    delete notifier_; // before the descriptor it watches is closed
    notifier_ = nullptr;
    server_->close();
}

bool TcpAcceptor::isListening() const
{
    return server_->isListening();
}

quint16 TcpAcceptor::serverPort() const
{
    return server_->serverPort();
}

QString TcpAcceptor::errorString() const
{
    return server_->errorString();
}

void TcpAcceptor::acceptPending()
{
    for (int i = 0; i < kAcceptsPerWakeup && notifier_; ++i) {
        sockaddr_storage peer{};
        socklen_t peerLength = sizeof(peer);
        const int descriptor =
            ::accept4(int(server_->socketDescriptor()), reinterpret_cast<sockaddr *>(&peer),
                      &peerLength, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (descriptor >= 0) {
            delay_ = std::chrono::milliseconds(0);
            Q_EMIT accepted(descriptor, QHostAddress(reinterpret_cast<const sockaddr *>(&peer)));
            continue;
        }
        const int errorNumber = errno;
        if (errorNumber == EAGAIN || errorNumber == EWOULDBLOCK)
            return;
        if (!concernsOnlyThatConnection(errorNumber)) {
            backOff(errorNumber);
            return;
        }
    }
}

void TcpAcceptor::backOff(int errorNumber)
{
    delay_ = delay_.count() == 0 ? backoff_.first : std::min(delay_ * 2, backoff_.max);
    notifier_->setEnabled(false);
    retryTimer_->start(delay_);
    warnRateLimited(errorNumber);
    Q_EMIT acceptFailed(errorNumber);
}

void TcpAcceptor::warnRateLimited(int errorNumber)
{
    ++unreportedFailures_;
    if (lastWarning_.isValid() && lastWarning_.elapsed() < kWarningIntervalMs)
        return;
    qCWarning(lcAcceptor).nospace()
        << "port " << server_->serverPort() << ": accept() failed: " << std::strerror(errorNumber)
        << " (" << unreportedFailures_ << " time(s) since the last warning); retrying in "
        << delay_.count() << " ms";
    unreportedFailures_ = 0;
    lastWarning_.start();
}

} // namespace xbnc
