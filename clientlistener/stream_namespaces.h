#pragma once

#include <QStringView>

namespace xbnc::ns {

// Namespaces of stream negotiation (RFC 6120) as the downstream speaks them.
inline constexpr QStringView client = u"jabber:client";
inline constexpr QStringView streams = u"http://etherx.jabber.org/streams";
inline constexpr QStringView streamErrors = u"urn:ietf:params:xml:ns:xmpp-streams";
inline constexpr QStringView stanzaErrors = u"urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr QStringView tls = u"urn:ietf:params:xml:ns:xmpp-tls";
inline constexpr QStringView sasl = u"urn:ietf:params:xml:ns:xmpp-sasl";
inline constexpr QStringView bind = u"urn:ietf:params:xml:ns:xmpp-bind";
inline constexpr QStringView session = u"urn:ietf:params:xml:ns:xmpp-session";
inline constexpr QStringView sm = u"urn:xmpp:sm:3";   // XEP-0198
inline constexpr QStringView csi = u"urn:xmpp:csi:0"; // XEP-0352 client state indication
inline constexpr QStringView rosterVersioning = u"urn:xmpp:features:rosterver";
inline constexpr QStringView sasl2 = u"urn:xmpp:sasl:2";      // XEP-0388
inline constexpr QStringView bind2 = u"urn:xmpp:bind:0";      // XEP-0386
inline constexpr QStringView fast = u"urn:xmpp:fast:0";       // XEP-0484
inline constexpr QStringView carbons = u"urn:xmpp:carbons:2"; // XEP-0280, inline in Bind2
inline constexpr QStringView saslChannelBinding = u"urn:xmpp:sasl-cb:0"; // XEP-0440

} // namespace xbnc::ns
