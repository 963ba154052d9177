#include "account.h"

#include <QLoggingCategory>

// A short upstream drop that XEP-0198 resumes is invisible to the world: the server keeps the
// account's presence and its place in every room, and resends what xbnc had not acknowledged.
// So the hub changes nothing while the stream is interrupted — rooms stay joined, IQs in flight
// keep waiting for their answers (their deadline still runs) — and only holds back what sessions
// send. When the server refuses to resume, the usual offline/online path runs, and what the old
// stream sent without an acknowledgement is sent again if it still means something.

Q_DECLARE_LOGGING_CATEGORY(lcAccount)

namespace xbnc {

namespace {

bool isSubscription(const QString &type)
{
    return type == u"subscribe" || type == u"subscribed" || type == u"unsubscribe" ||
           type == u"unsubscribed";
}

} // namespace

void Account::upstreamInterrupted()
{
    if (!upstreamOnline_)
        return;
    upstreamOnline_ = false;
    upstreamInterrupted_ = true;
}

void Account::upstreamResumed()
{
    upstreamOnline_ = true;
    upstreamInterrupted_ = false;
    // Sessions that came or went meanwhile may have changed the aggregate.
    sendAggregatePresence();
    sendHeldStanzas();
    flushQueue();
}

void Account::resendUnacknowledged(const std::vector<Element> &unacknowledged)
{
    int resent = 0;
    for (const Element &stanza : unacknowledged) {
        const QString type = stanza.attribute(u"type");
        const Address to = classify(Jid(stanza.attribute(u"to")));
        bool again = false;
        if (stanza.name() == u"message")
            again = true;
        else if (stanza.name() == u"presence")
            // The aggregate is sent afresh and rooms are rejoined; what else a presence says
            // (subscriptions, directed presence to a contact) would be lost.
            again = stanza.hasAttribute(u"to") && to != Address::Room && to != Address::Occupant &&
                    (type.isEmpty() || isSubscription(type) || type == u"unavailable");
        else if (stanza.name() == u"iq")
            // Requests were answered with remote-server-timeout by upstreamOffline(); an answer
            // to a peer's request is still awaited by that peer.
            again = type == u"result" || type == u"error";
        if (!again)
            continue;
        out_.toUpstream(stanza);
        ++resent;
    }
    if (!unacknowledged.empty())
        qCInfo(lcAccount) << "sent again" << resent << "of" << unacknowledged.size()
                          << "stanzas the server had not acknowledged";
}

void Account::sendHeldStanzas()
{
    std::vector<Element> held;
    held.swap(heldStanzas_);
    for (const Element &stanza : held)
        out_.toUpstream(stanza);
}

} // namespace xbnc
