#pragma once

class QAbstractSocket;

namespace xbnc {

// Turns on TCP keepalive with short timers (Linux: first probe after 60 s of silence, then every
// 10 s, given up after 6), so that the kernel notices a peer that vanished without a FIN (a phone
// that lost its network) within about two minutes instead of the system's two hours.
void enableTcpKeepalive(QAbstractSocket &socket);

} // namespace xbnc
