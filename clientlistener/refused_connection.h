#pragma once

#include <QString>
#include <QtGlobal>

namespace xbnc {

// Closes an accepted connection the listener will not serve, without a Downstream or a TLS
// handshake. On the STARTTLS port the client first reads a policy-violation stream error with
// `text`; on a direct-TLS port it could read nothing before TLS, so it gets nothing.
void refuseConnection(qintptr descriptor, bool plaintext, const QString &domain,
                      const QString &text);

} // namespace xbnc
