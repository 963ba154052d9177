#include "upstream_client.h"

#include "tag_to_element.h"

#include <QLoggingCategory>

#include <gloox/tag.h>

#include <optional>
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

const std::string smNs = "urn:xmpp:sm:3";

bool isSmElement(const gloox::Tag &tag)
{
    return tag.xmlns() == smNs || tag.findAttribute("xmlns") == smNs;
}

bool isStreamFeatures(const gloox::Tag &tag)
{
    return tag.name() == "features" && tag.xmlns() == gloox::XMLNS_STREAM;
}

// XEP-0198 h: an unsigned 32-bit decimal.
std::optional<quint32> parseH(const std::string &text)
{
    bool ok = false;
    const quint32 h = QByteArray::fromStdString(text).toUInt(&ok);
    return ok ? std::optional<quint32>(h) : std::nullopt;
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

// The error for a refused stanza (RFC 6120 §8.3): `kind` "iq" or "message", id and addresses
// given, small and flat whatever the refused stanza held.
Element stanzaError(const QString &kind, const std::string &id, const std::string &from,
                    const std::string &to, const QString &condition, const QString &why)
{
    Element stanza(kind, QStringLiteral("jabber:client"));
    stanza.setAttribute(QStringLiteral("type"), QStringLiteral("error"));
    if (!id.empty() || kind == u"iq")
        stanza.setAttribute(QStringLiteral("id"), qs(id));
    if (!from.empty())
        stanza.setAttribute(QStringLiteral("from"), qs(from));
    if (!to.empty())
        stanza.setAttribute(QStringLiteral("to"), qs(to));
    Element error(QStringLiteral("error"), QStringLiteral("jabber:client"));
    error.setAttribute(QStringLiteral("type"), QStringLiteral("modify"));
    const QString stanzasNs = QStringLiteral("urn:ietf:params:xml:ns:xmpp-stanzas");
    error.addChild(Element(condition, stanzasNs));
    Element text(QStringLiteral("text"), stanzasNs);
    text.setText(why);
    error.addChild(std::move(text));
    stanza.addChild(std::move(error));
    return stanza;
}

} // namespace

UpstreamClient::UpstreamClient(const gloox::JID &jid, const std::string &password, Events events,
                               const UpstreamLimits &limits, std::shared_ptr<UpstreamSmSession> sm)
    : gloox::Client(jid, password), events_(std::move(events)), limits_(limits),
      nestingFilter_(limits.maxDepth),
      hubRequestIds_(limits.requestLifetime, limits.maxPendingRequests), sm_(std::move(sm))
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
    if (tag && countInbound_ && isClientStanza(*tag))
        sm_->acks.received(); // refused or not, for gloox or the hub: the server counted it
    if (tag && (cutStanza_ || isTooDeep(*tag))) {
        refuse(*tag, QStringLiteral("elements nested deeper than %1").arg(limits_.maxDepth),
               QStringLiteral("policy-violation"));
        return;
    }
    if (tag && isSmElement(*tag)) {
        handleSmElement(*tag);
        return;
    }
    if (tag && authed() && isStreamFeatures(*tag) && resumeInsteadOfBinding(*tag))
        return;
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

void UpstreamClient::refuse(const gloox::Tag &tag, const QString &why, const QString &condition)
{
    const std::string &from = tag.findAttribute("from");
    const std::string &id = tag.findAttribute("id");
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
        sendCounted(stanzaError(QStringLiteral("iq"), id, {}, from, condition, why));
        return;
    }
    if (tag.name() == "iq" && hubRequestIds_.take(id, PendingRequestIds::Clock::now())) {
        // The session that asked learns now, instead of at the hub's deadline.
        if (!detached_ && events_.stanzaReceived)
            events_.stanzaReceived(stanzaError(QStringLiteral("iq"), id, from, {}, condition, why));
        return;
    }
    // A message is bounced so that its sender knows it was not read (RFC 6120 §8.3.1: never
    // an error for an error). A refused presence only costs a contact's status until the
    // next one; an error would tell the contact the account is gone, so it is not answered.
    if (tag.name() == "message" && tag.findAttribute("type") != "error" && !from.empty())
        sendCounted(stanzaError(QStringLiteral("message"), id, {}, from, condition, why));
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
    std::optional<Element> stanza = elementFromTag(tag, u"jabber:client", limits_.maxDepth);
    if (!stanza) {
        // The rare tree gloox cannot hand over directly (see elementFromTag): the parser
        // decides, as it did for every stanza before.
        const std::string xml = tag.xml();
        QString error;
        stanza = Element::fromXml(QByteArrayView(xml.data(), qsizetype(xml.size())),
                                  u"jabber:client", &error, limits_.maxDepth);
        if (stanza->isNull()) {
            refuse(tag, QStringLiteral("XML xbnc cannot read (%1)").arg(error),
                   QStringLiteral("bad-request"));
            return;
        }
    }
    if (!detached_ && events_.stanzaReceived)
        events_.stanzaReceived(*stanza);
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
    sendCounted(stanza);
    return true;
}

void UpstreamClient::sendCounted(const Element &stanza)
{
    // The hub's bytes as they are: a round trip through gloox::Tag would be one more serializer
    // between the sessions and the server, and gloox's SM queue is not used (class comment).
    const QByteArray xml = stanza.toXml(u"jabber:client");
    send(std::string(xml.constData(), size_t(xml.size())));
    if (countOutbound_)
        sm_->acks.sent(stanza);
}

void UpstreamClient::requestAck()
{
    if (!countOutbound_ || ackRequested_ || sm_->acks.unacknowledged().empty())
        return;
    ackRequested_ = true;
    ackRequestedAt_ = std::chrono::steady_clock::now();
    sendSmElement("r");
}

