#include "push_registrations.h"

#include "xmpp_ns.h"

#include <algorithm>

namespace xbnc {

namespace {

const QString dataFormsNs = QStringLiteral("jabber:x:data");
const QString savedNs = QStringLiteral("https://xbnc.invalid/push");

} // namespace

PushRegistration PushRegistrations::fromRequest(const Element &request)
{
    PushRegistration registration;
    registration.jid = request.attribute(u"jid");
    registration.node = request.attribute(u"node");
    if (const Element *form = request.firstChild(u"x", dataFormsNs))
        registration.form = *form;
    return registration;
}

void PushRegistrations::enable(const QString &device, PushRegistration registration)
{
    std::vector<PushRegistration> &list = devices_[device];
    const auto same = std::find_if(list.begin(), list.end(), [&](const PushRegistration &r) {
        return r.jid == registration.jid && r.node == registration.node;
    });
    if (same != list.end())
        *same = std::move(registration);
    else
        list.push_back(std::move(registration));
}

std::vector<PushRegistration> PushRegistrations::disable(const QString &device, const QString &jid,
                                                         const QString &node)
{
    std::vector<PushRegistration> removed;
    const auto it = devices_.find(device);
    if (it == devices_.end())
        return removed;
    std::vector<PushRegistration> &list = it->second;
    const auto gone =
        std::stable_partition(list.begin(), list.end(), [&](const PushRegistration &r) {
            return !(r.jid == jid && (node.isEmpty() || r.node == node));
        });
    removed.assign(std::make_move_iterator(gone), std::make_move_iterator(list.end()));
    list.erase(gone, list.end());
    if (list.empty())
        devices_.erase(it);
    return removed;
}

const std::vector<PushRegistration> &PushRegistrations::of(const QString &device) const
{
    static const std::vector<PushRegistration> none;
    const auto it = devices_.find(device);
    return it == devices_.end() ? none : it->second;
}

Element PushRegistrations::toElement(const std::vector<PushRegistration> &registrations)
{
    Element saved(QStringLiteral("push"), savedNs);
    for (const PushRegistration &registration : registrations) {
        Element &entry = saved.addChild(Element(QStringLiteral("registration"), savedNs));
        entry.setAttribute(QStringLiteral("jid"), registration.jid);
        entry.setAttribute(QStringLiteral("node"), registration.node);
        if (registration.viaServer)
            entry.setAttribute(QStringLiteral("route"), QStringLiteral("server"));
        if (!registration.form.isNull())
            entry.addChild(registration.form);
    }
    return saved;
}

std::vector<PushRegistration> PushRegistrations::fromElement(const Element &saved)
{
    std::vector<PushRegistration> registrations;
    if (saved.name() != u"push" || saved.xmlns() != savedNs)
        return registrations;
    for (const Element &entry : saved.children()) {
        if (entry.name() != u"registration" || entry.xmlns() != savedNs)
            continue;
        PushRegistration registration = fromRequest(entry);
        registration.viaServer = entry.attribute(u"route") == u"server";
        if (!registration.jid.isEmpty())
            registrations.push_back(std::move(registration));
    }
    return registrations;
}

} // namespace xbnc
