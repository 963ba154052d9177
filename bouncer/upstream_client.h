#pragma once

#include "element.h"
#include "pending_request_ids.h"
#include "stream_acks.h"
#include "upstream_config.h"
#include "upstream_nesting_filter.h"

#include <gloox/client.h>
#include <gloox/connectionlistener.h>
#include <gloox/loghandler.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace xbnc {

// gloox::Client reduced to stream negotiation (TLS, SASL, bind): every top-level stanza goes to
// the hub as an Element, untouched, and gloox itself never answers an IQ nor sends presence or
// caps, because upstream the account is one client and only the hub speaks for it.
//
// Who gets an IQ answer: the hub's IQ requests are sent through sendStanza(), which remembers
// their ids for a while (UpstreamLimits::requestLifetime); a result or error with such an id goes
// to the hub, any other one to gloox (bind, session). IQ requests from the server or other entities
// always go to the hub. The hub may only send once bound, when gloox waits for nothing, and never
// under an id shaped like gloox's own (its per-client prefix), so no answer can be taken by the
// wrong side.
//
// Any remote JID can send the account a stanza, so nesting is capped before gloox builds a tree
// (UpstreamNestingFilter) and checked again, without recursion, before the tree is converted
// into an Element (elementFromTag, or Tag::xml() for the rare tree it leaves to the parser),
// both of which recurse: a stanza too deep is refused, and an IQ request so refused is answered
// with policy-violation.
//
// One instance per connection attempt: gloox's parser and negotiation state are not reset
// reliably after a loss, so the Upstream builds a fresh client for each attempt.
//
// XEP-0198 is done here, not by gloox, on state that outlives the attempt (UpstreamSmSession):
// gloox's own support restarts its outbound count at 0 on a reconnect while the server's goes
// on, keeps sending nothing after <failed/> (no bind: the login hangs), and ignores the h of
// <failed/>. So gloox never sees an SM element nor the features after SASL when there is a
// session to resume: this class sends <resume/>, resends what <resumed h=…/> leaves unacked, and
// after <failed/> hands gloox those features so that it binds on the same stream. After a fresh
// bind it sends <enable resume='true'/> when the server offers SM. Inbound h counts every
// top-level stanza, the ones gloox handles (bind results) included once SM is enabled.
struct UpstreamSmSession
{
    StreamAcks acks;
    std::string id;       // the server's resumption id; empty: nothing to resume
    std::string boundJid; // the full JID the session is bound to, kept by a resumption
    int maxSeconds = 0;   // how long the server keeps it (<enabled max=…/>), 0 when unsaid
};

class UpstreamClient : public gloox::Client,
                       private gloox::ConnectionListener,
                       private gloox::LogHandler
{
public:
    struct Events
    {
        std::function<void(const Element &stanza)> stanzaReceived;
        std::function<void()> connected; // bound, no presence sent
        std::function<void(gloox::ConnectionError error)> disconnected;
        std::function<void()> resumed; // the unacknowledged stanzas were sent again
        // The server would not resume: binding afresh follows on the same stream. `hKnown`:
        // its <failed/> said how much it had received, so `sm.acks` holds exactly the rest.
        std::function<void(bool hKnown)> resumeFailed;
    };

    UpstreamClient(const gloox::JID &jid, const std::string &password, Events events,
                   const UpstreamLimits &limits, std::shared_ptr<UpstreamSmSession> sm);
    ~UpstreamClient() override;

    // Sends one stanza as the hub wrote it. False when the stream is not up (bound), or for an
    // IQ request under an id with gloox's prefix, which is refused with a warning.
    bool sendStanza(const Element &stanza);
    // Ends the attempt with `reason` as if the transport had failed (e.g. a login deadline).
    void abortConnection(gloox::ConnectionError reason);

    std::size_t pendingHubRequests();
    // The bound full JID: gloox's after a bind, the session's after a resumption.
    std::string boundJid() const { return sm_->boundJid; }
    // XEP-0198 <r/>, when stanzas wait for an acknowledgement and none was asked for since.
    void requestAck();
    // How long the last <r/> has waited for its <a/>; zero when none waits. A link that died
    // without a reset shows here long before TCP gives up on it.
    std::chrono::milliseconds ackWaitingFor() const;

    // From now on no event reaches the owner, which is going away; the std::functions stay
    // alive because one of them may be running right now.
    void detach() { detached_ = true; }

protected:
    void handleTag(gloox::Tag *tag) override;
    // Every byte from the server passes UpstreamNestingFilter before gloox's parser sees it.
    void handleReceivedData(const gloox::ConnectionBase *connection,
                            const std::string &data) override;

private:
    // gloox would send its own presence (with caps) here; the hub sends presence instead.
    void rosterFilled() override;

    // gloox::ConnectionListener
    void onConnect() override;
    void onDisconnect(gloox::ConnectionError error) override;
    bool onTLSConnect(const gloox::CertInfo &info) override;

    // gloox::LogHandler: gloox's own notes, never its XML trace (SASL data, stanzas).
    void handleLog(gloox::LogLevel level, gloox::LogArea area, const std::string &message) override;

    // XEP-0198 (see the class comment)
    void handleSmElement(const gloox::Tag &tag);
    bool resumeInsteadOfBinding(const gloox::Tag &features);
    void resumed(const gloox::Tag &tag);
    void resumeRefused(const gloox::Tag &tag);
    void sendSmElement(const std::string &name, const std::string &h = {},
                       const std::string &previd = {});
    void sendCounted(const Element &stanza);

    void deliverToHub(const gloox::Tag &tag);
    bool isTooDeep(const gloox::Tag &tag) const;
    // A stanza not handed to the hub (`why`, an RFC 6120 stanza error `condition`): its sender
    // is told where the protocol allows it, a hub request waiting for it ends at once.
    void refuse(const gloox::Tag &tag, const QString &why, const QString &condition);
    bool isGlooxId(const std::string &id) const;

    Events events_;
    UpstreamLimits limits_;
    bool detached_ = false;
    bool bound_ = false;
    bool cutStanza_ = false; // the tag gloox is finishing now was cut by the filter
    std::string glooxIdPrefix_;
    UpstreamNestingFilter nestingFilter_;
    PendingRequestIds hubRequestIds_;
    // Shared: the Upstream may be gone while this client finishes a callback (see ~Upstream).
    std::shared_ptr<UpstreamSmSession> sm_;
    bool smOffered_ = false;     // in the features after SASL
    bool countInbound_ = false;  // since <enabled/> or <resumed/>
    bool countOutbound_ = false; // since <enable/> or <resumed/>
    bool resuming_ = false;      // <resume/> sent, no answer yet
    bool ackRequested_ = false;  // <r/> sent, no <a/> yet
    std::chrono::steady_clock::time_point ackRequestedAt_;
    std::unique_ptr<gloox::Tag> featuresAfterAuth_; // for gloox, if resuming fails
};

} // namespace xbnc
