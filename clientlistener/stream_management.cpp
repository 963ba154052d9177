#include "stream_management.h"

namespace xbnc {

StreamManagement::StreamManagement() = default;

StreamManagement::StreamManagement(Limits limits) : limits_(limits)
{
}

StreamManagement::StreamManagement(Limits limits, State state)
    : limits_(limits), state_(std::move(state))
{
}

void StreamManagement::enable(QString resumeId)
{
    state_.enabled = true;
    state_.resumeId = std::move(resumeId);
}

bool StreamManagement::stanzaSent(const QByteArray &bytes)
{
    ++state_.sent; // unsigned: wraps at 2^32 as XEP-0198 §4 asks
    ++state_.serial;
    state_.unacked.push_back(bytes);
    state_.unackedBytes += bytes.size();
    return !isOverLimits();
}

bool StreamManagement::isOverLimits() const
{
    return unackedCount() > limits_.maxStanzas || state_.unackedBytes > limits_.maxBytes;
}

StreamManagement::Ack StreamManagement::acknowledge(quint32 h)
{
    // Both differences are modulo 2^32, so a counter that wrapped compares as it should.
    const quint32 newlyAcked = h - state_.acked;
    const quint32 outstanding = state_.sent - state_.acked;
    if (newlyAcked > outstanding)
        return Ack::TooHigh;
    for (quint32 i = 0; i < newlyAcked; ++i) {
        state_.unackedBytes -= state_.unacked.front().size();
        state_.unacked.pop_front();
    }
    state_.acked = h;
    return Ack::Accepted;
}

StreamManagement::Ack StreamManagement::acknowledgeAfterRestore(quint32 h, quint32 savedSent)
{
    if (h - state_.acked <= savedSent - state_.acked)
        return acknowledge(h); // within what was saved: an acknowledgement like any other
    acknowledge(savedSent);
    const quint32 missed = h - savedSent;
    state_.sent += missed;
    state_.acked = h;
    state_.serial += missed;
    return Ack::Accepted;
}

std::deque<QByteArray> StreamManagement::takeUnacked()
{
    std::deque<QByteArray> taken;
    taken.swap(state_.unacked);
    state_.unackedBytes = 0;
    state_.acked = state_.sent;
    return taken;
}

} // namespace xbnc
