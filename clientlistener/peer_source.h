#pragma once

#include <QHostAddress>
#include <QString>

namespace xbnc {

// What the listener's per-source limits (pre-login connections, failed logins) count a peer
// as: an IPv4-mapped IPv6 address as its IPv4 address, any other IPv6 address as its /64 (the
// block one host is given, so that walking through it does not escape a limit). Also what the
// logs name: "192.0.2.1", "2001:db8::/64".
QString peerSource(const QHostAddress &peer);

} // namespace xbnc
