#include "free_port.h"

#include <QHostAddress>
#include <QTcpServer>

#include <memory>
#include <vector>

QList<quint16> pickFreeLoopbackPorts(int count)
{
    std::vector<std::unique_ptr<QTcpServer>> servers;
    QList<quint16> ports;
    for (int i = 0; i < count; ++i) {
        auto server = std::make_unique<QTcpServer>();
        if (!server->listen(QHostAddress::LocalHost, 0))
            return {};
        ports.append(server->serverPort());
        servers.push_back(std::move(server));
    }
    return ports; // servers close here, releasing the ports for the caller
}
