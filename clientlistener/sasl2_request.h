#pragma once

#include "element.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace xbnc {

// XEP-0386 <bind/> inside an <authenticate/>, and the features it asks for inline.
struct Bind2Request
{
    QString tag; // the client's label, a hint for the resource
    bool enableSm = false;
    bool smResumable = false;
    bool carbons = false;
    bool inactive = false; // CSI <inactive/>; <active/> is the default state anyway
};

// One XEP-0388 <authenticate/>, with what it asks for inline: Bind2 (XEP-0386) and its features,
// XEP-0198 resumption, FAST (XEP-0484). Parsing only; Downstream acts on it.
struct Sasl2Request
{
    QString mechanism;
    std::optional<QString> initialResponse; // base64, as sent
    QString userAgentId;                    // <user-agent id=…>: names the device
    std::optional<Bind2Request> bind;
    std::optional<Element> resume; // <resume xmlns='urn:xmpp:sm:3'/>
    struct Fast
    {
        qint64 count = -1; // -1: absent or not a number
        bool invalidate = false;
    };
    std::optional<Fast> fast;      // the login uses a token
    QString requestTokenMechanism; // <request-token mechanism=…/>; empty: none asked
};

Sasl2Request parseAuthenticate(const Element &authenticate);

// The <authentication/> stream feature: mechanisms (the same list as SASL's), and inline Bind2
// (with SM, carbons, CSI), SM resumption, and FAST with fastMechanisms when not empty.
Element authenticationFeature(const QStringList &mechanisms, const QStringList &fastMechanisms);

// Carbons asked for inside Bind2 reach the hub as the IQ a client would have sent after bind
// (the one path that turns them on); the hub's answer to it is recognised and not passed on.
Element inlineCarbonsRequest(const QString &from);
bool isInlineBindAnswer(const Element &stanza);

Element sasl2Element(const QString &name, const QString &text = {});
// An RFC 6120 condition in the SASL namespace, and optional words for people.
Element sasl2Failure(const QString &condition, const QString &text = {});

} // namespace xbnc
