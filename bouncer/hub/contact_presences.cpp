#include "contact_presences.h"

#include "jid.h"

namespace xbnc {

void ContactPresences::update(const Element &presence)
{
    const QString from = presence.attribute(u"from");
    const QString type = presence.attribute(u"type");
    if (type.isEmpty()) {
        if (!presences_.contains(from))
            order_.push_back(from);
        presences_.insert(from, presence);
        return;
    }
    // unavailable or error: the contact (or, for a bare-JID error, all its resources) is gone.
    const bool bare = Jid(from).isBare();
    const Jid fromJid(from);
    for (auto it = presences_.begin(); it != presences_.end();) {
        if (it.key() == from || (bare && Jid(it.key()).sameBare(fromJid)))
            it = presences_.erase(it);
        else
            ++it;
    }
    std::erase_if(order_, [this](const QString &key) { return !presences_.contains(key); });
}

void ContactPresences::addSubscriptionRequest(const Element &presence)
{
    requests_.insert(Jid(presence.attribute(u"from")).bareString(), presence);
}

void ContactPresences::settleSubscriptionRequest(const QString &bareJid)
{
    requests_.remove(Jid(bareJid).bareString());
}

std::vector<Element> ContactPresences::available() const
{
    std::vector<Element> result;
    result.reserve(order_.size());
    for (const QString &key : order_)
        result.push_back(presences_.value(key));
    return result;
}

std::vector<Element> ContactPresences::pendingRequests() const
{
    std::vector<Element> result;
    for (const Element &request : requests_)
        result.push_back(request);
    return result;
}

std::vector<Element> ContactPresences::takeAllAsUnavailable()
{
    std::vector<Element> result;
    for (const QString &key : order_) {
        Element presence(QStringLiteral("presence"), QStringLiteral("jabber:client"));
        presence.setAttribute(QStringLiteral("from"), key);
        presence.setAttribute(QStringLiteral("type"), QStringLiteral("unavailable"));
        result.push_back(std::move(presence));
    }
    presences_.clear();
    order_.clear();
    return result;
}

} // namespace xbnc
