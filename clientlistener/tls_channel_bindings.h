#pragma once

#include "channel_binding.h"

class QSslCertificate;
class QSslSocket;

namespace xbnc {

// RFC 5929 §4.1 tls-server-end-point: the hash of the server certificate's DER, with the hash
// of the certificate's signature algorithm (SHA-256 in place of MD5 and SHA-1). Empty when it
// is undefined (a signature without a separate hash, such as Ed25519) or the certificate
// cannot be read.
QByteArray tlsServerEndPoint(const QSslCertificate &certificate);

// The bindings of a server-side connection, once QSslSocket::encrypted() was emitted.
//
// Only tls-server-end-point: tls-exporter (RFC 9266) needs SSL_export_keying_material() on the
// connection's SSL object, and Qt 6.4's QSslSocket hands out neither that object nor exported
// keying material (its OpenSSL code is a plugin behind a private interface). tls-unique is
// undefined for TLS 1.3 and needs the Finished message, which Qt hides as well.
ChannelBindings tlsChannelBindings(const QSslSocket &socket);

} // namespace xbnc
