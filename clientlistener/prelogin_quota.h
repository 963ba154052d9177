#pragma once

#include "session_id.h"

#include <QHash>
#include <QHostAddress>
#include <QString>

namespace xbnc {

// Counts the connections that have not finished logging in (not bound yet), in total and per
// source (peerSource()), so that one host cannot hold every slot the listener has.
class PreloginQuota
{
public:
    PreloginQuota(int maxTotal, int maxPerSource);

    // Whether one more connection from `peer` stays within both caps.
    bool admits(const QHostAddress &peer) const;
    void add(SessionId session, const QHostAddress &peer);
    // When the session binds or closes; a second call for the same session does nothing.
    void remove(SessionId session);

    int total() const { return int(sourceOf_.size()); }
    int fromSource(const QHostAddress &peer) const;

private:
    int maxTotal_;
    int maxPerSource_;
    QHash<SessionId, QString> sourceOf_;
    QHash<QString, int> perSource_;
};

} // namespace xbnc
