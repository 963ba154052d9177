#include "bookmarks.h"

#include "jid.h"

namespace xbnc::bookmarks {

namespace {
const QString pubsubNs = QStringLiteral("http://jabber.org/protocol/pubsub");
const QString eventNs = QStringLiteral("http://jabber.org/protocol/pubsub#event");
const QString privateNs = QStringLiteral("jabber:iq:private");
const QString legacyNs = QStringLiteral("storage:bookmarks");
} // namespace

Element request(const QString &id)
{
    Element iq(QStringLiteral("iq"), QStringLiteral("jabber:client"));
    iq.setAttribute(QStringLiteral("type"), QStringLiteral("get"));
    iq.setAttribute(QStringLiteral("id"), id);
    Element &pubsub = iq.addChild(Element(QStringLiteral("pubsub"), pubsubNs));
    Element items(QStringLiteral("items"), pubsubNs);
    items.setAttribute(QStringLiteral("node"), node);
    pubsub.addChild(std::move(items));
    return iq;
}

std::optional<Bookmark> fromItem(const Element &item)
{
    const Element *conference = item.firstChild(u"conference", node);
    const Jid room(item.attribute(u"id"));
    if (!conference || !room.isValid() || room.local().isEmpty() || !room.isBare())
        return std::nullopt;
    Bookmark bookmark;
    bookmark.roomJid = room.bareString();
    bookmark.name = conference->attribute(u"name");
    const QString autojoin = conference->attribute(u"autojoin");
    bookmark.autojoin = autojoin == u"true" || autojoin == u"1";
    if (const Element *nick = conference->firstChild(u"nick", node))
        bookmark.nick = nick->text();
    if (const Element *password = conference->firstChild(u"password", node))
        bookmark.password = password->text();
    return bookmark;
}

const Element *itemsOf(const Element &stanza)
{
    for (const QString &ns : {pubsubNs, eventNs}) {
        const Element *container = stanza.firstChild(ns == pubsubNs ? u"pubsub" : u"event", ns);
        if (!container)
            continue;
        const Element *items = container->firstChild(u"items", ns);
        if (items && items->attribute(u"node") == node)
            return items;
    }
    return nullptr;
}

Element legacyRequest(const QString &id)
{
    Element iq(QStringLiteral("iq"), QStringLiteral("jabber:client"));
    iq.setAttribute(QStringLiteral("type"), QStringLiteral("get"));
    iq.setAttribute(QStringLiteral("id"), id);
    Element &query = iq.addChild(Element(QStringLiteral("query"), privateNs));
    query.addChild(Element(QStringLiteral("storage"), legacyNs));
    return iq;
}

std::vector<Bookmark> fromLegacyStorage(const Element &result)
{
    std::vector<Bookmark> found;
    const Element *query = result.firstChild(u"query", privateNs);
    const Element *storage = query ? query->firstChild(u"storage", legacyNs) : nullptr;
    if (!storage)
        return found;
    for (const Element &c : storage->children()) {
        const Jid room(c.attribute(u"jid"));
        if (c.name() != u"conference" || !room.isValid() || room.local().isEmpty())
            continue;
        Bookmark bookmark;
        bookmark.roomJid = room.bareString();
        bookmark.name = c.attribute(u"name");
        const QString autojoin = c.attribute(u"autojoin");
        bookmark.autojoin = autojoin == u"true" || autojoin == u"1";
        if (const Element *nick = c.firstChild(u"nick", legacyNs))
            bookmark.nick = nick->text();
        if (const Element *password = c.firstChild(u"password", legacyNs))
            bookmark.password = password->text();
        found.push_back(std::move(bookmark));
    }
    return found;
}

} // namespace xbnc::bookmarks
