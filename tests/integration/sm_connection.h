#pragma once

// A phone's side of XEP-0198 in integration tests: one connection that counts what it handles,
// and the ids tests compare to find loss, doubling and disorder.

#include "test_client.h"

#include <QStringList>

#include <functional>
#include <optional>

namespace sm {

inline constexpr char16_t ns[] = u"urn:xmpp:sm:3";
inline const QString bobFull = QStringLiteral("bob@localhost/desk");

inline bool isStanza(const XmlNode &n)
{
    return n.xmlns == u"jabber:client" &&
           (n.name == u"message" || n.name == u"presence" || n.name == u"iq");
}

inline bool is(const XmlNode &n, QStringView name)
{
    return n.xmlns == ns && n.name == name;
}

inline QByteArray chatFromBob(const QString &id)
{
    return "<message to='alice@localhost' type='chat' id='" + id.toUtf8() + "'><body>" +
           id.toUtf8() + "</body></message>";
}

// The ids of bob's chat messages, in the order received.
inline QStringList chatIds(const QList<XmlNode> &stanzas)
{
    QStringList ids;
    for (const XmlNode &n : stanzas)
        if (n.name == u"message" && n.attribute(u"type") == u"chat" &&
            n.attribute(u"from") == bobFull)
            ids.append(n.attribute(u"id"));
    return ids;
}

// The ids of the groupchat messages bob wrote in `room`, in the order received.
inline QStringList groupchatIds(const QList<XmlNode> &stanzas, const QString &room)
{
    QStringList ids;
    for (const XmlNode &n : stanzas)
        if (n.name == u"message" && n.attribute(u"type") == u"groupchat" &&
            n.attribute(u"from") == room + QStringLiteral("/bob") && n.child(u"body"))
            ids.append(n.attribute(u"id"));
    return ids;
}

inline QStringList numbered(const QString &prefix, int first, int last)
{
    QStringList ids;
    for (int i = first; i <= last; ++i)
        ids.append(prefix + QString::number(i));
    return ids;
}

// One connection of the phone with stream management on. Every stanza the test takes from it
// counts towards the h the phone reports, as a client counts what it has handled; stanzas still
// unread when the connection is cut count for nothing, as on a phone that lost them.
struct Connection
{
    explicit Connection(TestClient *connection, quint32 handledBefore = 0)
        : client(connection), handledBase(handledBefore)
    {
    }

    TestClient *client = nullptr;
    QList<XmlNode> handled;  // stanzas taken since <enable/> (or since <resumed/>)
    quint32 handledBase = 0; // stanzas handled on earlier connections of the session
    QList<XmlNode> nonzas;   // <r/>, <a/>… in the order received

    quint32 h() const { return handledBase + quint32(handled.size()); }

    // The next top-level element: a stanza is counted, a nonza kept aside.
    std::optional<XmlNode> next(QDeadlineTimer deadline = QDeadlineTimer(10000))
    {
        std::optional<XmlNode> n = client->readStanza(deadline);
        if (n && isStanza(*n))
            handled.append(*n);
        else if (n)
            nonzas.append(*n);
        return n;
    }

    // Reads in order until an element matches; false on timeout.
    bool until(const std::function<bool(const XmlNode &)> &wanted,
               QDeadlineTimer deadline = QDeadlineTimer(10000))
    {
        for (;;) {
            const std::optional<XmlNode> n = next(deadline);
            if (!n)
                return false;
            if (wanted(*n))
                return true;
        }
    }

    // <enable resume='true'/>, read up to <enabled/> (or <failed/>), which it returns; what came
    // before it is not counted.
    std::optional<XmlNode> enable()
    {
        client->send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
        for (;;) {
            std::optional<XmlNode> n = client->readStanza(QDeadlineTimer(10000));
            if (!n || is(*n, u"enabled") || is(*n, u"failed"))
                return n;
        }
    }
};

} // namespace sm
