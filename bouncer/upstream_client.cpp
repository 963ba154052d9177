#include "upstream_client.h"

#include <QLoggingCategory>

#include <gloox/tag.h>

#include <utility>
#include <vector>

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

bool isIqRequest(const gloox::Tag &tag)
{
    const std::string &type = tag.findAttribute("type");
    return tag.name() == "iq" && (type == "get" || type == "set");
}

// A peer's address is logged at most this long: it is the peer's text.
constexpr qsizetype maxLoggedAddress = 200;

QString qs(const std::string &text)
{
    return QString::fromStdString(text);
}

QString qualifiedName(const gloox::Tag &tag)
{
    return tag.prefix().empty() ? qs(tag.name()) : qs(tag.prefix() + ':' + tag.name());
}

// An IQ error of the policy-violation condition (RFC 6120 §8.3.3.12) with id and addresses
// given, small and flat whatever the refused stanza held.
Element policyViolation(const std::string &id, const std::string &from, const std::string &to,
                        const QString &why)
{
    Element iq(QStringLiteral("iq"), QStringLiteral("jabber:client"));
    iq.setAttribute(QStringLiteral("type"), QStringLiteral("error"));
    iq.setAttribute(QStringLiteral("id"), qs(id));
    if (!from.empty())
        iq.setAttribute(QStringLiteral("from"), qs(from));
    if (!to.empty())
        iq.setAttribute(QStringLiteral("to"), qs(to));
    Element error(QStringLiteral("error"), QStringLiteral("jabber:client"));
    error.setAttribute(QStringLiteral("type"), QStringLiteral("modify"));
    const QString stanzasNs = QStringLiteral("urn:ietf:params:xml:ns:xmpp-stanzas");
    error.addChild(Element(QStringLiteral("policy-violation"), stanzasNs));
    Element text(QStringLiteral("text"), stanzasNs);
    text.setText(why);
    error.addChild(std::move(text));
    iq.addChild(std::move(error));
    return iq;
}

} // namespace

