#pragma once

#include "channel_binding.h"

class QSslCertificate;

namespace xbnc {

// RFC 5929 §4.1 tls-server-end-point: the hash of the server certificate's DER, with the hash
// of the certificate's signature algorithm (SHA-256 in place of MD5 and SHA-1). Empty when it
// is undefined (a signature without a separate hash, such as Ed25519) or the certificate
// cannot be read.
QByteArray tlsServerEndPoint(const QSslCertificate &certificate);

class TlsSession;

// The bindings of a connection once its handshake is done, best first: tls-exporter (RFC 9266)
// where it is defined (TLS 1.3, or TLS 1.2 with the extended master secret), then
// tls-server-end-point. tls-unique is not offered: it is undefined for TLS 1.3.
ChannelBindings tlsChannelBindings(const TlsSession &session);

} // namespace xbnc
