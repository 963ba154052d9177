#include "account.h"

#include "stanza_error.h"

#include <QLoggingCategory>

#include <algorithm>

// Nothing is lost while one side is away: what sessions send while upstream is down waits in the
// OutboundQueue (or comes back to them as an error), and the 1:1 messages worth keeping are
// logged in OfflineMessages, from which each device catches up on what it missed when it sends
// initial presence (its place kept in DeviceCursors).

Q_DECLARE_LOGGING_CATEGORY(lcAccount)

namespace xbnc {

namespace {

const QString chatStatesNs = QStringLiteral("http://jabber.org/protocol/chatstates");

constexpr qint64 kLossWarningSeconds = 60;

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

void Account::restoreDeviceCursors(std::map<QString, DeviceCursors::Device> devices,
                                   quint64 deliveredThrough)
{
    cursors_.restore(std::move(devices), deliveredThrough);
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

quint64 Account::keepForLater(const Element &stanza, const QString &device)
{
    std::vector<OfflineMessages::Entry> dropped;
    const OfflineMessages::Entry &entry = offline_.append(stanza, now_(), device, &dropped);
    out_.offlineMessageStored(entry);
    const quint64 seq = entry.seq;
    offlineEntriesGone(dropped, "full");
    return seq;
}

void Account::offlineEntriesGone(const std::vector<OfflineMessages::Entry> &gone, const char *why)
{
    if (gone.empty())
        return;
    out_.offlineMessagesDone(gone.back().seq);
    // The log rolls over all the time; only what some device has not had yet is a loss.
    QStringList missedBy;
    const quint64 newest = gone.back().seq;
    for (const auto &[device, cursor] : cursors_.devices())
        if (cursor.cursor < newest)
            missedBy.append(device);
    int neverDelivered = 0;
    for (const OfflineMessages::Entry &entry : gone)
        neverDelivered += entry.seq > cursors_.deliveredThrough() ? 1 : 0;
    if (missedBy.isEmpty() && neverDelivered == 0)
        return;
    const QDateTime now = now_();
    if (lastLossWarning_.isValid() && lastLossWarning_.secsTo(now) < kLossWarningSeconds) {
        untoldLosses_.removed += qsizetype(gone.size());
        untoldLosses_.neverDelivered += neverDelivered;
        return;
    }
    tellUntoldLosses(now);
    lastLossWarning_ = now;
    qCWarning(lcAccount).nospace().noquote()
        << "catch-up log " << why << " (" << offline_.limits().maxMessages << " messages, "
        << offline_.limits().maxAge.count() << " s): removed " << gone.size()
        << " messages, the oldest from " << gone.front().stanza.attribute(u"from") << " received "
        << gone.front().received.toString(Qt::ISODate) << "; " << neverDelivered
        << " of them no device had"
        << (missedBy.isEmpty()
                ? QString()
                : QStringLiteral("; devices that missed some: ") + missedBy.join(u", "));
}

void Account::logAndDeliver(const Element &stanza, const std::set<SessionId> *onlyTo)
{
    // Logged whatever happens next: a device that is away now catches up on it later.
    const bool anyAvailable = anySessionAvailable();
    const quint64 seq = keepForLater(stanza);
    if (!anyAvailable)
        return; // RFC 6121 §8.5.2.1.1: nobody to deliver to; the first device gets it
    sendToSessions(stanza, [onlyTo](SessionId id, const Session &) {
        return !onlyTo || onlyTo->count(id) > 0;
    });
    markDelivered(seq, onlyTo);
}

void Account::markDelivered(quint64 seq, const std::set<SessionId> *onlyTo)
{
    for (auto &[id, session] : sessions_) {
        const bool recipient = !onlyTo || onlyTo->count(id) > 0;
        if (session.initialPresenceSent) {
            // Routed to it or not (a private message from a room it is not in), it is past this
            // entry: its catch-up covered everything before, and it saw everything since.
            advanceDevice(session.resource, seq);
        } else if (recipient) {
            // It has not caught up yet, so its cursor cannot move past what it has not had.
            session.receivedEarly.push_back(seq);
            if (int(session.receivedEarly.size()) > offline_.limits().maxMessages)
                session.receivedEarly.erase(session.receivedEarly.begin());
            if (cursors_.noteDelivered(seq))
                out_.deliveredThroughChanged(seq);
        }
    }
}

void Account::advanceDevice(const QString &device, quint64 seq)
{
    const quint64 mark = cursors_.deliveredThrough();
    if (cursors_.advance(device, seq, now_()))
        out_.deviceCursorChanged(device, *cursors_.find(device));
    if (cursors_.deliveredThrough() != mark)
        out_.deliveredThroughChanged(cursors_.deliveredThrough());
}

void Account::logSent(SessionId sender, const Element &message)
{
    const Element carbon = sentCarbon(message);
    const quint64 seq = keepForLater(carbon);
    std::set<SessionId> recipients = sessionsWithCarbons();
    recipients.insert(sender); // it has the message: it wrote it
    sendToSessions(carbon, [sender](SessionId id, const Session &session) {
        return id != sender && session.carbons;
    });
    markDelivered(seq, &recipients);
}

void Account::logSentCarbon(const Element &carbon)
{
    // Only a client that enabled carbons expects to see what the account's other devices send.
    const std::set<SessionId> withCarbons = sessionsWithCarbons();
    logAndDeliver(carbon, &withCarbons);
}

std::set<SessionId> Account::sessionsWithCarbons() const
{
    std::set<SessionId> withCarbons;
    for (const auto &[id, session] : sessions_)
        if (session.carbons)
            withCarbons.insert(id);
    return withCarbons;
}

void Account::catchUp(SessionId id, Session &session)
{
    const quint64 cursor = cursors_.cursorOf(session.resource);
    const std::vector<OfflineMessages::Entry> missed =
        offline_.after(cursor, session.resource, account_.domain());
    const QString sessionAddress = boundJid().toString();
    int replayed = 0;
    for (OfflineMessages::Entry entry : missed) {
        if (std::find(session.receivedEarly.begin(), session.receivedEarly.end(), entry.seq) !=
            session.receivedEarly.end())
            continue;
        // What the user wrote elsewhere reaches clients that asked for carbons (XEP-0280).
        if (!session.carbons && OfflineMessages::sentCarbonOf(entry.stanza, account_))
            continue;
        ++replayed;
        // Sent to xbnc's resource, perhaps before a restart under another one: the session is
        // who it was meant for.
        if (!Jid(entry.stanza.attribute(u"to")).isBare())
            entry.stanza.setAttribute(QStringLiteral("to"), sessionAddress);
        sendToSession(id, entry.stanza);
    }
    session.receivedEarly.clear();
    if (replayed > 0)
        qCInfo(lcAccount).noquote()
            << "device" << session.resource << "caught up on" << replayed << "messages";
    advanceDevice(session.resource, offline_.lastSeq());
}

void Account::keepUndelivered(const Session &session, std::vector<Element> undelivered)
{
    // They are the end of what the session was sent. Those still in the log are found by number
    // and the device's cursor goes back before the first; the others are kept for it alone.
    const QString &device = session.resource;
    std::optional<quint64> first;
    std::vector<Element> unlogged;
    for (Element &stanza : undelivered) {
        if (const auto seq = offline_.find(stanza, device, offline_.lastSeq())) {
            first = std::min(first.value_or(*seq), *seq);
            continue;
        }
        if (stanza.name() == u"message" && OfflineMessages::worthKeeping(stanza, account_))
            unlogged.push_back(std::move(stanza));
    }
    if (first && cursors_.rewind(device, *first))
        out_.deviceCursorChanged(device, *cursors_.find(device));
    if (!unlogged.empty())
        qCWarning(lcAccount) << "session of" << device << "ended with" << unlogged.size()
                             << "unacknowledged messages no longer in the catch-up log; kept "
                                "for its next session";
    for (const Element &stanza : unlogged)
        keepForLater(stanza, device);
}

void Account::tellUntoldLosses(const QDateTime &now)
{
    if (untoldLosses_.removed == 0 || lastLossWarning_.secsTo(now) < kLossWarningSeconds)
        return;
    qCWarning(lcAccount).nospace()
        << "catch-up log: " << untoldLosses_.removed << " more messages removed in the last "
        << lastLossWarning_.secsTo(now) << " s, " << untoldLosses_.neverDelivered
        << " of them no device had";
    untoldLosses_ = {};
    lastLossWarning_ = now;
}

void Account::expireOfflineMessages()
{
    offlineEntriesGone(offline_.takeExpired(now_()), "expiry");
    tellUntoldLosses(now_());
    const auto connected = [this](const QString &device) {
        return sessionByResource(device).has_value();
    };
    for (const QString &device : cursors_.forgetIdle(now_(), forgetDeviceAfter_, connected)) {
        qCInfo(lcAccount) << "forgetting device" << device << "(no session for"
                          << forgetDeviceAfter_.count() << "s)";
        out_.deviceForgotten(device);
    }
}

} // namespace xbnc
