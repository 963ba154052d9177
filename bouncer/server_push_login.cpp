#include "server_push_login.h"

#include "push_notification.h"
#include "upstream.h"
#include "xmpp_ns.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcServerPush, "xbnc.push")

namespace xbnc {

namespace {

const QString enableId = QStringLiteral("xbnc-push-enable");

// Resources are free text; the device's own name keeps the server's session list readable.
QString resourceFor(const QString &device)
{
    return QStringLiteral("xbnc-push-") + device;
}

} // namespace

ServerPushLogin::ServerPushLogin(UpstreamConfig account, const QString &device,
                                 const PushRegistration &registration, QObject *parent)
    : QObject(parent), device_(device), registration_(registration),
      enable_(QStringLiteral("iq"), xmlns::client)
{
    account.resource = resourceFor(device);
    upstream_ = new Upstream(std::move(account), this);
    enable_.setAttribute(QStringLiteral("type"), QStringLiteral("set"));
    enable_.setAttribute(QStringLiteral("id"), enableId);
    Element &enable = enable_.addChild(Element(QStringLiteral("enable"), xep0357::ns));
    enable.setAttribute(QStringLiteral("jid"), registration.jid);
    if (!registration.node.isEmpty())
        enable.setAttribute(QStringLiteral("node"), registration.node);
    if (!registration.form.isNull())
        enable.addChild(registration.form);
    connect(upstream_, &Upstream::online, this, &ServerPushLogin::online);
    connect(upstream_, &Upstream::stanzaReceived, this, &ServerPushLogin::received);
    connect(upstream_, &Upstream::authenticationFailed, this,
            [this] { finish("the login was refused"); });
    connect(upstream_, &Upstream::stopped, this, &QObject::deleteLater);
    deadline_.setSingleShot(true);
    deadline_.setInterval(std::chrono::seconds(30));
    connect(&deadline_, &QTimer::timeout, this, [this] { finish("no answer in time"); });
}

ServerPushLogin::~ServerPushLogin() = default;

void ServerPushLogin::start()
{
    deadline_.start();
    upstream_->start();
}

void ServerPushLogin::online()
{
    upstream_->send(enable_);
}

void ServerPushLogin::received(const Element &stanza)
{
    if (stanza.name() != u"iq" || stanza.attribute(u"id") != enableId)
        return;
    finish(stanza.attribute(u"type") == u"result" ? "enabled on the server"
                                                  : "the server refused the registration");
}

void ServerPushLogin::finish(const char *outcome)
{
    if (finishing_)
        return;
    finishing_ = true;
    deadline_.stop();
    const bool ok = qstrcmp(outcome, "enabled on the server") == 0;
    if (ok)
        qCInfo(lcServerPush, "push for device %s: %s", qPrintable(device_), outcome);
    else
        qCWarning(lcServerPush, "push for device %s: %s; it is not woken until it next goes away",
                  qPrintable(device_), outcome);
    // Not inside the client's own callback (this may run in one): stopped() deletes this.
    QMetaObject::invokeMethod(upstream_, &Upstream::stop, Qt::QueuedConnection);
}

} // namespace xbnc
