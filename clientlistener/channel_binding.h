#pragma once

#include "element.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <QStringView>

namespace xbnc {

// Channel binding type names (RFC 5056 registry) xbnc knows of.
inline constexpr QStringView kTlsServerEndPoint = u"tls-server-end-point"; // RFC 5929 §4
inline constexpr QStringView kTlsExporter = u"tls-exporter";               // RFC 9266

// What a -PLUS SCRAM exchange binds to on one connection: the type a client names in its GS2
// header ("p=type") and the bytes both ends must have computed for that type.
struct ChannelBinding
{
    QString type;
    QByteArray data;
};

// Those of one connection, best first; empty on a clear-text connection or when none could be
// computed, and then no -PLUS mechanism is offered.
using ChannelBindings = QList<ChannelBinding>;

// The binding of that type, or nullptr when the connection has none of it.
const ChannelBinding *findChannelBinding(const ChannelBindings &bindings, QStringView type);

QStringList channelBindingTypes(const ChannelBindings &bindings);

// XEP-0440 <sasl-channel-binding/>: tells a client which types it may ask for, so that it does
// not pick a -PLUS mechanism with a type the server cannot check.
Element channelBindingFeature(const QStringList &types);

} // namespace xbnc
