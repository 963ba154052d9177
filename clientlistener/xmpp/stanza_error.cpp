#include "stanza_error.h"

#include "xmpp_ns.h"

namespace xbnc::stanza {

namespace {

QString typeName(ErrorType type)
{
    switch (type) {
    case ErrorType::Auth:
        return QStringLiteral("auth");
    case ErrorType::Cancel:
        return QStringLiteral("cancel");
    case ErrorType::Continue:
        return QStringLiteral("continue");
    case ErrorType::Modify:
        return QStringLiteral("modify");
    case ErrorType::Wait:
        return QStringLiteral("wait");
    }
    return QStringLiteral("cancel");
}

Element reply(const Element &original, const QString &type)
{
    Element out(original.name(), xmlns::client);
    out.setAttribute(QStringLiteral("type"), type);
    if (original.hasAttribute(u"id"))
        out.setAttribute(QStringLiteral("id"), original.attribute(u"id"));
    if (original.hasAttribute(u"to"))
        out.setAttribute(QStringLiteral("from"), original.attribute(u"to"));
    if (original.hasAttribute(u"from"))
        out.setAttribute(QStringLiteral("to"), original.attribute(u"from"));
    return out;
}

} // namespace

Element error(const Element &original, ErrorType type, const QString &condition,
              const QString &text)
{
    Element out = reply(original, QStringLiteral("error"));
    Element e(QStringLiteral("error"), xmlns::client);
    e.setAttribute(QStringLiteral("type"), typeName(type));
    e.addChild(Element(condition, xmlns::stanzas));
    if (!text.isEmpty()) {
        Element t(QStringLiteral("text"), xmlns::stanzas);
        t.setText(text);
        e.addChild(std::move(t));
    }
    out.addChild(std::move(e));
    return out;
}

Element iqResult(const Element &request)
{
    return reply(request, QStringLiteral("result"));
}

ErrorType defaultType(const QString &condition)
{
    if (condition == u"remote-server-timeout" || condition == u"resource-constraint" ||
        condition == u"unexpected-request" || condition == u"recipient-unavailable")
        return ErrorType::Wait;
    if (condition == u"bad-request" || condition == u"not-acceptable" ||
        condition == u"jid-malformed" || condition == u"policy-violation")
        return ErrorType::Modify;
    if (condition == u"not-authorized" || condition == u"forbidden" ||
        condition == u"registration-required" || condition == u"subscription-required")
        return ErrorType::Auth;
    return ErrorType::Cancel;
}

const Element *payload(const Element &iq)
{
    for (const Element &c : iq.children())
        if (!c.isText() && c.name() != u"error")
            return &c;
    return nullptr;
}

} // namespace xbnc::stanza
