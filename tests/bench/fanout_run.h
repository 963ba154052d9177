#pragma once

#include "load_session.h"

#include <QString>

#include <memory>
#include <vector>

class TcpRelay;

// One side of the fan-out comparison: N receiving sessions in one room (through xbnc, or
// straight on Prosody), the sender that writes to that room, and the relay that counts the
// bytes the server sent towards the receivers (xbnc's upstream, or the direct clients').
struct FanOutSide
{
    QString name;                  // "direct" or "xbnc"
    LoadSession::Options receiver; // resource and nick are filled in per session
    LoadSession::Options sender;
    TcpRelay *relay = nullptr;
    // The server-side full JIDs that carry the receivers' traffic ("alice@localhost/": xbnc's
    // upstream), for ServerStanzaCounts.
    QString serverJidPrefix;
    std::vector<std::unique_ptr<LoadSession>> receivers;
    std::unique_ptr<LoadSession> senderSession;
    qint64 nextSequence = 0; // of the sender's messages, counting up across runs

    // Logs the sender in (once) and n receivers, a few at a time, and joins them all to the
    // room; false with *error on a failure or after the deadline.
    bool join(int n, QString *error);
    // Every receiver leaves the room explicitly and closes; the sender stays.
    void leave();
};

// What one burst of messages cost, measured on the receivers.
struct FanOutResult
{
    int sessions = 0;
    qint64 sent = 0;
    qint64 delivered = 0;  // arrivals counted over all receivers
    qint64 lost = 0;       // sent × sessions − delivered, once the drain time is over
    qint64 outOfOrder = 0; // arrivals with a gap or out of order
    double p50Ms = 0;
    double p99Ms = 0;       // a lost message counts as the worst latency
    qint64 serverBytes = 0; // what the relay passed from the server towards the receivers
    qint64 clientBytes = 0; // decrypted XML the receivers read

    bool clean() const { return lost == 0 && outOfOrder == 0; }
};

// Sends `count` messages at `rate` per second to the side's room and waits until every
// receiver has every one, or `drainMs` after the last send.
FanOutResult runFanOut(FanOutSide &side, double rate, qint64 count, int drainMs);
