#pragma once

#include "element.h"
#include "push_registrations.h"

#include <QString>

namespace xbnc::xep0357 {

inline const QString ns = QStringLiteral("urn:xmpp:push:0");

// What the summary form says beyond the count; an empty field is left out ([push]
// include_sender / include_body: the app server and the phone maker's relay read it in clear).
struct Summary
{
    QString sender;
    QString body;
};

// The XEP-0357 §5 publish of one notification to the registration's app server and node, with
// the registration's publish-options form as the device gave it. message-count is always 1:
// a count means nothing to the app server, whose notification only wakes the phone to fetch.
Element publish(const PushRegistration &registration, const Summary &summary);

} // namespace xbnc::xep0357
