#include "resource_binding.h"

#include "stanza_error.h"

#include "stream_namespaces.h"

#include <QRandomGenerator>

namespace xbnc {

namespace {

// RFC 7622 §3.1: each part of a JID is at most 1023 bytes.
constexpr qsizetype kMaxResourceBytes = 1023;

QString generatedResource()
{
    return QStringLiteral("xbnc-%1").arg(QRandomGenerator::system()->generate(), 8, 16,
                                         QChar(u'0'));
}

bool isControlOrSpaceOnly(const QString &resource)
{
    for (const QChar c : resource) {
        if (!c.isSpace() && c.category() != QChar::Other_Control)
            return false;
    }
    return true;
}

} // namespace

bool isBindRequest(const Element &stanza)
{
    return stanza.name() == u"iq" && stanza.attribute(u"type") == u"set" &&
           stanza.firstChild(u"bind", ns::bind);
}

bool isSessionRequest(const Element &stanza)
{
    return stanza.name() == u"iq" && stanza.attribute(u"type") == u"set" &&
           stanza.firstChild(u"session", ns::session);
}

BindOutcome bindResource(const Element &iq, const Jid &account, const QString &boundResource)
{
    const Element *bind = iq.firstChild(u"bind", ns::bind);
    const Element *requested = bind ? bind->firstChild(u"resource", ns::bind) : nullptr;
    QString resource = requested ? requested->text() : QString();
    if (resource.isEmpty()) {
        resource = generatedResource();
    } else if (resource.toUtf8().size() > kMaxResourceBytes || isControlOrSpaceOnly(resource)) {
        return {stanza::error(iq, stanza::ErrorType::Modify, QStringLiteral("bad-request")), {}};
    }

    Element reply = stanza::iqResult(iq);
    Element &result = reply.addChild(Element(QStringLiteral("bind"), ns::bind.toString()));
    Element jid(QStringLiteral("jid"), ns::bind.toString());
    jid.setText(
        account.withResource(boundResource.isEmpty() ? resource : boundResource).toString());
    result.addChild(std::move(jid));
    return {std::move(reply), resource};
}

} // namespace xbnc
