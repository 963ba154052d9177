#pragma once

#include "element.h"
#include "push_registrations.h"
#include "upstream_config.h"

#include <QObject>
#include <QTimer>

namespace xbnc {

class Upstream;

// The server route of XEP-0357 (docs/PUSH.md): a short second login to the user's server as
// one device (resource `xbnc-push-<device>`, the account's credentials), which enables the
// device's registration there and logs out. The registration then stays in the server's push
// module attached to no session, so the server notifies the app server from its own domain
// for every new archived message, which is what Conversations' app server accepts. Deletes
// itself when done, whatever the outcome (logged): a refused or failed enable costs the device
// its notifications until it next goes away, nothing else.
class ServerPushLogin : public QObject
{
    Q_OBJECT
public:
    ServerPushLogin(UpstreamConfig account, const QString &device,
                    const PushRegistration &registration, QObject *parent = nullptr);
    ~ServerPushLogin() override;
    void start();
    const QString &device() const { return device_; }
    const PushRegistration &registration() const { return registration_; }

private:
    void online();
    void received(const Element &stanza);
    void finish(const char *outcome);

    QString device_;
    PushRegistration registration_;
    Element enable_;
    Upstream *upstream_; // child
    QTimer deadline_;
    bool finishing_ = false;
};

} // namespace xbnc
