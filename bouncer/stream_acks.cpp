#include "stream_acks.h"

#include <iterator>

namespace xbnc {

void StreamAcks::restart(quint32 sentBefore, quint32 handledBefore)
{
    sent_ = sentBefore;
    acked_ = sentBefore;
    handled_ = handledBefore;
    unacked_.clear();
}

void StreamAcks::sent(const Element &stanza)
{
    ++sent_;
    unacked_.push_back(stanza);
}

bool StreamAcks::acknowledged(quint32 h)
{
    // Unsigned differences are right across the wrap at 2^32.
    const quint32 newlyAcked = h - acked_;
    if (newlyAcked > unacked_.size())
        return false;
    unacked_.erase(unacked_.begin(), unacked_.begin() + std::ptrdiff_t(newlyAcked));
    acked_ = h;
    return true;
}

std::vector<Element> StreamAcks::takeUnacknowledged()
{
    std::vector<Element> taken(std::make_move_iterator(unacked_.begin()),
                               std::make_move_iterator(unacked_.end()));
    unacked_.clear();
    acked_ = sent_;
    return taken;
}

} // namespace xbnc
