#include "upstream_client.h"

#include <QLoggingCategory>

#include <gloox/tag.h>

namespace xbnc {

namespace {

Q_LOGGING_CATEGORY(lcClient, "xbnc.upstream.client")
Q_LOGGING_CATEGORY(lcGloox, "xbnc.upstream.gloox", QtWarningMsg) // opt in

bool isClientStanza(const gloox::Tag &tag)
{
    const std::string &ns = tag.xmlns();
    if (!ns.empty() && ns != gloox::XMLNS_CLIENT)
        return false;
    const std::string &name = tag.name();
    return name == "message" || name == "presence" || name == "iq";
}

bool isIqAnswer(const gloox::Tag &tag)
{
    const std::string &type = tag.findAttribute("type");
    return type == "result" || type == "error";
}

} // namespace

UpstreamClient::UpstreamClient(const gloox::JID &jid, const std::string &password, Events events)
    : gloox::Client(jid, password), events_(std::move(events))
{
    disableRoster();
    // Belt and braces to the rosterFilled() override: even a stray setPresence() would carry no
    // caps advertising gloox (http://camaya.net/gloox) for the account.
    removePresenceExtension(gloox::ExtCaps);
    registerConnectionListener(this);
    // Only the class areas: the XML areas would log SASL exchanges, and with PLAIN that is the
    // password in base64.
    logInstance().registerLogHandler(gloox::LogLevelDebug, gloox::LogAreaAllClasses, this);
}

UpstreamClient::~UpstreamClient()
{
    removeConnectionListener(this);
    logInstance().removeLogHandler(this);
}

void UpstreamClient::handleTag(gloox::Tag *tag)
{
    if (!tag || !isClientStanza(*tag)) {
        gloox::Client::handleTag(tag); // stream header, features, TLS, SASL, stream errors
        return;
    }
    if (tag->name() == "iq" && isIqAnswer(*tag)) {
        const auto hubRequest = hubRequestIds_.find(tag->findAttribute("id"));
        if (hubRequest == hubRequestIds_.end()) {
            gloox::Client::handleTag(tag); // answers gloox's own bind/session requests
            return;
        }
        hubRequestIds_.erase(hubRequest);
    }
    deliverToHub(*tag);
}

void UpstreamClient::deliverToHub(const gloox::Tag &tag)
{
    // gloox never sees this stanza, so count it here to keep a future XEP-0198 'h' right.
    if (m_smContext >= CtxSMEnabled)
        ++m_smHandled;
    const std::string xml = tag.xml();
    QString error;
    const Element stanza = Element::fromXml(QByteArrayView(xml.data(), qsizetype(xml.size())),
                                            u"jabber:client", &error);
    if (stanza.isNull()) {
        qCWarning(lcClient) << "dropping a stanza gloox parsed but Element did not:" << error;
        return;
    }
    if (!detached_ && events_.stanzaReceived)
        events_.stanzaReceived(stanza);
}

bool UpstreamClient::sendStanza(const Element &stanza)
{
    if (state() != gloox::StateConnected || !authed())
        return false;
    if (stanza.name() == u"iq") {
        const QString type = stanza.attribute(u"type");
        if (type == u"get" || type == u"set")
            hubRequestIds_.insert(stanza.attribute(u"id").toStdString());
    }
    const QByteArray xml = stanza.toXml(u"jabber:client");
    // The hub's bytes as they are: a round trip through gloox::Tag would be one more serializer
    // between the sessions and the server, and Tag-based send() gains nothing without SM.
    send(std::string(xml.constData(), size_t(xml.size())));
    return true;
}

void UpstreamClient::abortConnection(gloox::ConnectionError reason)
{
    gloox::ClientBase::disconnect(reason);
}

void UpstreamClient::rosterFilled()
{
    // gloox::Client::rosterFilled() minus sendPresence(): login is complete, nothing is sent.
    notifyStreamEvent(gloox::StreamEventFinished);
    notifyOnConnect();
}

void UpstreamClient::onConnect()
{
    if (!detached_ && events_.connected)
        events_.connected();
}

void UpstreamClient::onDisconnect(gloox::ConnectionError error)
{
    hubRequestIds_.clear();
    if (!detached_ && events_.disconnected)
        events_.disconnected(error);
}

bool UpstreamClient::onTLSConnect(const gloox::CertInfo &)
{
    return true; // Qt verified the certificate already; a failure never gets this far
}

void UpstreamClient::handleLog(gloox::LogLevel level, gloox::LogArea, const std::string &message)
{
    // Upstream logs every failure that matters with its reason; gloox's view is detail.
    const QString text = QString::fromStdString(message);
    if (level == gloox::LogLevelDebug)
        qCDebug(lcGloox).noquote() << text;
    else
        qCInfo(lcGloox).noquote() << text;
}

} // namespace xbnc
