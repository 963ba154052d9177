#pragma once

#include <QString>

namespace xbnc {

// The name as it must appear in a DNS SAN or a name constraint: IDNs as A-labels (RFC 6125
// §6.4.2), lower case. Empty for anything but LDH labels and dots, so that no odd string (a
// comma, a "DNS:" of its own, an IP address) ever ends up inside a certificate.
QString certificateDnsName(const QString &name);

} // namespace xbnc
