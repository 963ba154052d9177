#pragma once

#include "element.h"

#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

// XEP-0115 entity capabilities: what a disco#info answer says about an entity, and the 'ver'
// string that names it. Pure functions, so the hash is tested against the XEP's own examples.
namespace xbnc::caps {

inline const QString ns = QStringLiteral("http://jabber.org/protocol/caps");
inline const QString dataForms = QStringLiteral("jabber:x:data");

struct Identity
{
    QString category;
    QString type;
    QString lang;
    QString name;
    bool operator==(const Identity &) const = default;
};

struct Caps
{
    std::vector<Identity> identities;
    QStringList features;
    std::vector<Element> forms; // XEP-0128 extended forms, kept as received
};

// The string XEP-0115 §5.1 hashes: identities, features and forms, each sorted by octets.
QByteArray verificationString(const Caps &caps);
// base64(SHA-1(verificationString)).
QString ver(const Caps &caps);

// The <query/> of a disco#info result. Empty when the answer is ill-formed by §5.4 (a repeated
// identity or feature, two forms of one FORM_TYPE): such an answer names no ver.
std::optional<Caps> fromDiscoInfo(const Element &query);
// Whether a disco#info <query/> lists that feature (of a server, a room, anyone).
bool hasFeature(const Element &query, const QString &feature);
// A disco#info <query node=…/> listing caps.
Element toDiscoInfo(const Caps &caps, const QString &node);
// <c xmlns=caps hash='sha-1' node ver/> for a presence.
Element element(const QString &node, const QString &ver);

} // namespace xbnc::caps
