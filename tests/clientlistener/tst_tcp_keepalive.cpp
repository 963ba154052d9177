#include "tcp_keepalive.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

using namespace xbnc;

namespace {

int option(const QAbstractSocket &socket, int level, int name)
{
    int value = -1;
    socklen_t length = sizeof(value);
    if (::getsockopt(int(socket.socketDescriptor()), level, name, &value, &length) != 0)
        return -1;
    return value;
}

} // namespace

class TestTcpKeepalive : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void deadPeerFoundWithinAboutTwoMinutes()
    {
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
        QVERIFY(socket.waitForConnected(5000));
        QCOMPARE(option(socket, SOL_SOCKET, SO_KEEPALIVE), 0);

        enableTcpKeepalive(socket);
        QCOMPARE(option(socket, SOL_SOCKET, SO_KEEPALIVE), 1);
        const int idle = option(socket, IPPROTO_TCP, TCP_KEEPIDLE);
        const int interval = option(socket, IPPROTO_TCP, TCP_KEEPINTVL);
        const int probes = option(socket, IPPROTO_TCP, TCP_KEEPCNT);
        QCOMPARE(idle + interval * probes, 120);
    }
};

QTEST_GUILESS_MAIN(TestTcpKeepalive)
#include "tst_tcp_keepalive.moc"
