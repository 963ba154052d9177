#include "offline_messages.h"

#include "xmpp_ns.h"

namespace xbnc {

namespace {

const QString delayNs = QStringLiteral("urn:xmpp:delay");

// End-to-end encryption leaves no <body> a server could recognise (or only a fallback one).
bool isEncrypted(const Element &message)
{
    return message.firstChild(u"encrypted", u"eu.siacs.conversations.axolotl") ||
           message.firstChild(u"encrypted", u"urn:xmpp:omemo:2") ||
           message.firstChild(u"openpgp", u"urn:xmpp:openpgp:0");
}

} // namespace

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

const OfflineMessages::Entry &OfflineMessages::append(Element stanza, const QDateTime &received,
                                                      std::vector<Entry> *dropped)
{
    entries_.push_back(Entry{++lastSeq_, std::move(stanza), received.toUTC()});
    while (int(entries_.size()) > std::max(capacity_, 1)) {
        if (dropped)
            dropped->push_back(std::move(entries_.front()));
        entries_.pop_front();
    }
    return entries_.back();
}

std::vector<OfflineMessages::Entry> OfflineMessages::takeForDelivery(const QString &domain)
{
    std::vector<Entry> all;
    all.reserve(entries_.size());
    for (Entry &entry : entries_) {
        // An earlier delay (the sender's server, a room) is the truer time; a second would only
        // confuse clients that read the first one they find.
        if (!entry.stanza.firstChild(u"delay", delayNs)) {
            Element delay(QStringLiteral("delay"), delayNs);
            delay.setAttribute(QStringLiteral("from"), domain);
            delay.setAttribute(QStringLiteral("stamp"), entry.received.toString(Qt::ISODateWithMs));
            entry.stanza.addChild(std::move(delay));
        }
        all.push_back(std::move(entry));
    }
    entries_.clear();
    return all;
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
