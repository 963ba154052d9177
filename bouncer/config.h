#pragma once

#include "listener_config.h"
#include "outbound_queue.h"
#include "presence_aggregate.h"
#include "push_rules.h"
#include "upstream_config.h"

#include <QString>
#include <QStringList>

#include <chrono>

#include <variant>

namespace xbnc {

struct Config
{
    UpstreamConfig upstream;
    ListenerConfig listener;
    PresenceAggregate::Idle idle;
    QString dataDir;
    bool roomsPersistent = false; // keep the account in rooms after the last session leaves
    QStringList keptRooms;        // the same for these rooms only
    int roomLogSize = 1000;       // messages kept per room for history replay
    OutboundQueue::Limits queue;  // what sessions send while upstream is down
    int offlineMessages = 1000;   // the catch-up log of 1:1 messages, for every device
    std::chrono::seconds offlineMaxAge = std::chrono::hours(24 * 30);
    std::chrono::seconds forgetDeviceAfter = std::chrono::hours(24 * 90);
    int csiMaxHeld = 256; // held per inactive session (XEP-0352) before all is sent
    PushSettings push;    // XEP-0357 (docs/PUSH.md)
};

// One line naming the key and what is wrong with it, e.g. "[upstream] port: not a port number".
struct ConfigError
{
    QString message;
};

// Reads the INI file. Unknown sections and keys are errors too: a typo must not silently become
// a default. Values may carry a trailing "; comment" after white space.
std::variant<Config, ConfigError> loadConfig(const QString &path);
std::variant<Config, ConfigError> parseConfig(const QByteArray &text);

// The file holds the account's password: a warning naming it when its group or others may read
// it, or empty when only its owner can.
QString readableByOthersWarning(const QString &path);

} // namespace xbnc
