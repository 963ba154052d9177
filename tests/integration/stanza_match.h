#pragma once

#include "xml_node.h"

#include <QString>

#include <functional>

// Predicates for TestClient::readUntil(), named after what a test waits for.
namespace match {

inline std::function<bool(const XmlNode &)> stanza(const QString &name, const QString &id)
{
    return [name, id](const XmlNode &n) { return n.name == name && n.attribute(u"id") == id; };
}

inline std::function<bool(const XmlNode &)> iq(const QString &id)
{
    return stanza(QStringLiteral("iq"), id);
}

inline std::function<bool(const XmlNode &)> message(const QString &id)
{
    return stanza(QStringLiteral("message"), id);
}

// A presence from that full JID, or from any resource of that bare JID; optional type.
inline std::function<bool(const XmlNode &)> presenceFrom(const QString &jid,
                                                         const QString &type = {})
{
    return [jid, type](const XmlNode &n) {
        const QString from = n.attribute(u"from");
        return n.name == u"presence" && (from == jid || from.startsWith(jid + QLatin1Char('/'))) &&
               n.attribute(u"type") == type;
    };
}

// A roster push (RFC 6121 §2.1.6) carrying an item for `jid`, optionally with that subscription.
inline std::function<bool(const XmlNode &)> rosterPush(const QString &jid,
                                                       const QString &subscription = {})
{
    return [jid, subscription](const XmlNode &n) {
        const XmlNode *query = n.child(u"query", u"jabber:iq:roster");
        const XmlNode *item = query ? query->child(u"item") : nullptr;
        return n.name == u"iq" && n.attribute(u"type") == u"set" && item &&
               item->attribute(u"jid") == jid &&
               (subscription.isEmpty() || item->attribute(u"subscription") == subscription);
    };
}

} // namespace match
