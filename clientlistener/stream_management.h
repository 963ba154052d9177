#pragma once

#include <QByteArray>
#include <QString>

#include <deque>

namespace xbnc {

// XEP-0198 for one session, without the socket: the counters both ways and the stanzas the
// client has not acknowledged yet, as the bytes that were (or will be) written. This is what
// outlives a connection, so it is a plain value that a resumed connection takes over (and that
// can be stored to resume across a restart).
class StreamManagement
{
public:
    struct Limits
    {
        // Unacknowledged stanzas kept for a resume: beyond either bound the session ends.
        qsizetype maxStanzas = 10000;
        qint64 maxBytes = 8 * 1024 * 1024;
    };

    struct State
    {
        bool enabled = false;
        QString resumeId;               // empty: enabled without resumption
        quint32 handled = 0;            // stanzas received from the client: the h xbnc reports
        quint32 sent = 0;               // stanzas sent to the client, modulo 2^32
        quint32 acked = 0;              // the client's latest h
        std::deque<QByteArray> unacked; // the last (sent - acked) stanzas, oldest first
        qint64 unackedBytes = 0;
        // Stanzas sent since enable without the wrap: unacked[i] is number serial - size + i + 1,
        // which names it in storage (saved sessions only write what they have not written).
        quint64 serial = 0;
    };

    enum class Ack
    {
        Accepted,
        TooHigh // acknowledges stanzas never sent: XEP-0198 §4 undefined-condition
    };

    StreamManagement();
    explicit StreamManagement(Limits limits);
    // Restored from a stored state (or set up for a test).
    StreamManagement(Limits limits, State state);

    void enable(QString resumeId);
    bool isEnabled() const { return state_.enabled; }
    bool isResumable() const { return state_.enabled && !state_.resumeId.isEmpty(); }
    const State &state() const { return state_; }
    const Limits &limits() const { return limits_; }

    void stanzaReceived() { ++state_.handled; }
    quint32 handled() const { return state_.handled; }

    // Counts one stanza sent and keeps its bytes until acknowledged. False once the kept
    // stanzas exceed the limits (they are kept all the same: the caller decides what ends).
    bool stanzaSent(const QByteArray &bytes);
    bool isOverLimits() const;
    // h counts every stanza the client handled since enable, wrapping at 2^32.
    Ack acknowledge(quint32 h);
    qsizetype unackedCount() const { return qsizetype(state_.unacked.size()); }
    // The first acknowledgement after a restart, where `savedSent` was `sent` when the state was
    // saved. After a crash the client may have had more than the save knew of: it has every
    // saved stanza then, and the numbering moves on by what the save missed, so that stanzas
    // sent since the restart stay unacknowledged.
    Ack acknowledgeAfterRestore(quint32 h, quint32 savedSent);
    // Empties the kept stanzas (the session ends for good: they go elsewhere).
    std::deque<QByteArray> takeUnacked();

private:
    Limits limits_;
    State state_;
};

} // namespace xbnc
