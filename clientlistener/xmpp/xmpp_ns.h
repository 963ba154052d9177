#pragma once

#include <QString>

// Namespaces the hub looks at. Everything else passes through untouched.
namespace xbnc::xmlns {
inline const QString client = QStringLiteral("jabber:client");
inline const QString stanzas = QStringLiteral("urn:ietf:params:xml:ns:xmpp-stanzas");
inline const QString carbons = QStringLiteral("urn:xmpp:carbons:2");
inline const QString forward = QStringLiteral("urn:xmpp:forward:0");
inline const QString hints = QStringLiteral("urn:xmpp:hints");
inline const QString ping = QStringLiteral("urn:xmpp:ping");
inline const QString discoInfo = QStringLiteral("http://jabber.org/protocol/disco#info");
inline const QString version = QStringLiteral("jabber:iq:version");
inline const QString roster = QStringLiteral("jabber:iq:roster");
inline const QString blocking = QStringLiteral("urn:xmpp:blocking");
inline const QString delay = QStringLiteral("urn:xmpp:delay");
inline const QString pubsub = QStringLiteral("http://jabber.org/protocol/pubsub");
inline const QString mam = QStringLiteral("urn:xmpp:mam:2");
inline const QString stanzaId = QStringLiteral("urn:xmpp:sid:0");
} // namespace xbnc::xmlns
