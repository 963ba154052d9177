#include "tcp_acceptor.h"

namespace xbnc {

void TcpAcceptor::incomingConnection(qintptr socketDescriptor)
{
    Q_EMIT accepted(socketDescriptor);
}

} // namespace xbnc
