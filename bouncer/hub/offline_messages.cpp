#include "offline_messages.h"

#include "xmpp_ns.h"

namespace xbnc {

namespace {

const QString delayNs = QStringLiteral("urn:xmpp:delay");

bool isFor(const OfflineMessages::Entry &entry, const QString &device)
{
    return entry.device.isEmpty() || entry.device == device;
}

// A logged stanza as a session may have been sent it: 'to' rewritten to the session's address,
// a delay added on replay (or by a client-state queue).
Element comparable(const Element &message)
{
    Element copy = message;
    copy.removeAttribute(u"to");
    copy.removeChildren(u"delay", delayNs);
    return copy;
}

} // namespace

// End-to-end encryption leaves no <body> a server could recognise (or only a fallback one).
bool OfflineMessages::isEncrypted(const Element &message)
{
    return message.firstChild(u"encrypted", u"eu.siacs.conversations.axolotl") ||
           message.firstChild(u"encrypted", u"urn:xmpp:omemo:2") ||
           message.firstChild(u"openpgp", u"urn:xmpp:openpgp:0");
}

bool OfflineMessages::worthKeeping(const Element &message, const Jid &account)
{
    const QString type = message.attribute(u"type");
    if (!type.isEmpty() && type != u"chat" && type != u"normal")
        return false;
    const Jid from(message.attribute(u"from"));
    const bool fromOwnAccount = !from.isValid() || from == account.bare();
    if (fromOwnAccount && (message.firstChild(u"received", xmlns::carbons) ||
                           message.firstChild(u"sent", xmlns::carbons)))
        return false;
    // XEP-0334 hints: the sender's word on storage wins over the guess from the payload.
    if (message.firstChild(u"no-store", xmlns::hints))
        return false;
    return message.firstChild(u"body", xmlns::client) || isEncrypted(message) ||
           message.firstChild(u"store", xmlns::hints);
}

bool OfflineMessages::worthKeepingSent(const Element &message)
{
    const QString type = message.attribute(u"type");
    if (!type.isEmpty() && type != u"chat" && type != u"normal")
        return false;
    if (message.firstChild(u"private", xmlns::carbons) ||
        message.firstChild(u"no-copy", xmlns::hints) ||
        message.firstChild(u"no-store", xmlns::hints))
        return false;
    return message.firstChild(u"body", xmlns::client) || isEncrypted(message);
}

const Element *OfflineMessages::sentCarbonOf(const Element &message, const Jid &account)
{
    const Jid from(message.attribute(u"from"));
    if (from.isValid() && from != account.bare())
        return nullptr; // anyone else's <sent> is forged (XEP-0280 §11)
    const Element *sent = message.firstChild(u"sent", xmlns::carbons);
    const Element *forwarded = sent ? sent->firstChild(u"forwarded", xmlns::forward) : nullptr;
    return forwarded ? forwarded->firstChild(u"message") : nullptr;
}

const OfflineMessages::Entry &OfflineMessages::append(Element stanza, const QDateTime &received,
                                                      const QString &device,
                                                      std::vector<Entry> *dropped)
{
    entries_.push_back(Entry{++lastSeq_, std::move(stanza), received.toUTC(), device});
    while (int(entries_.size()) > std::max(limits_.maxMessages, 1)) {
        if (dropped)
            dropped->push_back(std::move(entries_.front()));
        entries_.pop_front();
    }
    return entries_.back();
}

std::vector<OfflineMessages::Entry> OfflineMessages::takeExpired(const QDateTime &now)
{
    std::vector<Entry> expired;
    const QDateTime oldest = now.addSecs(-limits_.maxAge.count());
    while (!entries_.empty() && entries_.front().received < oldest) {
        expired.push_back(std::move(entries_.front()));
        entries_.pop_front();
    }
    return expired;
}

std::vector<OfflineMessages::Entry> OfflineMessages::after(quint64 cursor, const QString &device,
                                                           const QString &domain) const
{
    std::vector<Entry> missed;
    for (const Entry &entry : entries_) {
        if (entry.seq <= cursor || !isFor(entry, device))
            continue;
        missed.push_back(entry);
        Element &stanza = missed.back().stanza;
        // An earlier delay (the sender's server, a room) is the truer time; a second would only
        // confuse clients that read the first one they find.
        if (!stanza.firstChild(u"delay", delayNs)) {
            Element delay(QStringLiteral("delay"), delayNs);
            delay.setAttribute(QStringLiteral("from"), domain);
            delay.setAttribute(QStringLiteral("stamp"), entry.received.toString(Qt::ISODateWithMs));
            stanza.addChild(std::move(delay));
        }
    }
    return missed;
}

std::optional<quint64> OfflineMessages::find(const Element &sent, const QString &device,
                                             quint64 through) const
{
    if (sent.name() != u"message")
        return std::nullopt;
    const Element wanted = comparable(sent);
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (it->seq > through || !isFor(*it, device))
            continue;
        // Cheap checks first: this runs for each unacknowledged stanza of a session that ended.
        if (it->stanza.attribute(u"id") != sent.attribute(u"id") ||
            it->stanza.attribute(u"from") != sent.attribute(u"from"))
            continue;
        if (comparable(it->stanza) == wanted)
            return it->seq;
    }
    return std::nullopt;
}

void OfflineMessages::restore(std::vector<Entry> entries, quint64 lastSeq)
{
    lastSeq_ = std::max(lastSeq_, lastSeq);
    for (Entry &entry : entries) {
        lastSeq_ = std::max(lastSeq_, entry.seq);
        entries_.push_back(std::move(entry));
    }
}

} // namespace xbnc
