#pragma once

#include "element.h"

#include <QString>

#include <map>
#include <vector>

namespace xbnc {

// XEP-0357 registrations, per device (the resource a client binds, as for DeviceCursors): a
// phone's <enable/> stays with the phone across its reconnects and xbnc's restarts, and its
// publish-options form is kept verbatim, because each app server reads fields of its own
// (Conversations `secret`, Monal `pushModule`, Siskin Tigase's).
struct PushRegistration
{
    QString jid;  // the app server
    QString node; // its node for this device
    Element form; // the <x xmlns='jabber:x:data'/> given with <enable/>; null when none
    // The server route (docs/PUSH.md): the user's server publishes, from its own domain, for a
    // copy of this registration xbnc makes there while the device is away; xbnc never does.
    bool viaServer = false;

    bool operator==(const PushRegistration &) const = default;
};

class PushRegistrations
{
public:
    using Devices = std::map<QString, std::vector<PushRegistration>>;

    // The <enable/> or <disable/> a session sent, read: registration.jid empty means bad input.
    static PushRegistration fromRequest(const Element &enableOrDisable);

    // Adds the registration, replacing the device's one for the same app server and node.
    void enable(const QString &device, PushRegistration registration);
    // Removes the device's registrations with that app server (and that node, unless empty);
    // returns those that went.
    std::vector<PushRegistration> disable(const QString &device, const QString &jid,
                                          const QString &node = {});

    // The device's registrations; empty when none.
    const std::vector<PushRegistration> &of(const QString &device) const;
    const Devices &devices() const { return devices_; }
    void restore(Devices devices) { devices_ = std::move(devices); }

    // The registrations as one document and back, for the store (a device's whole list is
    // written at once: they change rarely). A malformed entry is skipped.
    static Element toElement(const std::vector<PushRegistration> &registrations);
    static std::vector<PushRegistration> fromElement(const Element &saved);

private:
    Devices devices_;
};

} // namespace xbnc
