#pragma once

#include "channel_binding.h"
#include "element.h"

#include <memory>

namespace xbnc {

class SaslCredentials;
class SaslServer;

// The SASL part of stream negotiation (RFC 6120 §6.4) for one connection: turns <auth/>,
// <response/> and <abort/> into <challenge/>, <success/> or <failure/>, counts failed attempts
// and keeps the login to the account (authcid = username, authzid empty or the bare JID).
class SaslExchange
{
public:
    enum class State
    {
        InProgress,
        Succeeded,
        Failed,
        TooManyFailures,
        Aborted // the client gave up: no password was tried
    };
    struct Reply
    {
        Element element; // what to send back
        State state;
        // Whether a failure tried the credentials: only those count as failed logins.
        bool triedCredentials = true;
    };

    // The base64 text of one <auth/> or <response/>, refused before it is decoded: 1.5 KiB
    // decoded, room for a PLAIN message with a long user name and password, or any SCRAM one.
    static constexpr qsizetype kMaxPayloadChars = 2048;

    // The last attempt as the client described it, for the log: not authenticated, and cut.
    struct Attempt
    {
        QString mechanism;
        QString user;
    };

    SaslExchange(const SaslCredentials &credentials, QString domain, int maxFailures = 3);
    ~SaslExchange();

    // Those of the connection, once its TLS is up: what a -PLUS mechanism binds to.
    void setChannelBindings(ChannelBindings bindings) { bindings_ = std::move(bindings); }
    const ChannelBindings &channelBindings() const { return bindings_; }

    // element is a top-level element in the SASL namespace.
    Reply handle(const Element &element, bool encrypted, bool tlsRequired);
    const Attempt &lastAttempt() const { return attempt_; }

private:
    Reply start(const Element &auth, bool encrypted, bool tlsRequired);
    Reply respond(const Element &response);
    Reply failure(const QString &condition, bool triedCredentials = true);
    Reply finish(int outcome, const QByteArray &data, const QString &failureCondition,
                 bool triedCredentials);
    bool authzidAllowed(const QString &mechanism, const QByteArray &initialResponse) const;

    const SaslCredentials &credentials_;
    QString domain_;
    int maxFailures_;
    int failures_ = 0;
    ChannelBindings bindings_;
    std::unique_ptr<SaslServer> server_; // the attempt in progress
    Attempt attempt_;
};

} // namespace xbnc
