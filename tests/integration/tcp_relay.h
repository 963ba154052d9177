#pragma once

#include <QByteArray>
#include <QObject>
#include <QTcpServer>

#include <memory>
#include <vector>

class QTcpSocket;

// A TCP relay on 127.0.0.1 in front of a server port, which a test can break the way a network
// does. Bytes are forwarded unchanged (TLS passes through). cut() resets every relayed
// connection on both sides at once — a RST, no FIN: neither end gets a </stream:stream> or
// anything still in flight. While frozen, bytes are read and thrown away in both directions, as
// by a link that went dead without telling; while stalled, nothing is read from the server, so
// what it sends piles up in its socket buffers, as behind a client that stopped reading; while
// refusing, new connections are reset at once.
class TcpRelay : public QObject
{
    Q_OBJECT
public:
    explicit TcpRelay(QObject *parent = nullptr);
    ~TcpRelay() override;

    bool listen(quint16 targetPort); // on a loopback port of the system's choosing
    quint16 port() const { return server_.serverPort(); }

    void cut();
    void setFrozen(bool frozen) { frozen_ = frozen; }
    void setStalled(bool stalled);
    void setRefusing(bool refusing) { refusing_ = refusing; }
    // Bytes thrown away while frozen, client to server and back.
    qint64 lostToServer() const { return lostToServer_; }
    qint64 lostToClient() const { return lostToClient_; }
    int connectionsRelayed() const { return relayed_; }
    // Bytes passed on so far, client to server and back: what the connections cost on the wire,
    // TLS records included (TCP/IP headers not).
    qint64 forwardedToServer() const { return forwardedToServer_; }
    qint64 forwardedToClient() const { return forwardedToClient_; }

private:
    struct Pair
    {
        std::unique_ptr<QTcpSocket> client;
        std::unique_ptr<QTcpSocket> server;
    };

    void accept();
    void forward(QTcpSocket *from, QTcpSocket *to, qint64 *forwarded, qint64 *lost);
    void close(Pair *pair);

    QTcpServer server_;
    quint16 targetPort_ = 0;
    std::vector<std::unique_ptr<Pair>> pairs_;
    bool frozen_ = false;
    bool stalled_ = false;
    bool refusing_ = false;
    qint64 lostToServer_ = 0;
    qint64 lostToClient_ = 0;
    qint64 forwardedToServer_ = 0;
    qint64 forwardedToClient_ = 0;
    int relayed_ = 0;
};
