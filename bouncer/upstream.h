#pragma once

#include "element.h"
#include "jid.h"
#include "reconnect_backoff.h"
#include "upstream_config.h"

#include <QObject>
#include <QTimer>

#include <memory>
#include <vector>

namespace xbnc {

class SocketConnection;
class UpstreamClient;
struct UpstreamSmSession;

// The one connection to the user's real server, as a gloox client driven from the Qt event
// loop, with TLS done by Qt. It hands every top-level stanza to the hub as an Element and sends
// the hub's stanzas unchanged; gloox itself never answers the sessions' IQs nor sends presence.
// Reconnects with exponential backoff and jitter after any loss, except an auth failure.
//
// XEP-0198 where the server offers it (UpstreamClient does the protocol): a loss of a resumable
// stream is reported as interrupted(), and the reconnect resumes it — resumed(), nothing else
// changed — until the server refuses (offline(), then online() after binding afresh on the same
// stream) or resumeWindow() passes (offline(), then a fresh login). What the server did not
// acknowledge is then taken by the hub with takeUnacknowledged() when it comes online.
class Upstream : public QObject
{
    Q_OBJECT
public:
    explicit Upstream(UpstreamConfig config, QObject *parent = nullptr);
    ~Upstream() override;

    void start();
    void stop(); // graceful: </stream:stream> flushed, then stopped()
    bool isOnline() const;
    Jid jid() const; // the bound full JID while online

    // Send one stanza (message/presence/iq). Not sent, with a warning, when offline (what a
    // session sends then is held back by the hub's OutboundQueue and never gets here) or when
    // UpstreamClient refuses it (an IQ request under an id of gloox's own).
    void send(const Element &stanza);
    // The hub's IQ requests still waiting for an answer upstream (UpstreamLimits bounds them).
    std::size_t pendingRequests();
    // What a stream that ended without being resumed had sent and its server never acknowledged,
    // oldest first; a <failed h=…/> told which, else it is all that was unacknowledged.
    std::vector<Element> takeUnacknowledged();
    // How long an interrupted stream is given to resume before the hub is told it is offline.
    std::chrono::milliseconds resumeWindow() const;

Q_SIGNALS:
    void online();                                    // bound; no presence has been sent yet
    void offline(const QString &reason);              // lost; a retry is scheduled
    void interrupted(const QString &reason);          // lost; resuming is scheduled
    void resumed();                                   // the interrupted stream goes on
    void authenticationFailed(const QString &reason); // no more retries
    void stanzaReceived(const xbnc::Element &stanza);
    void stopped();

private:
    enum class Phase
    {
        Idle,
        Connecting,
        Online,
        Waiting,
        Stopping
    };

    void connectNow();
    void handleConnected();
    void handleDisconnected(int glooxError); // gloox::ConnectionError, kept out of this header
    void handleSocketClosed();
    void handleResumed();
    void handleResumeFailed(bool hKnown);
    void giveUpResuming();
    void checkAckWaiting();
    void handOverUnacknowledged();
    void scheduleRetry(const QString &reason);
    void scheduleResume(const QString &reason);
    void finishStop();

    UpstreamConfig config_;
    ReconnectBackoff backoff_;
    // One client per attempt; it owns the connection and TLS objects (gloox deletes them in
    // ~ClientBase). Replaced only from a timer, never inside one of its own callbacks.
    std::unique_ptr<UpstreamClient> client_;
    SocketConnection *connection_ = nullptr; // owned by client_
    QTimer retryTimer_;
    QTimer stableTimer_;   // online long enough: the backoff starts over
    QTimer loginDeadline_; // an attempt that hangs (TCP, TLS, SASL) counts as failed
    QTimer ackRequest_;    // XEP-0198 <r/> shortly after sending
    QTimer ackWatch_;      // an <r/> unanswered for too long: the link is dead
    QTimer resumeWindow_;  // interrupted for too long: offline for the hub
    QTimer closeDeadline_; // stopping: the server's own closing tag is overdue
    std::shared_ptr<UpstreamSmSession> sm_; // outlives each attempt's client
    std::vector<Element> unacknowledged_;   // for the hub's next upstreamOnline()
    bool interrupted_ = false;
    QString abortReason_; // why we ended the attempt ourselves, for offline()
    Phase phase_ = Phase::Idle;
    int attempt_ = 0;
};

} // namespace xbnc
