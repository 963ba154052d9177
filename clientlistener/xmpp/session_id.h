#pragma once

#include <QtGlobal>

namespace xbnc {

// One local client connection, as both the listener and the hub name it.
using SessionId = quint64;

} // namespace xbnc
