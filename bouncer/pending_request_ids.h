#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

namespace xbnc {

// The ids of the hub's IQ requests that wait for an answer upstream, each for a limited time and
// at most `capacity` of them, so that requests nobody answers cannot pile up for the life of the
// connection. The lifetime is meant to be longer than the hub's own IqRouter deadline: the hub
// decides when a session is told "timeout", and an answer that comes later has nobody to go to.
class PendingRequestIds
{
public:
    using Clock = std::chrono::steady_clock;

    PendingRequestIds(std::chrono::milliseconds lifetime, std::size_t capacity);

    void insert(const std::string &id, Clock::time_point now);
    // True when `id` was pending and had not expired; it is pending no more.
    bool take(const std::string &id, Clock::time_point now);
    bool contains(const std::string &id, Clock::time_point now);
    std::size_t size(Clock::time_point now);
    void clear();

private:
    void expire(Clock::time_point now);
    void evictOldest();

    std::chrono::milliseconds lifetime_;
    std::size_t capacity_;
    std::unordered_map<std::string, Clock::time_point> deadlines_;
    // Insertion order, which is deadline order because the lifetime is fixed. An id sent again
    // leaves a stale entry behind; it is recognised by its deadline and skipped.
    std::deque<std::pair<Clock::time_point, std::string>> order_;
};

} // namespace xbnc