std::chrono::milliseconds UpstreamClient::ackWaitingFor() const
{
    if (!ackRequested_ || !countOutbound_)
        return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 ackRequestedAt_);
}

void UpstreamClient::sendSmElement(const std::string &name, const std::string &h,
                                   const std::string &previd)
{
    gloox::Tag element(name);
    element.setXmlns(smNs);
    if (name == "enable")
        element.addAttribute("resume", "true");
    if (!previd.empty())
        element.addAttribute("previd", previd);
    if (!h.empty())
        element.addAttribute("h", h);
    send(element.xml()); // a nonza: never counted
}

void UpstreamClient::handleSmElement(const gloox::Tag &tag)
{
    const std::string &name = tag.name();
    if (name == "r")
        return sendSmElement("a", std::to_string(sm_->acks.handled()));
    if (name == "a") {
        ackRequested_ = false;
        const std::optional<quint32> h = parseH(tag.findAttribute("h"));
        if (!h || !sm_->acks.acknowledged(*h))
            qCWarning(lcClient) << "the server acknowledged stanzas xbnc never sent: h ="
                                << qs(tag.findAttribute("h")).left(16) << "of"
                                << sm_->acks.sentCount();
        // Sent after the <r/>: one more round trip frees them, one <r/> in flight at a time.
        requestAck();
        return;
    }
    if (name == "enabled") {
        countInbound_ = true;
        const std::string &resume = tag.findAttribute("resume");
        if (resume == "true" || resume == "1")
            sm_->id = tag.findAttribute("id");
        sm_->maxSeconds = QByteArray::fromStdString(tag.findAttribute("max")).toInt();
        qCInfo(lcClient) << "stream management enabled"
                         << (sm_->id.empty() ? "without resumption" : "with resumption")
                         << "for up to" << sm_->maxSeconds << "s";
        return;
    }
    if (name == "resumed")
        return resumed(tag);
    if (name == "failed" && resuming_)
        return resumeRefused(tag);
    if (name == "failed") {
        countOutbound_ = false;
        sm_->acks.restart();
        qCWarning(lcClient) << "the server refused to enable stream management";
        return;
    }
    qCWarning(lcClient) << "unexpected stream management element" << qs(name).left(32);
}

bool UpstreamClient::resumeInsteadOfBinding(const gloox::Tag &features)
{
    smOffered_ = features.hasChild("sm", "xmlns", smNs);
    if (sm_->id.empty())
        return false; // gloox binds; onConnect() enables SM
    if (!smOffered_) {
        qCWarning(lcClient) << "the server no longer offers stream management: binding afresh";
        sm_->id.clear();
        if (!detached_ && events_.resumeFailed)
            events_.resumeFailed(false);
        return false;
    }
    featuresAfterAuth_.reset(features.clone());
    // The prefix's declaration was on the stream header, which the clone has no link to.
    if (featuresAfterAuth_->xmlns() != gloox::XMLNS_STREAM)
        featuresAfterAuth_->setXmlns(gloox::XMLNS_STREAM, featuresAfterAuth_->prefix());
    resuming_ = true;
    sendSmElement("resume", std::to_string(sm_->acks.handled()), sm_->id);
    return true;
}

void UpstreamClient::resumed(const gloox::Tag &tag)
{
    if (!resuming_ || tag.findAttribute("previd") != sm_->id) {
        qCWarning(lcClient) << "the server resumed a stream xbnc did not ask for";
        return abortConnection(gloox::ConnStreamError);
    }
    resuming_ = false;
    featuresAfterAuth_.reset();
    const std::optional<quint32> h = parseH(tag.findAttribute("h"));
    if (!h || !sm_->acks.acknowledged(*h))
        qCWarning(lcClient) << "resumed with an h xbnc cannot match:"
                            << qs(tag.findAttribute("h")).left(16) << "- sending every"
                            << "unacknowledged stanza again";
    countInbound_ = true;
    countOutbound_ = true;
    bound_ = true;
    qCInfo(lcClient) << "stream resumed; sending again" << sm_->acks.unacknowledged().size()
                     << "stanzas the server had not acknowledged";
    for (const Element &stanza : sm_->acks.unacknowledged()) {
        const QByteArray xml = stanza.toXml(u"jabber:client");
        send(std::string(xml.constData(), size_t(xml.size()))); // numbered already
    }
    if (!detached_ && events_.resumed)
        events_.resumed();
}

void UpstreamClient::resumeRefused(const gloox::Tag &tag)
{
    resuming_ = false;
    const std::string &hText = tag.findAttribute("h");
    const std::optional<quint32> h = parseH(hText);
    const bool hKnown = h && sm_->acks.acknowledged(*h);
    sm_->id.clear();
    if (!detached_ && events_.resumeFailed)
        events_.resumeFailed(hKnown);
    // XEP-0198 §5: after <failed/> the client may bind on the same stream, as gloox would have.
    const std::unique_ptr<gloox::Tag> features = std::move(featuresAfterAuth_);
    if (features && state() != gloox::StateDisconnected)
        gloox::Client::handleTag(features.get());
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
    // gloox bound afresh (a resumption never gets here): a new SM session, if there is one.
    bound_ = true;
    sm_->boundJid = jid().full();
    sm_->acks.restart();
    sm_->id.clear();
    countInbound_ = false;
    countOutbound_ = false;
    if (smOffered_) {
        sendSmElement("enable");
        countOutbound_ = true; // XEP-0198 §4: counting starts with <enable/>
    }
    if (!detached_ && events_.connected)
        events_.connected();
}

void UpstreamClient::onDisconnect(gloox::ConnectionError error)
{
    bound_ = false;
    countInbound_ = false;
    countOutbound_ = false;
    resuming_ = false;
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
