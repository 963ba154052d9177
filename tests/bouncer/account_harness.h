#pragma once

#include "account.h"

#include <QString>

#include <deque>

namespace xbnc::test {

// Canonical XML of an element: attributes sorted, so tests compare structure, not attribute
// order.
QString canonical(const Element &element);
QString canonical(const QString &xml);

// Feeds an Account stanzas and records what it sends where (QXmpp's TestClient idea).
class AccountHarness : public Account::Output
{
public:
    struct Sent
    {
        enum Target
        {
            Upstream,
            Session,
            Close
        } target;
        SessionId session = 0;
        Element stanza;
    };

    explicit AccountHarness(std::chrono::milliseconds iqTimeout = std::chrono::seconds(60),
                            PresenceAggregate::Idle idle = {});

    Account account;
    std::deque<Sent> sent;

    void fromUpstream(const QString &xml);
    void fromSession(SessionId session, const QString &xml);
    void bind(SessionId session, const QString &resource, bool withPresence = true);

    // Take the next output; a mismatch fails the calling test through the returned message.
    // Empty string: it matched.
    QString expectUpstream(const QString &xml);
    QString expectToSession(SessionId session, const QString &xml);
    QString expectClose(SessionId session);
    QString expectNothing();
    // The next output, whatever it is (for ids the hub made up).
    Sent take();
    void clear() { sent.clear(); }

    void toUpstream(const Element &stanza) override;
    void toSession(SessionId session, const Element &stanza) override;
    void closeSession(SessionId session, Downstream::StreamError condition) override;

private:
    QString describe(const Sent &s) const;
};

} // namespace xbnc::test
