#include "room_archive.h"

#include "stanza_error.h"
#include "xmpp_ns.h"

#include <QRandomGenerator>

#include <algorithm>
#include <optional>

namespace xbnc {

namespace {

const QString mamNs = QStringLiteral("urn:xmpp:mam:2");
const QString rsmNs = QStringLiteral("http://jabber.org/protocol/rsm");
const QString dataNs = QStringLiteral("jabber:x:data");
const QString sidNs = QStringLiteral("urn:xmpp:sid:0");

// One query, read from its form and RSM <set/>.
struct Query
{
    QString queryId;
    int max = RoomArchive::defaultPage;
    std::optional<QString> after;  // only entries after this id
    std::optional<QString> before; // only entries before this id
    bool lastPage = false;         // RSM <before/>: the page ends where the window ends
    QDateTime start;
    QDateTime end;
    QString with; // an occupant JID: only what that nick said
};

struct Parsed
{
    Query query;
    QString badRequest; // why the query cannot be read; empty when it can
};

QDateTime parseStamp(const QString &text)
{
    QDateTime stamp = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (stamp.isValid() && stamp.timeSpec() == Qt::LocalTime)
        stamp.setTimeSpec(Qt::UTC); // XEP-0082 stamps carry a zone; none means UTC
    return stamp;
}

QString readForm(const Element &form, Query &query)
{
    for (const Element &field : form.children()) {
        if (field.name() != u"field")
            continue;
        const QString var = field.attribute(u"var");
        const Element *valueElement = field.firstChild(u"value");
        const QString value = valueElement ? valueElement->text() : QString();
        if (var == u"FORM_TYPE") {
            if (value != mamNs)
                return QStringLiteral("Unexpected FORM_TYPE, expected '%1'").arg(mamNs);
        } else if (var == u"start" || var == u"end") {
            const QDateTime stamp = parseStamp(value);
            if (!stamp.isValid())
                return QStringLiteral("Invalid timestamp in '%1'").arg(var);
            (var == u"start" ? query.start : query.end) = stamp.toUTC();
        } else if (var == u"with") {
            query.with = value;
        } else if (var == u"after-id") {
            query.after = value;
        } else if (var == u"before-id") {
            query.before = value;
        } else {
            return QStringLiteral("Unsupported field '%1'").arg(var);
        }
    }
    return {};
}

QString readSet(const Element &set, Query &query)
{
    if (const Element *max = set.firstChild(u"max", rsmNs)) {
        bool ok = false;
        const int value = max->text().trimmed().toInt(&ok);
        if (!ok || value < 0)
            return QStringLiteral("Invalid <max/>");
        query.max = std::min(value, RoomArchive::maxPage);
    }
    // RSM's <after/> and <before/> take precedence over the form's after-id and before-id.
    if (const Element *after = set.firstChild(u"after", rsmNs))
        query.after = after->text();
    if (const Element *before = set.firstChild(u"before", rsmNs)) {
        query.lastPage = true;
        if (before->text().isEmpty())
            query.before.reset();
        else
            query.before = before->text();
    }
    return {};
}

Parsed parse(const Element &iq)
{
    Parsed parsed;
    const Element *request = iq.firstChild(u"query", mamNs);
    parsed.query.queryId = request->attribute(u"queryid");
    if (const Element *form = request->firstChild(u"x", dataNs))
        parsed.badRequest = readForm(*form, parsed.query);
    if (const Element *set = request->firstChild(u"set", rsmNs); set && parsed.badRequest.isEmpty())
        parsed.badRequest = readSet(*set, parsed.query);
    return parsed;
}

bool matches(const RoomLog::Entry &entry, const Query &query)
{
    if (query.start.isValid() && entry.time < query.start)
        return false;
    if (query.end.isValid() && entry.time > query.end)
        return false;
    // 'with' names an occupant; the room's own bare JID is every message in it.
    if (query.with.contains(u'/') && entry.message.attribute(u"from") != query.with)
        return false;
    return true;
}

Element resultMessage(const RoomLog::Entry &entry, const QString &queryId, const QString &roomJid,
                      const QString &sessionJid)
{
    Element message(QStringLiteral("message"), xmlns::client);
    message.setAttribute(QStringLiteral("to"), sessionJid);
    message.setAttribute(QStringLiteral("from"), roomJid);
    Element &result = message.addChild(Element(QStringLiteral("result"), mamNs));
    if (!queryId.isEmpty())
        result.setAttribute(QStringLiteral("queryid"), queryId);
    result.setAttribute(QStringLiteral("id"), entry.stanzaId);
    Element &forwarded = result.addChild(Element(QStringLiteral("forwarded"), xmlns::forward));
    Element delay(QStringLiteral("delay"), xmlns::delay);
    delay.setAttribute(QStringLiteral("stamp"), entry.time.toUTC().toString(Qt::ISODateWithMs));
    forwarded.addChild(std::move(delay));
    Element original = entry.message;
    original.removeAttribute(u"to"); // as archives store it: the room's message, to nobody
    forwarded.addChild(std::move(original));
    return message;
}

Element finished(const Element &iq, bool complete, const std::vector<const RoomLog::Entry *> &page,
                 qsizetype firstIndex, qsizetype count)
{
    Element reply = stanza::iqResult(iq);
    Element &fin = reply.addChild(Element(QStringLiteral("fin"), mamNs));
    fin.setAttribute(QStringLiteral("complete"),
                     complete ? QStringLiteral("true") : QStringLiteral("false"));
    Element &set = fin.addChild(Element(QStringLiteral("set"), rsmNs));
    if (!page.empty()) {
        Element &first = set.addChild(Element(QStringLiteral("first"), rsmNs));
        first.setAttribute(QStringLiteral("index"), QString::number(firstIndex));
        first.setText(page.front()->stanzaId);
        set.addChild(Element(QStringLiteral("last"), rsmNs)).setText(page.back()->stanzaId);
    }
    set.addChild(Element(QStringLiteral("count"), rsmNs)).setText(QString::number(count));
    return reply;
}

} // namespace

bool RoomArchive::isQuery(const Element &iq)
{
    return iq.name() == u"iq" && iq.attribute(u"type") == u"set" &&
           iq.firstChild(u"query", mamNs) != nullptr;
}

bool RoomArchive::isFormRequest(const Element &iq)
{
    return iq.name() == u"iq" && iq.attribute(u"type") == u"get" &&
           iq.firstChild(u"query", mamNs) != nullptr;
}

std::vector<Element> RoomArchive::answer(const RoomLog &log, const Element &iq,
                                         const QString &roomJid, const QString &sessionJid)
{
    const Parsed parsed = parse(iq);
    if (!parsed.badRequest.isEmpty())
        return {stanza::error(iq, stanza::ErrorType::Modify, QStringLiteral("bad-request"),
                              parsed.badRequest)};
    const Query &query = parsed.query;
    const std::deque<RoomLog::Entry> &entries = log.entries();
    auto positionOf = [&entries](const QString &id) -> std::optional<qsizetype> {
        for (qsizetype i = 0; i < qsizetype(entries.size()); ++i)
            if (!id.isEmpty() && entries[i].stanzaId == id)
                return i;
        return std::nullopt;
    };
    // The window [from, to) in the log; an id the log does not hold is an error (XEP-0059
    // §2.6), not an empty page, so that a client knows its place is lost.
    const std::optional<qsizetype> after = query.after ? positionOf(*query.after) : std::nullopt;
    const std::optional<qsizetype> before = query.before ? positionOf(*query.before) : std::nullopt;
    if ((query.after && !after) || (query.before && !before))
        return {stanza::error(iq, stanza::ErrorType::Cancel, QStringLiteral("item-not-found"))};
    const qsizetype from = after ? *after + 1 : 0;
    const qsizetype to = before ? *before : qsizetype(entries.size());
    std::vector<qsizetype> matching; // log positions that pass the form's filters
    for (qsizetype i = 0; i < qsizetype(entries.size()); ++i)
        if (!entries[i].stanzaId.isEmpty() && matches(entries[i], query))
            matching.push_back(i);
    const auto windowBegin = std::lower_bound(matching.begin(), matching.end(), from);
    const auto windowEnd = std::max(windowBegin, std::lower_bound(windowBegin, matching.end(), to));
    const qsizetype available = windowEnd - windowBegin;
    const qsizetype taken = std::min<qsizetype>(query.max, available);
    const auto pageBegin = query.lastPage ? windowEnd - taken : windowBegin;

    std::vector<Element> out;
    std::vector<const RoomLog::Entry *> page;
    for (auto it = pageBegin; it != pageBegin + taken; ++it) {
        page.push_back(&entries[*it]);
        out.push_back(resultMessage(entries[*it], query.queryId, roomJid, sessionJid));
    }
    out.push_back(finished(iq, taken == available, page, pageBegin - matching.begin(),
                           qsizetype(matching.size())));
    return out;
}

Element RoomArchive::form(const Element &request)
{
    Element reply = stanza::iqResult(request);
    Element &query = reply.addChild(Element(QStringLiteral("query"), mamNs));
    Element &form = query.addChild(Element(QStringLiteral("x"), dataNs));
    form.setAttribute(QStringLiteral("type"), QStringLiteral("form"));
    auto field = [&form](const QString &var, const QString &type) -> Element & {
        Element &f = form.addChild(Element(QStringLiteral("field"), dataNs));
        f.setAttribute(QStringLiteral("type"), type);
        f.setAttribute(QStringLiteral("var"), var);
        return f;
    };
    field(QStringLiteral("FORM_TYPE"), QStringLiteral("hidden"))
        .addChild(Element(QStringLiteral("value"), dataNs))
        .setText(mamNs);
    field(QStringLiteral("with"), QStringLiteral("jid-single"));
    for (const QString &var : {QStringLiteral("start"), QStringLiteral("end"),
                               QStringLiteral("after-id"), QStringLiteral("before-id")})
        field(var, QStringLiteral("text-single"));
    return reply;
}

Element RoomArchive::withOwnStanzaId(const Element &message, const QString &roomJid)
{
    Element stamped = message;
    std::erase_if(stamped.children(), [&roomJid](const Element &c) {
        return c.name() == u"stanza-id" && c.xmlns() == sidNs && c.attribute(u"by") == roomJid;
    });
    Element id(QStringLiteral("stanza-id"), sidNs);
    id.setAttribute(QStringLiteral("by"), roomJid);
    // 128 random bits: unique across rooms, restarts and clients' caches without a counter to
    // persist.
    QRandomGenerator *random = QRandomGenerator::global();
    id.setAttribute(QStringLiteral("id"), QStringLiteral("x%1%2")
                                              .arg(random->generate64(), 16, 16, QLatin1Char('0'))
                                              .arg(random->generate64(), 16, 16, QLatin1Char('0')));
    stamped.addChild(std::move(id));
    return stamped;
}

} // namespace xbnc
