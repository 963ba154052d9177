#include "account.h"

#include "stanza_error.h"

#include <QLoggingCategory>

#include <algorithm>

// Nothing is lost while one side is away: what sessions send while upstream is down waits in the
// OutboundQueue (or comes back to them as an error), and what arrives while no session is
// available waits in OfflineMessages for the first one that sends initial presence.

Q_DECLARE_LOGGING_CATEGORY(lcAccount)

namespace xbnc {

namespace {

const QString chatStatesNs = QStringLiteral("http://jabber.org/protocol/chatstates");

// "composing" delivered hours late would be wrong, not late; XEP-0160 keeps such messages out of
// offline storage for the same reason.
bool isChatStateOnly(const Element &message)
{
    bool any = false;
    for (const Element &c : message.children()) {
        if (c.isText())
            continue;
        if (c.xmlns() != chatStatesNs)
            return false;
        any = true;
    }
    return any;
}

} // namespace

void Account::restoreQueue(std::vector<OutboundQueue::Entry> entries)
{
    queue_.restore(std::move(entries));
}

void Account::restoreOfflineMessages(std::vector<OfflineMessages::Entry> entries, quint64 lastSeq)
{
    offline_.restore(std::move(entries), lastSeq);
}

void Account::queueForUpstream(const Session &session, const Element &stanza)
{
    if (stanza.name() == u"message" && isChatStateOnly(stanza))
        return;
    if (const auto entry = queue_.push(session.resource, stanza, now_())) {
        out_.stanzaQueued(*entry);
        return;
    }
    qCWarning(lcAccount) << "upstream queue full (" << queue_.size() << "stanzas); bouncing a"
                         << stanza.name() << "from" << session.resource;
    bounceToSender(session.resource, stanza,
                   QStringLiteral("Not sent: the server is unreachable and xbnc's queue for it "
                                  "is full."));
}

void Account::flushQueue()
{
    expireQueue();
    const std::vector<OutboundQueue::Entry> queued = queue_.takeAll();
    if (queued.empty())
        return;
    qCInfo(lcAccount) << "sending" << queued.size() << "stanzas queued while offline";
    for (const OutboundQueue::Entry &entry : queued)
        out_.toUpstream(entry.stanza);
    out_.queuedStanzasDone(queued.back().seq);
}

void Account::expireQueue()
{
    const std::vector<OutboundQueue::Entry> expired = queue_.takeExpired(now_());
    if (expired.empty())
        return;
    qCWarning(lcAccount) << "bouncing" << expired.size()
                         << "stanzas queued for longer than the queue's max_age";
    for (const OutboundQueue::Entry &entry : expired)
        bounceToSender(entry.resource, entry.stanza,
                       QStringLiteral("Not sent: the server stayed unreachable for longer than "
                                      "xbnc keeps stanzas queued."));
    out_.queuedStanzasDone(expired.back().seq);
}

void Account::bounceToSender(const QString &resource, const Element &stanza, const QString &why)
{
    // Every session is bound to the JID the world sees; the resource the client asked for tells
    // the devices apart, across restarts too.
    Element original = stanza;
    original.setAttribute(QStringLiteral("from"), boundJid().toString());
    const Element error = stanza::error(original, stanza::ErrorType::Wait,
                                        QStringLiteral("remote-server-timeout"), why);
    if (const auto sender = sessionByResource(resource)) {
        sendToSession(*sender, error);
        return;
    }
    // The sender is gone (or xbnc restarted since): the user still has to learn of it, on
    // whichever client is there, or on the next one that comes.
    if (anySessionAvailable())
        return broadcastToSessions(error, true);
    keepForLater(error);
}

bool Account::anySessionAvailable() const
{
    // RFC 6121 §8.5.2.1.1: a session that never sent presence gets no messages from a server.
    return std::any_of(sessions_.begin(), sessions_.end(),
                       [](const auto &entry) { return entry.second.initialPresenceSent; });
}

void Account::keepForLater(const Element &stanza)
{
    std::vector<OfflineMessages::Entry> dropped;
    out_.offlineMessageStored(offline_.append(stanza, now_(), &dropped));
    if (dropped.empty())
        return;
    for (const OfflineMessages::Entry &entry : dropped)
        qCWarning(lcAccount).nospace()
            << "offline storage full (" << offline_.capacity() << "): dropped the oldest, a "
            << entry.stanza.name() << " from " << entry.stanza.attribute(u"from") << " received "
            << entry.received.toString(Qt::ISODate);
    out_.offlineMessagesDone(dropped.back().seq);
}

void Account::deliverOfflineMessages(SessionId id)
{
    auto session = sessions_.find(id);
    if (offline_.isEmpty() || session == sessions_.end())
        return;
    std::vector<OfflineMessages::Entry> stored = offline_.takeForDelivery(account_.domain());
    const QString sessionAddress = boundJid().toString();
    for (OfflineMessages::Entry &entry : stored) {
        // Sent to xbnc's resource, perhaps before a restart under another one: the session is
        // who it was meant for.
        if (!Jid(entry.stanza.attribute(u"to")).isBare())
            entry.stanza.setAttribute(QStringLiteral("to"), sessionAddress);
        sendToSession(id, entry.stanza);
    }
    out_.offlineMessagesDone(stored.back().seq);
}

} // namespace xbnc
