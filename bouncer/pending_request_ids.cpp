#include "pending_request_ids.h"

namespace xbnc {

PendingRequestIds::PendingRequestIds(std::chrono::milliseconds lifetime, std::size_t capacity)
    : lifetime_(lifetime), capacity_(capacity)
{
}

void PendingRequestIds::insert(const std::string &id, Clock::time_point now)
{
    expire(now);
    const Clock::time_point deadline = now + lifetime_;
    deadlines_[id] = deadline;
    order_.emplace_back(deadline, id);
    while (deadlines_.size() > capacity_)
        evictOldest();
}

bool PendingRequestIds::take(const std::string &id, Clock::time_point now)
{
    expire(now);
    return deadlines_.erase(id) > 0;
}

bool PendingRequestIds::contains(const std::string &id, Clock::time_point now)
{
    expire(now);
    return deadlines_.contains(id);
}

std::size_t PendingRequestIds::size(Clock::time_point now)
{
    expire(now);
    return deadlines_.size();
}

void PendingRequestIds::clear()
{
    deadlines_.clear();
    order_.clear();
}

void PendingRequestIds::expire(Clock::time_point now)
{
    while (!order_.empty() && order_.front().first <= now)
        evictOldest();
    // Answered ids leave their entries behind; drop them once they outnumber the live ones.
    if (order_.size() > 2 * deadlines_.size() + 64) {
        std::erase_if(order_, [this](const auto &entry) {
            const auto live = deadlines_.find(entry.second);
            return live == deadlines_.end() || live->second != entry.first;
        });
    }
}

void PendingRequestIds::evictOldest()
{
    const auto &[deadline, id] = order_.front();
    const auto live = deadlines_.find(id);
    if (live != deadlines_.end() && live->second == deadline)
        deadlines_.erase(live);
    order_.pop_front();
}

} // namespace xbnc
