#include "tcp_relay.h"

#include <QTcpSocket>

#include <sys/socket.h>

namespace {

constexpr qint64 kServerReadBuffer = 64 * 1024;

// close() after SO_LINGER {on, 0} sends a RST instead of a FIN and drops unsent data.
void reset(QTcpSocket *socket)
{
    if (!socket || socket->socketDescriptor() < 0)
        return;
    const linger hard{1, 0};
    ::setsockopt(int(socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    socket->abort();
}

} // namespace

TcpRelay::TcpRelay(QObject *parent) : QObject(parent)
{
    connect(&server_, &QTcpServer::newConnection, this, &TcpRelay::accept);
}

TcpRelay::~TcpRelay()
{
    cut();
}

bool TcpRelay::listen(quint16 targetPort)
{
    targetPort_ = targetPort;
    return server_.listen(QHostAddress::LocalHost, 0);
}

void TcpRelay::accept()
{
    while (QTcpSocket *incoming = server_.nextPendingConnection()) {
        if (refusing_) {
            reset(incoming);
            incoming->deleteLater();
            continue;
        }
        auto pair = std::make_unique<Pair>();
        pair->client.reset(incoming);
        incoming->setParent(nullptr);
        pair->server = std::make_unique<QTcpSocket>();
        // Bounded, so that a stalled relay leaves the server's bytes in the kernel's buffers
        // instead of reading them all into this one.
        pair->server->setReadBufferSize(kServerReadBuffer);
        Pair *p = pair.get();
        QTcpSocket *client = p->client.get();
        QTcpSocket *server = p->server.get();
        connect(client, &QTcpSocket::readyRead, this, [this, client, server] {
            forward(client, server, &forwardedToServer_, &lostToServer_);
        });
        connect(server, &QTcpSocket::readyRead, this, [this, client, server] {
            if (!stalled_)
                forward(server, client, &forwardedToClient_, &lostToClient_);
        });
        // Until the server side is connected, the client's bytes wait in its socket.
        connect(server, &QTcpSocket::connected, this, [this, client, server] {
            forward(client, server, &forwardedToServer_, &lostToServer_);
        });
        connect(client, &QTcpSocket::disconnected, this, [this, p] { close(p); });
        connect(server, &QTcpSocket::disconnected, this, [this, p] { close(p); });
        server->connectToHost(QHostAddress::LocalHost, targetPort_);
        pairs_.push_back(std::move(pair));
        ++relayed_;
    }
}

void TcpRelay::setStalled(bool stalled)
{
    stalled_ = stalled;
    if (!stalled)
        for (const std::unique_ptr<Pair> &pair : pairs_)
            forward(pair->server.get(), pair->client.get(), &forwardedToClient_, &lostToClient_);
}

void TcpRelay::forward(QTcpSocket *from, QTcpSocket *to, qint64 *forwarded, qint64 *lost)
{
    if (to->state() != QAbstractSocket::ConnectedState && !frozen_)
        return;
    const QByteArray bytes = from->readAll();
    if (frozen_)
        *lost += bytes.size();
    else if (const qint64 written = to->write(bytes); written > 0)
        *forwarded += written;
}

void TcpRelay::close(Pair *pair)
{
    // One side ended the connection on its own (a FIN): pass the end on, with what was written.
    for (QTcpSocket *socket : {pair->client.get(), pair->server.get()}) {
        if (socket->state() == QAbstractSocket::ConnectedState)
            socket->disconnectFromHost();
    }
}

void TcpRelay::cut()
{
    for (const std::unique_ptr<Pair> &pair : pairs_) {
        pair->client->disconnect(this);
        pair->server->disconnect(this);
        reset(pair->client.get());
        reset(pair->server.get());
    }
    pairs_.clear();
}
