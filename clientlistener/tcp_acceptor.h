#pragma once

#include <QTcpServer>

namespace xbnc {

// A listening port that hands out raw socket descriptors, so that the connection can become a
// QSslSocket (QSslServer would start TLS at once, which STARTTLS cannot use).
class TcpAcceptor : public QTcpServer
{
    Q_OBJECT
public:
    using QTcpServer::QTcpServer;

Q_SIGNALS:
    void accepted(qintptr socketDescriptor);

protected:
    void incomingConnection(qintptr socketDescriptor) override;
};

} // namespace xbnc
