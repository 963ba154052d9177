#include "room_log.h"

#include <algorithm>

namespace xbnc {

namespace {

const QString mucNs = QStringLiteral("http://jabber.org/protocol/muc");
const QString delayNs = QStringLiteral("urn:xmpp:delay");
const QString sidNs = QStringLiteral("urn:xmpp:sid:0");

std::optional<int> nonNegative(const Element &history, QStringView name)
{
    if (!history.hasAttribute(name))
        return std::nullopt;
    bool ok = false;
    const int value = history.attribute(name).toInt(&ok);
    if (!ok || value < 0)
        return std::nullopt;
    return value;
}

// XEP-0082 stamps carry a zone; one written without is taken as UTC rather than as this host's
// local time, which would shift it by the host's offset.
QDateTime parseStamp(const QString &text)
{
    QDateTime stamp = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!stamp.isValid())
        return {};
    if (stamp.timeSpec() == Qt::LocalTime)
        stamp.setTimeSpec(Qt::UTC);
    return stamp.toUTC();
}

QDateTime roomStamp(const Element &message)
{
    const Element *delay = message.firstChild(u"delay", delayNs);
    return delay ? parseStamp(delay->attribute(u"stamp")) : QDateTime();
}

QString stanzaIdOf(const Element &message)
{
    const QString room = message.attribute(u"from").section(u'/', 0, 0);
    for (const Element &c : message.children())
        if (c.name() == u"stanza-id" && c.xmlns() == sidNs && c.attribute(u"by") == room)
            return c.attribute(u"id");
    return {};
}

} // namespace

HistoryRequest HistoryRequest::fromJoin(const Element *mucX, int defaultMaxStanzas)
{
    HistoryRequest request;
    const Element *history = mucX ? mucX->firstChild(u"history", mucNs) : nullptr;
    if (!history) {
        request.maxStanzas = defaultMaxStanzas;
        return request;
    }
    request.maxStanzas = nonNegative(*history, u"maxstanzas");
    request.maxChars = nonNegative(*history, u"maxchars");
    request.seconds = nonNegative(*history, u"seconds");
    if (history->hasAttribute(u"since")) {
        const QDateTime since = parseStamp(history->attribute(u"since"));
        if (since.isValid())
            request.since = since;
    }
    if (!request.maxStanzas && !request.maxChars && !request.seconds && !request.since)
        request.maxStanzas = defaultMaxStanzas;
    return request;
}

RoomLog::RoomLog(int capacity) : capacity_(std::max(0, capacity))
{
}

bool RoomLog::append(const Element &message, const QDateTime &received)
{
    const QString id = stanzaIdOf(message);
    if (!id.isEmpty() && ids_.contains(id))
        return false;
    QDateTime time = received.toUTC();
    if (const QDateTime stamp = roomStamp(message); stamp.isValid()) {
        time = stamp;
        if (!roomClock_ || stamp > *roomClock_)
            roomClock_ = stamp;
    }
    entries_.push_back(Entry{message, time, id});
    if (!id.isEmpty())
        ids_.insert(id);
    trim();
    return true;
}

std::vector<Element> RoomLog::replay(const HistoryRequest &request, const QString &roomJid,
                                     const QDateTime &now) const
{
    std::vector<Element> selected;
    if (request.maxStanzas == 0 || request.maxChars == 0)
        return selected;
    QDateTime after;
    if (request.seconds)
        after = now.toUTC().addSecs(-*request.seconds);
    if (request.since && (!after.isValid() || *request.since > after))
        after = *request.since;
    qint64 chars = 0;
    // Newest first, so that the limits keep the most recent messages.
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (request.maxStanzas && int(selected.size()) >= *request.maxStanzas)
            break;
        // Not a break: a rejoin's history can log older stamps after newer live messages.
        if (after.isValid() && it->time < after)
            continue;
        Element message = it->message;
        if (!message.firstChild(u"delay", delayNs)) {
            Element delay(QStringLiteral("delay"), delayNs);
            delay.setAttribute(QStringLiteral("from"), roomJid);
            delay.setAttribute(QStringLiteral("stamp"),
                               it->time.toUTC().toString(Qt::ISODateWithMs));
            message.addChild(std::move(delay));
        }
        if (request.maxChars) {
            chars += message.toXml().size();
            if (chars > *request.maxChars)
                break;
        }
        selected.push_back(std::move(message));
    }
    std::reverse(selected.begin(), selected.end());
    return selected;
}

std::optional<QDateTime> RoomLog::newest() const
{
    // Not the last entry: a rejoin's history logs older stamps after newer live messages.
    std::optional<QDateTime> latest;
    for (const Entry &entry : entries_)
        if (!latest || entry.time > *latest)
            latest = entry.time;
    return latest;
}

void RoomLog::restore(std::vector<Entry> entries)
{
    entries_.assign(std::make_move_iterator(entries.begin()),
                    std::make_move_iterator(entries.end()));
    ids_.clear();
    roomClock_.reset();
    for (const Entry &entry : entries_) {
        if (!entry.stanzaId.isEmpty())
            ids_.insert(entry.stanzaId);
        if (const QDateTime stamp = roomStamp(entry.message);
            stamp.isValid() && (!roomClock_ || stamp > *roomClock_))
            roomClock_ = stamp;
    }
    trim();
}

void RoomLog::identifyAll(const std::function<Element(const Element &)> &stamp)
{
    for (Entry &entry : entries_) {
        if (!entry.stanzaId.isEmpty())
            continue;
        entry.message = stamp(entry.message);
        entry.stanzaId = stanzaIdOf(entry.message);
        if (!entry.stanzaId.isEmpty())
            ids_.insert(entry.stanzaId);
    }
}

void RoomLog::trim()
{
    while (int(entries_.size()) > capacity_) {
        ids_.remove(entries_.front().stanzaId);
        entries_.pop_front();
    }
}

} // namespace xbnc
