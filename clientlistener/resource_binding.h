#pragma once

#include "element.h"
#include "jid.h"

#include <optional>

namespace xbnc {

// RFC 6120 §7 resource binding, server side: the answer to a bind IQ.
struct BindOutcome
{
    Element reply;                   // the IQ result or error to send
    std::optional<QString> resource; // set when bound
};

// account: the bare JID. The resource asked for is the client's choice, or "xbnc-" + 8 hex
// digits; the JID in the reply carries boundResource when given (RFC 6120 §7.7.2.2 lets a
// server assign another resource than the one asked for).
BindOutcome bindResource(const Element &iq, const Jid &account, const QString &boundResource = {});

// True for <iq type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>.
bool isBindRequest(const Element &stanza);
// True for the RFC 3921 <session/> IQ, which only needs an empty result.
bool isSessionRequest(const Element &stanza);

} // namespace xbnc
