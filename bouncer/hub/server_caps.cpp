#include "server_caps.h"

#include "xmpp_ns.h"

namespace xbnc {

void ServerCaps::addFeatures(Element &query, const QStringList &features)
{
    for (const QString &feature : features) {
        if (caps::hasFeature(query, feature))
            continue;
        Element f(QStringLiteral("feature"), xmlns::discoInfo);
        f.setAttribute(QStringLiteral("var"), feature);
        query.addChild(std::move(f));
    }
}

bool ServerCaps::learn(const Element &query)
{
    std::optional<caps::Caps> parsed = caps::fromDiscoInfo(query);
    if (!parsed) {
        current_.reset();
        return false;
    }
    Known known{caps::ver(*parsed), std::move(*parsed)};
    if (current_ && current_->ver == known.ver)
        return true;
    previous_ = std::move(current_);
    current_ = std::move(known);
    return true;
}

std::optional<Element> ServerCaps::element() const
{
    if (!current_)
        return std::nullopt;
    return caps::element(node, current_->ver);
}

std::optional<Element> ServerCaps::discoInfo(const QString &nodeVer) const
{
    if (!isOwnNode(nodeVer))
        return std::nullopt;
    const QString ver = nodeVer.mid(node.size() + 1);
    for (const std::optional<Known> *known : {&current_, &previous_})
        if (*known && (*known)->ver == ver)
            return caps::toDiscoInfo((*known)->caps, nodeVer);
    return std::nullopt;
}

} // namespace xbnc
