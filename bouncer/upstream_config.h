#pragma once

#include <QString>

#include <chrono>
#include <cstddef>

namespace xbnc {

// What the upstream edge accepts from the server and keeps for it; not in the config file, but
// small values make the tests fast.
struct UpstreamLimits
{
    int maxDepth = 64; // element nesting of a stanza; the stanza itself is depth 1 (as downstream)
    // How long the id of a hub request waits for its answer: longer than the hub's IqRouter
    // deadline (60 s), which decides what a session sees; a later answer has nobody to go to.
    std::chrono::milliseconds requestLifetime = std::chrono::seconds(90);
    std::size_t maxPendingRequests = 10000;
};

struct UpstreamConfig
{
    QString jid; // bare account JID
    QString password;
    QString server; // host override; empty: SRV lookup on the JID's domain
    quint16 port = 5222;
    QString resource = QStringLiteral("xbnc");
    QString caFile;         // extra trusted CA or certificate (PEM)
    bool directTls = false; // XEP-0368 direct TLS instead of STARTTLS
    UpstreamLimits limits;
};

} // namespace xbnc
