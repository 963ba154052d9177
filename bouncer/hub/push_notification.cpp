#include "push_notification.h"

#include "xmpp_ns.h"

namespace xbnc::xep0357 {

namespace {

const QString dataFormsNs = QStringLiteral("jabber:x:data");

void addField(Element &form, const QString &var, const QString &value, const QString &type = {})
{
    Element &field = form.addChild(Element(QStringLiteral("field"), dataFormsNs));
    field.setAttribute(QStringLiteral("var"), var);
    if (!type.isEmpty())
        field.setAttribute(QStringLiteral("type"), type);
    field.addChild(Element(QStringLiteral("value"), dataFormsNs)).setText(value);
}

} // namespace

Element publish(const PushRegistration &registration, const Summary &summary)
{
    Element form(QStringLiteral("x"), dataFormsNs);
    form.setAttribute(QStringLiteral("type"), QStringLiteral("form"));
    addField(form, QStringLiteral("FORM_TYPE"), QStringLiteral("urn:xmpp:push:summary"),
             QStringLiteral("hidden"));
    addField(form, QStringLiteral("message-count"), QStringLiteral("1"));
    if (!summary.sender.isEmpty())
        addField(form, QStringLiteral("last-message-sender"), summary.sender);
    if (!summary.body.isEmpty())
        addField(form, QStringLiteral("last-message-body"), summary.body);

    Element pubsub(QStringLiteral("pubsub"), xmlns::pubsub);
    Element &publish = pubsub.addChild(Element(QStringLiteral("publish"), xmlns::pubsub));
    publish.setAttribute(QStringLiteral("node"), registration.node);
    publish.addChild(Element(QStringLiteral("item"), xmlns::pubsub))
        .addChild(Element(QStringLiteral("notification"), ns))
        .addChild(std::move(form));
    if (!registration.form.isNull())
        pubsub.addChild(Element(QStringLiteral("publish-options"), xmlns::pubsub))
            .addChild(registration.form);

    Element iq(QStringLiteral("iq"), xmlns::client);
    iq.setAttribute(QStringLiteral("type"), QStringLiteral("set"));
    iq.setAttribute(QStringLiteral("to"), registration.jid);
    iq.addChild(std::move(pubsub));
    return iq;
}

} // namespace xbnc::xep0357
