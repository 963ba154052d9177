#pragma once

#include "store.h"

#include <map>
#include <vector>

namespace xbnc {

// Keeps the store's copy of the resumable sessions current at little cost: each save writes only
// what changed since the last one — counters, the hub's state, the stanzas sent since, the
// acknowledged ones removed — in one transaction, and removes the sessions that ended.
class SessionSaver
{
public:
    explicit SessionSaver(Store &store) : store_(store) {}

    struct Live
    {
        SavedSession session;
        Element hub; // Account::saveSession
    };
    // `sessions` are all the resumable sessions there are now. False when the store failed:
    // the next save writes those sessions whole.
    bool save(const std::vector<Live> &sessions);
    // What the store holds, which then counts as written.
    std::vector<StoredSession> load();

private:
    struct Written
    {
        quint32 handled = 0;
        quint32 sent = 0;
        quint32 acked = 0;
        quint64 serial = 0;
        qint64 resumeTimeout = 0;
        std::optional<QDateTime> hibernatingSince;
        QByteArray hub;
        bool operator==(const Written &) const = default;
    };
    static Written summary(const SavedSession &session, QByteArray hub);
    void writeChanges(const Live &live, QByteArray hub, SessionWrites &writes,
                      std::map<QString, Written> &written) const;

    Store &store_;
    std::map<QString, Written> written_; // by resume id
};

} // namespace xbnc
