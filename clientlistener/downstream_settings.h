#pragma once

#include "element.h"
#include "stream_management.h"

#include <QString>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace xbnc {

class FastLogin;
class LoginThrottle;
class ResumableSessions;
class SaslCredentials;
class TlsContext;

// What one Downstream needs from its listener, copied at accept time so that a certificate
// reload only affects later connections.
struct DownstreamSettings
{
    QString username;
    QString domain;
    bool requireTls = true;
    qsizetype maxStanzaBytes = 256 * 1024;    // once bound
    qsizetype maxPreloginStanzaBytes = 10000; // until bound: Prosody's pre-auth limit
    int maxDepth = 64;
    // Bytes queued towards a client that does not read (clear and encrypted) before it is
    // disconnected.
    qint64 maxQueuedBytes = 8 * 1024 * 1024;
    int negotiationTimeoutMs = 30 * 1000;
    int idleTimeoutMs = 5 * 60 * 1000;     // bound and silent this long: pinged; 0 = never
    int pingTimeoutMs = 60 * 1000;         // then closed if nothing arrives
    std::shared_ptr<const TlsContext> tls; // the port's certificate; null: no TLS
    std::shared_ptr<const SaslCredentials> credentials;
    // Shared by every connection of the listener; null: logins are not throttled.
    std::shared_ptr<LoginThrottle> loginThrottle;
    // The resource every session is bound to: xbnc's upstream one, so that the JID a client
    // believes it has is the JID the world sees. Unset: the resource the client asked for.
    std::function<QString()> boundResource;
    // XEP-0198: the listener's resumable sessions (null: no resumption), how long a session
    // whose connection is lost waits for a resume, and what it keeps meanwhile.
    std::shared_ptr<ResumableSessions> resumableSessions;
    std::chrono::seconds resumeTimeout{3600};
    StreamManagement::Limits hibernationLimits;
    int maxHibernatingSessions = 16;
    // XEP-0484 tokens, shared by every connection of the listener; null: no FAST offered.
    std::shared_ptr<FastLogin> fastLogin;
    // The server's XEP-0115 <c/> for the features after authentication, asked for when they
    // are sent (the hub learns it after start). Unset or none: no <c/>.
    std::function<std::optional<Element>()> serverCaps;
};

} // namespace xbnc
