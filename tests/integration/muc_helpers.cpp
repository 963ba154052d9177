#include "muc_helpers.h"

#include "test_client.h"

namespace muc {

namespace {

QString bareOf(const QString &jid)
{
    const qsizetype slash = jid.indexOf(QLatin1Char('/'));
    return slash < 0 ? jid : jid.left(slash);
}

QByteArray escaped(const QString &text)
{
    return text.toHtmlEscaped().replace(QLatin1Char('\''), QLatin1String("&apos;")).toUtf8();
}

} // namespace

QByteArray joinPresence(const QString &occupantJid, const QByteArray &insideX)
{
    return "<presence to='" + escaped(occupantJid) + "'><x xmlns='http://jabber.org/protocol/muc'" +
           (insideX.isEmpty() ? QByteArray("/>") : '>' + insideX + "</x>") + "</presence>";
}

QByteArray leavePresence(const QString &occupantJid)
{
    return "<presence to='" + escaped(occupantJid) + "' type='unavailable'/>";
}

QByteArray groupchat(const QString &room, const QString &id, const QString &body)
{
    return "<message to='" + escaped(room) + "' type='groupchat' id='" + escaped(id) + "'><body>" +
           escaped(body) + "</body></message>";
}

QSet<int> statusCodes(const XmlNode &stanza)
{
    QSet<int> codes;
    const XmlNode *x = stanza.child(u"x", mucns::user);
    if (!x)
        return codes;
    for (const XmlNode &c : x->children) {
        if (c.name == u"status")
            codes.insert(c.attribute(u"code").toInt());
    }
    return codes;
}

const XmlNode *userItem(const XmlNode &stanza)
{
    const XmlNode *x = stanza.child(u"x", mucns::user);
    return x ? x->child(u"item") : nullptr;
}

QString errorCondition(const XmlNode &stanza)
{
    const XmlNode *error = stanza.child(u"error");
    if (!error)
        return {};
    for (const XmlNode &c : error->children) {
        if (!c.isText() && c.xmlns == mucns::stanzas && c.name != u"text")
            return c.name;
    }
    return {};
}

bool isFromRoom(const XmlNode &stanza, const QString &room)
{
    return bareOf(stanza.attribute(u"from")) == room;
}

bool isSubjectMessage(const XmlNode &stanza)
{
    return stanza.name == u"message" && stanza.attribute(u"type") == u"groupchat" &&
           stanza.child(u"subject") && !stanza.child(u"body");
}

Predicate presenceFrom(const QString &occupantJid, const QString &type)
{
    return [occupantJid, type](const XmlNode &n) {
        return n.name == u"presence" && n.attribute(u"from") == occupantJid &&
               n.attribute(u"type") == type;
    };
}

Predicate anyPresenceFrom(const QString &occupantJid)
{
    return [occupantJid](const XmlNode &n) {
        return n.name == u"presence" && n.attribute(u"from") == occupantJid;
    };
}

Predicate subjectOf(const QString &room)
{
    return [room](const XmlNode &n) { return isFromRoom(n, room) && isSubjectMessage(n); };
}

Predicate groupchatWithBody(const QString &room, const QString &body)
{
    return [room, body](const XmlNode &n) {
        const XmlNode *b = n.child(u"body");
        return n.name == u"message" && n.attribute(u"type") == u"groupchat" &&
               isFromRoom(n, room) && b && b->text() == body;
    };
}

Predicate fromRoom(const QString &room)
{
    return [room](const XmlNode &n) { return isFromRoom(n, room); };
}

std::optional<QList<XmlNode>> readJoin(TestClient &client, const QString &room,
                                       QDeadlineTimer deadline)
{
    QList<XmlNode> received;
    for (;;) {
        std::optional<XmlNode> next = client.readUntil(fromRoom(room), deadline);
        if (!next)
            return std::nullopt;
        received.append(*next);
        if (isSubjectMessage(*next))
            return received;
        // A join that ends in an error has no subject.
        if (next->name == u"presence" && next->attribute(u"type") == u"error")
            return received;
    }
}

std::optional<QList<XmlNode>> join(TestClient &client, const QString &occupantJid, QString *error,
                                   const QByteArray &insideX)
{
    client.send(joinPresence(occupantJid, insideX));
    std::optional<QList<XmlNode>> stanzas = readJoin(client, bareOf(occupantJid));
    if (!stanzas)
        *error = client.errorString();
    return stanzas;
}

std::optional<XmlNode> request(TestClient &client, const QString &id, const QByteArray &iq,
                               QString *error)
{
    client.send(iq);
    std::optional<XmlNode> reply = client.readUntil(
        [&id](const XmlNode &n) { return n.name == u"iq" && n.attribute(u"id") == id; },
        QDeadlineTimer(10000));
    if (!reply)
        *error = client.errorString();
    return reply;
}

bool createRoom(TestClient &owner, const QString &room, const QString &nick,
                const QList<QPair<QString, QString>> &config, QString *error)
{
    const QString occupant = room + QLatin1Char('/') + nick;
    const std::optional<QList<XmlNode>> joined = join(owner, occupant, error);
    if (!joined)
        return false;
    const XmlNode *self = nullptr;
    for (const XmlNode &n : *joined) {
        if (n.name == u"presence" && n.attribute(u"from") == occupant)
            self = &n;
    }
    if (!self || !statusCodes(*self).contains(201)) {
        *error = QStringLiteral("creating %1: no new-room presence (201) in\n%2")
                     .arg(room, describe(*joined));
        return false;
    }

    QByteArray form = "<x xmlns='jabber:x:data' type='submit'";
    if (config.isEmpty()) {
        form += "/>";
    } else {
        form += "><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value>"
                "</field>";
        for (const auto &[var, value] : config)
            form +=
                "<field var='" + escaped(var) + "'><value>" + escaped(value) + "</value></field>";
        form += "</x>";
    }
    const QString id = QStringLiteral("configure-") + room;
    const std::optional<XmlNode> reply = request(
        owner, id,
        "<iq type='set' id='" + escaped(id) + "' to='" + escaped(room) +
            "'><query xmlns='http://jabber.org/protocol/muc#owner'>" + form + "</query></iq>",
        error);
    if (!reply)
        return false;
    if (reply->attribute(u"type") != u"result") {
        *error = QStringLiteral("configuring %1 failed: %2")
                     .arg(room, QString::fromUtf8(reply->toXml()));
        return false;
    }
    return true;
}

QString describe(const QList<XmlNode> &stanzas)
{
    QString out;
    for (const XmlNode &n : stanzas)
        out += QString::fromUtf8(n.toXml()) + QLatin1Char('\n');
    return out.isEmpty() ? QStringLiteral("(nothing)") : out;
}

bool publishAutojoinBookmark(TestClient &client, const QString &room, const QString &nick,
                             QString *error)
{
    const auto published = muc::request(
        client, QStringLiteral("bookmark"),
        "<iq type='set' id='bookmark'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish "
        "node='urn:xmpp:bookmarks:1'><item id='" +
            room.toUtf8() + "'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'><nick>" +
            nick.toUtf8() +
            "</nick>"
            "</conference></item></publish><publish-options><x xmlns='jabber:x:data' "
            "type='submit'><field var='FORM_TYPE' type='hidden'><value>"
            "http://jabber.org/protocol/pubsub#publish-options</value></field><field "
            "var='pubsub#persist_items'><value>true</value></field><field "
            "var='pubsub#access_model'><value>whitelist</value></field></x></publish-options>"
            "</pubsub></iq>",
        error);
    if (!published)
        return false;
    if (published->attribute(u"type") != u"result") {
        *error =
            QStringLiteral("publishing the bookmark: ") + QString::fromUtf8(published->toXml());
        return false;
    }
    return true;
}

} // namespace muc
