#pragma once

#include "caps.h"

#include <optional>

namespace xbnc {

// The XEP-0115 caps of the account's server as xbnc's sessions see it: the domain's disco#info
// as xbnc answers it (the server's, with the features xbnc provides itself merged in), hashed
// for the <c/> of the stream features (§6.3), and the node#ver disco#info that resolves it.
// Clients cache disco#info by ver and distrust a server whose hash is wrong, so there is no
// <c/> until the server's answer has been seen and found well-formed.
class ServerCaps
{
public:
    // The server's own caps node is unknown to xbnc, and the merged list is not the server's.
    static inline const QString node = QStringLiteral("https://xbnc.invalid/server");

    // Adds to a disco#info <query/> the features it lacks, after the ones it has.
    static void addFeatures(Element &query, const QStringList &features);

    // The domain's disco#info <query/>, already merged. False when it names no ver (§5.4):
    // the <c/> is withdrawn rather than left describing an older answer.
    bool learn(const Element &query);
    // <c xmlns=caps hash='sha-1' node ver/>, when the domain's info is known.
    std::optional<Element> element() const;
    // The <query node=…/> for a node#ver of this node: the current ver or the one before it (a
    // client that logged in just before a change asks for what it was shown).
    std::optional<Element> discoInfo(const QString &nodeVer) const;
    static bool isOwnNode(const QString &nodeVer) { return nodeVer.startsWith(node + u'#'); }

private:
    struct Known
    {
        QString ver;
        caps::Caps caps;
    };
    std::optional<Known> current_;
    std::optional<Known> previous_;
};

} // namespace xbnc
