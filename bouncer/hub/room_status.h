#pragma once

#include "element.h"

#include <QList>
#include <QLoggingCategory>
#include <QSet>
#include <QString>

// Reading and writing the parts of MUC stanzas the Room files share (defined in room.cpp).
Q_DECLARE_LOGGING_CATEGORY(lcRoom)

namespace xbnc::room {

// The <status code/> values of a muc#user presence.
QSet<int> statusCodes(const Element &presence);
// Removes the `remove` codes, then adds each of `add` that is not there yet.
void setStatusCodes(Element &presence, const QSet<int> &remove, const QList<int> &add);

// The defined condition and type of a stanza's <error/>; empty strings when it has none.
struct ErrorInfo
{
    QString type;
    QString condition;
};
ErrorInfo errorOf(const Element &stanza);

} // namespace xbnc::room

namespace xbnc::room {
// An error that may pass (RFC 6120 type 'wait', an unreachable or busy room): worth a retry.
bool isTemporary(const ErrorInfo &error);
} // namespace xbnc::room
