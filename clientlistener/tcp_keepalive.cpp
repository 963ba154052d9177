#include "tcp_keepalive.h"

#include <QAbstractSocket>
#include <QVariant>

#ifdef Q_OS_LINUX
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

namespace xbnc {

namespace {
constexpr int kIdleSeconds = 60;
constexpr int kIntervalSeconds = 10;
constexpr int kProbes = 6;
} // namespace

void enableTcpKeepalive(QAbstractSocket &socket)
{
    socket.setSocketOption(QAbstractSocket::KeepAliveOption, 1);
#ifdef Q_OS_LINUX
    const int descriptor = int(socket.socketDescriptor());
    if (descriptor < 0)
        return;
    // Best effort: without them keepalive still works, only later.
    (void)::setsockopt(descriptor, IPPROTO_TCP, TCP_KEEPIDLE, &kIdleSeconds, sizeof(int));
    (void)::setsockopt(descriptor, IPPROTO_TCP, TCP_KEEPINTVL, &kIntervalSeconds, sizeof(int));
    (void)::setsockopt(descriptor, IPPROTO_TCP, TCP_KEEPCNT, &kProbes, sizeof(int));
#endif
}

} // namespace xbnc
