#include "sasl2_request.h"

#include "stream_namespaces.h"

namespace xbnc {

namespace {

constexpr QStringView kInlineCarbonsId = u"xbnc-bind2-carbons";

Element child(const QString &name, QStringView xmlns)
{
    return Element(name, xmlns.toString());
}

Element feature(QStringView var)
{
    Element element = child(QStringLiteral("feature"), ns::bind2);
    element.setAttribute(QStringLiteral("var"), var.toString());
    return element;
}

Element mechanismList(const QString &name, QStringView xmlns, const QStringList &mechanisms)
{
    Element list = child(name, xmlns);
    for (const QString &mechanism : mechanisms) {
        Element item = child(QStringLiteral("mechanism"), xmlns);
        item.setText(mechanism);
        list.addChild(std::move(item));
    }
    return list;
}

Bind2Request parseBind(const Element &bind)
{
    Bind2Request request;
    if (const Element *tag = bind.firstChild(u"tag", ns::bind2))
        request.tag = tag->text();
    if (const Element *enable = bind.firstChild(u"enable", ns::sm)) {
        request.enableSm = true;
        const QString resume = enable->attribute(u"resume");
        request.smResumable = resume == u"true" || resume == u"1";
    }
    request.carbons = bind.firstChild(u"enable", ns::carbons) != nullptr;
    request.inactive = bind.firstChild(u"inactive", ns::csi) != nullptr;
    return request;
}

} // namespace

Sasl2Request parseAuthenticate(const Element &authenticate)
{
    Sasl2Request request;
    request.mechanism = authenticate.attribute(u"mechanism");
    if (const Element *initial = authenticate.firstChild(u"initial-response", ns::sasl2))
        request.initialResponse = initial->text();
    if (const Element *agent = authenticate.firstChild(u"user-agent", ns::sasl2))
        request.userAgentId = agent->attribute(u"id");
    if (const Element *bind = authenticate.firstChild(u"bind", ns::bind2))
        request.bind = parseBind(*bind);
    if (const Element *resume = authenticate.firstChild(u"resume", ns::sm))
        request.resume = *resume;
    if (const Element *fast = authenticate.firstChild(u"fast", ns::fast)) {
        Sasl2Request::Fast login;
        bool valid = false;
        const qint64 count = fast->attribute(u"count").toLongLong(&valid);
        login.count = valid && count >= 0 ? count : -1;
        const QString invalidate = fast->attribute(u"invalidate");
        login.invalidate = invalidate == u"true" || invalidate == u"1";
        request.fast = login;
    }
    if (const Element *token = authenticate.firstChild(u"request-token", ns::fast))
        request.requestTokenMechanism = token->attribute(u"mechanism");
    return request;
}

Element authenticationFeature(const QStringList &mechanisms, const QStringList &fastMechanisms)
{
    Element authentication = mechanismList(QStringLiteral("authentication"), ns::sasl2, mechanisms);
    Element &inlined = authentication.addChild(child(QStringLiteral("inline"), ns::sasl2));
    Element &bind = inlined.addChild(child(QStringLiteral("bind"), ns::bind2));
    Element &bindInline = bind.addChild(child(QStringLiteral("inline"), ns::bind2));
    bindInline.addChild(feature(ns::sm));
    bindInline.addChild(feature(ns::carbons));
    bindInline.addChild(feature(ns::csi));
    inlined.addChild(child(QStringLiteral("sm"), ns::sm));
    if (!fastMechanisms.isEmpty())
        inlined.addChild(mechanismList(QStringLiteral("fast"), ns::fast, fastMechanisms));
    return authentication;
}

Element inlineCarbonsRequest(const QString &from)
{
    Element iq(QStringLiteral("iq"), ns::client.toString());
    iq.setAttribute(QStringLiteral("type"), QStringLiteral("set"));
    iq.setAttribute(QStringLiteral("id"), kInlineCarbonsId.toString());
    iq.setAttribute(QStringLiteral("from"), from);
    iq.addChild(child(QStringLiteral("enable"), ns::carbons));
    return iq;
}

bool isInlineBindAnswer(const Element &stanza)
{
    return stanza.name() == u"iq" && stanza.attribute(u"id") == kInlineCarbonsId &&
           (stanza.attribute(u"type") == u"result" || stanza.attribute(u"type") == u"error");
}

Element sasl2Element(const QString &name, const QString &text)
{
    Element element = child(name, ns::sasl2);
    if (!text.isEmpty())
        element.setText(text);
    return element;
}

Element sasl2Failure(const QString &condition, const QString &text)
{
    Element failure = sasl2Element(QStringLiteral("failure"));
    failure.addChild(child(condition, ns::sasl));
    if (!text.isEmpty())
        failure.addChild(sasl2Element(QStringLiteral("text"), text));
    return failure;
}

} // namespace xbnc
