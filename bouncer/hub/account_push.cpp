#include "account.h"

#include "push_notification.h"
#include "push_rules.h"
#include "server_caps.h"
#include "stanza_error.h"
#include "xmpp_ns.h"

#include <QLoggingCategory>

#include <algorithm>
#include <vector>

// XEP-0357 for the devices behind xbnc (docs/PUSH.md): a session's <enable/> and <disable/>
// are answered here and kept per device; while a device is away (its session hibernating, or
// no session for up to [push] device_timeout) a message that matters is published to its app
// server through the upstream connection, once per burst.

Q_DECLARE_LOGGING_CATEGORY(lcAccount)

namespace xbnc {

namespace {

// The IqRouter context of a publish: which registration an error disables. A NUL never occurs
// in XML, so it cannot be part of a device, JID or node.
QString publishContext(const QString &device, const PushRegistration &registration)
{
    return QStringList{device, registration.jid, registration.node}.join(QChar(0));
}

} // namespace

void Account::restorePushRegistrations(PushRegistrations::Devices devices)
{
    push_.restore(std::move(devices));
}

bool Account::answerPush(SessionId id, Session &session, const Element &stanza)
{
    const Element *payload = stanza::payload(stanza);
    if (!payload || payload->xmlns() != xep0357::ns || stanza.attribute(u"type") != u"set")
        return false;
    const Address address = classify(Jid(stanza.attribute(u"to")));
    if (address != Address::Server && address != Address::AccountBare)
        return false;
    const bool enable = payload->name() == u"enable";
    if (!enable && payload->name() != u"disable") {
        replyError(id, stanza, QStringLiteral("feature-not-implemented"));
        return true;
    }
    PushRegistration registration = PushRegistrations::fromRequest(*payload);
    if (registration.jid.isEmpty() || !Jid(registration.jid).isValid()) {
        sendToSession(id, stanza::error(stanza, stanza::ErrorType::Modify,
                                        QStringLiteral("bad-request"),
                                        QStringLiteral("XEP-0357 needs the app server's jid")));
        return true;
    }
    const QString &device = session.resource;
    if (enable) {
        registration.viaServer =
            xep0357::viaServer(pushSettings_.route, registration.form, serverHasPush_);
        qCInfo(lcAccount) << "push enabled for device" << device << "via" << registration.jid
                          << (registration.viaServer ? "(server route)" : "(direct route)");
        push_.enable(device, std::move(registration));
    } else {
        const std::vector<PushRegistration> removed =
            push_.disable(device, registration.jid, registration.node);
        qCInfo(lcAccount) << "push disabled for device" << device << "via" << registration.jid
                          << "(" << removed.size() << "registrations)";
        disableOnServer(device, removed); // in case it was left enabled there
    }
    out_.pushRegistrationsChanged(device, push_.of(device));
    sendToSession(id, stanza::iqResult(stanza));
    return true;
}

bool Account::deviceAway(const QString &device) const
{
    if (const auto id = sessionByResource(device))
        return sessions_.at(*id).hibernating; // connected, even inactive (XEP-0352): no push
    const DeviceCursors::Device *known = cursors_.find(device);
    return known && known->seen.secsTo(now_()) < qint64(pushSettings_.deviceTimeout.count());
}

void Account::pushFor(const Element &message, const QString &roomNick)
{
    if (push_.devices().empty() || !upstreamOnline_ || upstreamInterrupted_)
        return;
    // Which devices could be pushed comes first: it is a lookup per registered device, while
    // reading the message (a mention search in every room message) is what usually finds
    // nothing to do while the phones are connected.
    std::vector<const PushRegistrations::Devices::value_type *> away;
    for (const auto &entry : push_.devices()) {
        const auto &registrations = entry.second;
        const bool direct = std::any_of(registrations.begin(), registrations.end(),
                                        [](const PushRegistration &r) { return !r.viaServer; });
        if (direct && deviceAway(entry.first))
            away.push_back(&entry);
    }
    if (away.empty() || !xep0357::matters(message, account_, roomNick))
        return;
    xep0357::Summary summary;
    if (pushSettings_.includeSender)
        summary.sender = message.attribute(u"from");
    if (pushSettings_.includeBody)
        if (const Element *body = message.firstChild(u"body", xmlns::client))
            summary.body = body->text();
    const QDateTime now = now_();
    for (const auto *entry : away) {
        if (!bursts_.admit(entry->first, now))
            continue;
        for (const PushRegistration &registration : entry->second)
            if (!registration.viaServer)
                request(xep0357::publish(registration, summary), IqRouter::Purpose::Push,
                        publishContext(entry->first, registration));
    }
}

void Account::pushAnswered(const IqRouter::Outbound &request, const Element &reply)
{
    if (reply.attribute(u"type") != u"error")
        return;
    const Element *error = reply.firstChild(u"error", xmlns::client);
    // XEP-0357 §5: the app server may say "later"; anything else means the registration is dead.
    if (error && error->attribute(u"type") == u"wait")
        return;
    const QStringList parts = request.context.split(QChar(0));
    if (parts.size() != 3)
        return;
    const QString &device = parts[0];
    if (push_.disable(device, parts[1], parts[2]).empty())
        return;
    qCWarning(lcAccount) << "the app server" << parts[1] << "refused a push for device" << device
                         << "; that registration is removed";
    out_.pushRegistrationsChanged(device, push_.of(device));
}

void Account::sessionHibernating(SessionId id)
{
    const auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.hibernating)
        return;
    it->second.hibernating = true;
    deviceLeft(it->second.resource);
}

void Account::sessionResumed(SessionId id)
{
    if (const auto it = sessions_.find(id); it != sessions_.end()) {
        it->second.hibernating = false;
        deviceBack(it->second.resource);
    }
}

void Account::deviceLeft(const QString &device)
{
    for (const PushRegistration &registration : push_.of(device))
        if (registration.viaServer)
            out_.enableServerPush(device, registration);
}

void Account::deviceBack(const QString &device)
{
    bursts_.deviceBack(device);
    disableOnServer(device, push_.of(device));
}

// From xbnc's own session: the server removes the registration whichever session made it.
void Account::disableOnServer(const QString &device,
                              const std::vector<PushRegistration> &registrations)
{
    for (const PushRegistration &registration : registrations) {
        if (!registration.viaServer)
            continue;
        Element iq(QStringLiteral("iq"), xmlns::client);
        iq.setAttribute(QStringLiteral("type"), QStringLiteral("set"));
        Element &disable = iq.addChild(Element(QStringLiteral("disable"), xep0357::ns));
        disable.setAttribute(QStringLiteral("jid"), registration.jid);
        if (!registration.node.isEmpty())
            disable.setAttribute(QStringLiteral("node"), registration.node);
        request(std::move(iq), IqRouter::Purpose::ServerPushOff, device);
    }
}

void Account::accountInfoAnswered(Element &query)
{
    serverHasPush_ = false;
    for (const Element &feature : query.children())
        if (feature.name() == u"feature" && feature.attribute(u"var") == xep0357::ns)
            serverHasPush_ = true;
    ServerCaps::addFeatures(query, {xep0357::ns}); // answered by xbnc, whatever the server has
}

} // namespace xbnc
