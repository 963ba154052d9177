#include "own_caps.h"

#include "xmpp_ns.h"

#include <algorithm>

namespace xbnc {

namespace {
// A peer may ask for a ver a little after xbnc moved on; a few are enough for that race.
constexpr qsizetype advertisedKept = 4;
// Bounds the cache when clients keep changing their features (updates, plugins).
constexpr qsizetype knownKept = 64;
} // namespace

QStringList OwnCaps::ownFeatures()
{
    return {xmlns::discoInfo, caps::ns, xmlns::ping, xmlns::carbons,
            QStringLiteral("urn:xmpp:bookmarks:1+notify")};
}

std::optional<QString> OwnCaps::sessionPresence(SessionId session, const Element &presence)
{
    const Element *c = presence.firstChild(u"c", caps::ns);
    if (presence.attribute(u"type") == u"unavailable" || !c || c->attribute(u"hash") != u"sha-1") {
        sessionVers_.remove(session);
        return std::nullopt;
    }
    const QString ver = c->attribute(u"ver");
    const bool changed = sessionVers_.value(session) != ver;
    sessionVers_.insert(session, ver);
    // Asked once per announcement: a session that answers wrongly is not asked in a loop.
    if (!changed || known_.contains(ver))
        return std::nullopt;
    return c->attribute(u"node") + u'#' + ver;
}

void OwnCaps::sessionGone(SessionId session)
{
    sessionVers_.remove(session);
}

bool OwnCaps::answered(const QString &ver, const Element &query)
{
    std::optional<caps::Caps> caps = caps::fromDiscoInfo(query);
    if (!caps || caps::ver(*caps) != ver)
        return false;
    if (known_.size() >= knownKept) {
        const QList<QString> inUse = sessionVers_.values();
        known_.removeIf([&inUse](auto it) { return !inUse.contains(it.key()); });
    }
    for (const QString &feature : caps->features)
        if (feature.endsWith(u"+notify"))
            notify_.insert(feature);
    known_.insert(ver, *caps);
    return true;
}

caps::Caps OwnCaps::current(std::optional<SessionId> leader) const
{
    caps::Caps own;
    own.identities.push_back(
        {QStringLiteral("client"), QStringLiteral("pc"), {}, QStringLiteral("xbnc")});
    if (leader && known_.contains(sessionVers_.value(*leader))) {
        for (const caps::Identity &identity : known_.value(sessionVers_.value(*leader)).identities)
            if (identity.category == u"client") {
                own.identities.front().type = identity.type;
                break;
            }
    }
    QSet<QString> features(notify_);
    for (const QString &feature : ownFeatures())
        features.insert(feature);
    for (const QString &ver : sessionVers_)
        for (const QString &feature : known_.value(ver).features)
            features.insert(feature);
    own.features = QStringList(features.begin(), features.end());
    std::sort(own.features.begin(), own.features.end());
    return own;
}

Element OwnCaps::advertise(std::optional<SessionId> leader)
{
    caps::Caps own = current(leader);
    const QString ver = caps::ver(own);
    if (!advertised_.contains(ver)) {
        advertised_.insert(ver, std::move(own));
        advertisedOrder_.append(ver);
        if (advertisedOrder_.size() > advertisedKept)
            advertised_.remove(advertisedOrder_.takeFirst());
    }
    return caps::element(node, ver);
}

std::optional<Element> OwnCaps::discoInfo(const QString &nodeVer) const
{
    if (!nodeVer.startsWith(node + u'#'))
        return std::nullopt;
    const auto it = advertised_.constFind(nodeVer.mid(node.size() + 1));
    if (it == advertised_.cend())
        return std::nullopt;
    return caps::toDiscoInfo(*it, nodeVer);
}

} // namespace xbnc
