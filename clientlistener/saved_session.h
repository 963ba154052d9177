#pragma once

#include "stream_management.h"

#include <QDateTime>
#include <QString>

#include <chrono>
#include <optional>

namespace xbnc {

// What a resumable session (XEP-0198) needs to live on after xbnc restarts: who it is bound as,
// how long it may wait for its client, and its stream management state. The hub's side of the
// session is saved next to it (Account::saveSession).
struct SavedSession
{
    QString resource;      // the resource the client asked for: its device
    QString boundResource; // the resource in the JID it was bound to
    std::chrono::seconds resumeTimeout{3600};
    // When its connection was lost; none while it was connected.
    std::optional<QDateTime> hibernatingSince;
    StreamManagement::State sm;
};

} // namespace xbnc