UpstreamClient::UpstreamClient(const gloox::JID &jid, const std::string &password, Events events,
                               const UpstreamLimits &limits)
    : gloox::Client(jid, password), events_(std::move(events)), limits_(limits),
      nestingFilter_(limits.maxDepth),
      hubRequestIds_(limits.requestLifetime, limits.maxPendingRequests)
{
    // gloox's ids are a per-client hex prefix and an 8-digit counter (ClientBase::getID()); the
    // prefix is what the hub's ids must never start with.
    const std::string probe = getID();
    glooxIdPrefix_ = probe.size() > 8 ? probe.substr(0, probe.size() - 8) : probe;

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

void UpstreamClient::handleReceivedData(const gloox::ConnectionBase *connection,
                                        const std::string &data)
{
    nestingFilter_.feed(data, [&](std::string_view bytes, bool cut) {
        if (state() == gloox::StateDisconnected)
            return; // gloox gave up on the stream inside an earlier piece
        cutStanza_ = cut;
        gloox::ClientBase::handleReceivedData(connection, std::string(bytes));
        cutStanza_ = false;
    });
}

void UpstreamClient::handleTag(gloox::Tag *tag)
{
    if (tag && (cutStanza_ || isTooDeep(*tag))) {
        refuseTooDeep(*tag);
        return;
    }
    if (!tag || !isClientStanza(*tag)) {
        gloox::Client::handleTag(tag); // stream header, features, TLS, SASL, stream errors
        return;
    }
    if (tag->name() == "iq" && isIqAnswer(*tag) &&
        !hubRequestIds_.take(tag->findAttribute("id"), PendingRequestIds::Clock::now())) {
        gloox::Client::handleTag(tag); // answers gloox's own bind/session requests
        return;
    }
    deliverToHub(*tag);
}

bool UpstreamClient::isTooDeep(const gloox::Tag &tag) const
{
    // An explicit stack: recursing here would be the very overflow this check prevents.
    std::vector<std::pair<const gloox::Tag *, int>> pending{{&tag, 1}};
    while (!pending.empty()) {
        const auto [current, depth] = pending.back();
        pending.pop_back();
        if (depth > limits_.maxDepth)
            return true;
        for (const gloox::Tag *child : current->children())
            pending.emplace_back(child, depth + 1);
    }
    return false;
}

void UpstreamClient::refuseTooDeep(const gloox::Tag &tag)
{
    const std::string &from = tag.findAttribute("from");
    const std::string &id = tag.findAttribute("id");
    const QString why = QStringLiteral("elements nested deeper than %1").arg(limits_.maxDepth);
    if (!isClientStanza(tag)) {
        // Only the server itself speaks at the stream level: it is broken or hostile.
        qCWarning(lcClient).noquote() << "the server sent a <" + qualifiedName(tag) + "> with"
                                      << why << "- closing the stream";
        abortConnection(gloox::ConnParseError);
        return;
    }
    qCWarning(lcClient).noquote() << "refused a <" + qs(tag.name()) + "> from"
                                  << (from.empty() ? QStringLiteral("the server")
                                                   : qs(from).left(maxLoggedAddress))
                                  << "with" << why << "- not delivered";
    if (isIqRequest(tag)) {
        // RFC 6120 §8.2.3: a request is answered, even one that is refused.
        const QByteArray xml = policyViolation(id, {}, from, why).toXml(u"jabber:client");
        send(std::string(xml.constData(), size_t(xml.size())));
        return;
    }
    if (tag.name() == "iq" && hubRequestIds_.take(id, PendingRequestIds::Clock::now())) {
        // The session that asked learns now, instead of at the hub's deadline.
        if (!detached_ && events_.stanzaReceived)
            events_.stanzaReceived(policyViolation(id, from, {}, why));
    }
}

bool UpstreamClient::isGlooxId(const std::string &id) const
{
    return !glooxIdPrefix_.empty() && id.starts_with(glooxIdPrefix_);
}

std::size_t UpstreamClient::pendingHubRequests()
{
    return hubRequestIds_.size(PendingRequestIds::Clock::now());
}

void UpstreamClient::deliverToHub(const gloox::Tag &tag)
{
    // gloox never sees this stanza, so count it here to keep a future XEP-0198 'h' right.
    if (m_smContext >= CtxSMEnabled)
        ++m_smHandled;
    const std::string xml = tag.xml();
    QString error;
    const Element stanza = Element::fromXml(QByteArrayView(xml.data(), qsizetype(xml.size())),
                                            u"jabber:client", &error, limits_.maxDepth);
    if (stanza.isNull()) {
        qCWarning(lcClient) << "dropping a stanza gloox parsed but Element did not:" << error;
        return;
    }
    if (!detached_ && events_.stanzaReceived)
        events_.stanzaReceived(stanza);
}

bool UpstreamClient::sendStanza(const Element &stanza)
{
    // Before bind completes gloox's own requests are in flight; their answers must reach gloox.
    if (state() != gloox::StateConnected || !authed() || !bound_)
        return false;
    if (stanza.name() == u"iq") {
        const QString type = stanza.attribute(u"type");
        const std::string id = stanza.attribute(u"id").toStdString();
        if ((type == u"get" || type == u"set") && isGlooxId(id)) {
            qCWarning(lcClient) << "refused to send an IQ request under an id of gloox's own:"
                                << QString::fromStdString(id).left(64);
            return false;
        }
        if (type == u"get" || type == u"set")
            hubRequestIds_.insert(id, PendingRequestIds::Clock::now());
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
    bound_ = true;
    if (!detached_ && events_.connected)
        events_.connected();
}

void UpstreamClient::onDisconnect(gloox::ConnectionError error)
{
    bound_ = false;
    hubRequestIds_.clear();
    if (nestingFilter_.insideStanza()) {
        qCWarning(lcClient) << "the stream ended in the middle of a stanza:"
                            << nestingFilter_.unfinishedBytes()
                            << "bytes of it were received and are not delivered";
    }
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
