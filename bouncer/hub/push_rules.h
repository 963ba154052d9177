#pragma once

#include "element.h"
#include "jid.h"

#include <QDateTime>
#include <QString>

#include <chrono>
#include <map>

namespace xbnc {

namespace xep0357 {

// Whether a message arriving for the account is worth waking a phone for: a 1:1 chat or normal
// message with a body or an encrypted payload (OMEMO, OX), a MUC private message, or, when
// `roomNick` is the account's nick in the room it came from, a groupchat message from someone
// else whose body mentions that nick. Never carbons, errors, headlines, chat states alone or
// a room's subject.
bool matters(const Element &message, const Jid &account, const QString &roomNick = {});

} // namespace xep0357

// [push] in the config (docs/PUSH.md).
struct PushSettings
{
    enum class Route
    {
        Direct, // xbnc publishes through its upstream connection
        Server, // the user's server publishes (mod_cloud_notify and the like)
        Auto,   // Server when the server has push on the bare JID and the form has `secret`
    };
    Route route = Route::Auto;
    bool includeSender = false; // last-message-sender in the summary
    bool includeBody = false;   // last-message-body in the summary
    // A device with no session is pushed for this long after it was last connected.
    std::chrono::seconds deviceTimeout = std::chrono::hours(72);
    std::chrono::seconds quiet = std::chrono::minutes(2); // PushBursts
};

namespace xep0357 {

// The route a new registration takes under `route`; `serverHasPush`: the server advertises
// urn:xmpp:push:0 on the account's bare JID.
bool viaServer(PushSettings::Route route, const Element &form, bool serverHasPush);

} // namespace xep0357

// At most one push per burst and device: a device is pushed for the first message that matters
// after it went away, and again only after `quiet` passed with no message that matters (each
// one restarts the quiet period). The first notification tells the phone to fetch everything;
// more of them while the user has not looked only drain its battery. A device that comes back
// (binds, resumes) starts afresh.
class PushBursts
{
public:
    explicit PushBursts(std::chrono::seconds quiet = std::chrono::minutes(2)) : quiet_(quiet) {}
    void setQuiet(std::chrono::seconds quiet) { quiet_ = quiet; }

    // A message that matters came for the device: true if it is the one to push for.
    bool admit(const QString &device, const QDateTime &now);
    void deviceBack(const QString &device) { lastMessage_.erase(device); }

private:
    std::chrono::seconds quiet_;
    std::map<QString, QDateTime> lastMessage_; // devices pushed since they went away
};

} // namespace xbnc
