#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QTcpSocket>

#include <functional>

// Occupants for benchmark rooms without a login each: one XEP-0114 component connection to
// Prosody that joins rooms as f<i>@<its domain>/f with nick f<i>. A thousand occupants cost one
// socket and no TLS. What the rooms send back (every join is broadcast to every occupant, all of
// them on this connection) is only scanned for the id of a barrier, never parsed: a room of N
// fillers sends N²/2 presences here.
class FillerComponent
{
public:
    FillerComponent() = default;
    FillerComponent(const FillerComponent &) = delete;
    FillerComponent &operator=(const FillerComponent &) = delete;

    // Stream header and handshake (SHA-1 of stream id and secret); false with *error if refused.
    bool connect(quint16 port, const QString &domain, const QString &secret, QString *error);

    // f0 creates the room and submits the owner form (an instant room when `config` is empty,
    // else muc#roomconfig fields var → value), then f1 … f<occupants-1> join.
    void createRoom(const QString &room, int occupants,
                    const QList<QPair<QString, QString>> &config = {});
    // f<first> … f<first+count-1> join a room that exists.
    void addOccupants(const QString &room, int first, int count);
    // A groupchat message from f0 (already in the room).
    void sendGroupchat(const QString &room, const QString &id, const QString &body);
    // Returns once Prosody has handled everything sent before (a disco#info round trip to the
    // MUC service, which Prosody answers after the joins before it); false with *error on
    // timeout or if a room refused something with an error meanwhile.
    bool barrier(QString *error);

    qint64 bytesReceived() const { return received_; }

private:
    QString filler(int index) const;
    void send(const QByteArray &xml);
    void scan();
    bool waitFor(const std::function<bool()> &done, int timeoutMs);

    QTcpSocket socket_;
    QString domain_;
    bool handshaking_ = true;
    QByteArray header_;  // what Prosody sent until the handshake was accepted
    QByteArray tail_;    // the end of what was scanned, for a marker split across reads
    QByteArray awaited_; // the marker barrier() waits for
    bool seen_ = false;
    qint64 errors_ = 0; // type='error' stanzas the rooms sent (a refused join, a full room…)
    QByteArray firstError_;
    qint64 received_ = 0;
    int barriers_ = 0;
};
