#pragma once

#include <QByteArray>
#include <QStringView>

namespace xbnc {

// <stream:error> with an RFC 6120 §4.9.3 condition (e.g. "policy-violation") and optional
// human-readable text, ready to write into a client stream.
QByteArray streamErrorXml(QStringView condition, QStringView text = {});

} // namespace xbnc
