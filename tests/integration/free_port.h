#pragma once

#include <QList>
#include <QtGlobal>

// Loopback TCP ports that were free a moment ago. All requested ports are held open together
// while picking, so they are distinct; the caller binds them soon after (a tiny race remains,
// which is acceptable for tests and far better than fixed ports).
QList<quint16> pickFreeLoopbackPorts(int count);
