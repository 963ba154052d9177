// XEP-0388 SASL2 on a client connection, with what a reconnecting phone asks for in the same
// round trip: Bind2 (XEP-0386) and its inline SM, carbons and CSI, XEP-0198 resumption, and
// FAST tokens (XEP-0484). The SASL mechanisms themselves are SaslExchange's, as for SASL.
#include "downstream.h"

#include "fast_login.h"
#include "sasl2_request.h"
#include "sasl_exchange.h"
#include "stream_namespaces.h"

#include <QLoggingCategory>
#include <QPointer>
#include <QRandomGenerator>

Q_DECLARE_LOGGING_CATEGORY(lcDownstream)

namespace xbnc {

namespace {

// FAST logins may fail this often on one connection, like SaslExchange's passwords.
constexpr int kMaxFastFailures = 3;
// A Bind2 tag is a client's label ("Conversations"), kept short in the resource.
constexpr qsizetype kMaxTagChars = 32;

// SaslExchange speaks RFC 6120 SASL; SASL2 carries the same base64 payloads in other elements.
Element asSasl(const QString &name, const std::optional<QString> &payload)
{
    Element element(name, ns::sasl.toString());
    if (payload)
        element.setText(payload->isEmpty() ? QStringLiteral("=") : *payload);
    return element;
}

Element asSasl2(const Element &reply)
{
    if (reply.name() == u"challenge")
        return sasl2Element(QStringLiteral("challenge"), reply.text());
    if (reply.name() == u"success") {
        Element success = sasl2Element(QStringLiteral("success"));
        if (!reply.text().isEmpty())
            success.addChild(sasl2Element(QStringLiteral("additional-data"), reply.text()));
        return success;
    }
    const Element *condition = reply.children().empty() ? nullptr : &reply.children().front();
    return sasl2Failure(condition ? condition->name() : QStringLiteral("not-authorized"));
}

// A Bind2 client names no resource: the device is its user agent, or a fresh name when it has
// none (then it is a new device on every login, as a bind without a resource is).
QString bind2Resource(const QString &device, const QString &tag)
{
    if (!device.isEmpty())
        return device;
    QString prefix;
    for (const QChar c : tag.left(kMaxTagChars))
        if (c.isLetterOrNumber() || c == u'-' || c == u'.')
            prefix.append(c);
    return QStringLiteral("%1-%2")
        .arg(prefix.isEmpty() ? QStringLiteral("xbnc") : prefix)
        .arg(QRandomGenerator::system()->generate(), 8, 16, QChar(u'0'));
}

} // namespace

void Downstream::handleSasl2(const Element &element)
{
    if (element.name() == u"authenticate" && !sasl2_)
        return startSasl2(element);
    if (element.name() == u"abort" && sasl2_) {
        const SaslExchange::Reply reply =
            sasl_->handle(asSasl(QStringLiteral("abort"), {}), encrypted_, tlsRequired_);
        return answerSasl(asSasl2(reply.element), int(reply.state));
    }
    if (!admitLogin())
        return;
    SaslExchange::Reply reply{};
    if (element.name() == u"response" && sasl2_)
        reply = sasl_->handle(asSasl(QStringLiteral("response"), element.text()), encrypted_,
                              tlsRequired_);
    else // a response with no exchange, an <authenticate/> during one
        reply = sasl_->handle(Element(QStringLiteral("malformed"), ns::sasl.toString()), encrypted_,
                              tlsRequired_);
    const SaslExchange::Attempt &attempt = sasl_->lastAttempt();
    concludeLoginStep(asSasl2(reply.element), int(reply.state), reply.triedCredentials,
                      attempt.user, attempt.mechanism);
}

void Downstream::startSasl2(const Element &authenticate)
{
    if (!admitLogin())
        return;
    sasl2_ = std::make_unique<Sasl2Request>(parseAuthenticate(authenticate));
    if (sasl2_->mechanism == FastLogin::kMechanism)
        return loginWithToken();
    Element auth = asSasl(QStringLiteral("auth"), sasl2_->initialResponse);
    auth.setAttribute(QStringLiteral("mechanism"), sasl2_->mechanism);
    const SaslExchange::Reply reply = sasl_->handle(auth, encrypted_, tlsRequired_);
    const SaslExchange::Attempt &attempt = sasl_->lastAttempt();
    concludeLoginStep(asSasl2(reply.element), int(reply.state), reply.triedCredentials,
                      attempt.user, attempt.mechanism);
}

void Downstream::loginWithToken()
{
    const Sasl2Request &request = *sasl2_;
    const std::optional<QByteArray> message =
        request.initialResponse
            ? QByteArray::fromBase64Encoding(request.initialResponse->toLatin1(),
                                             QByteArray::AbortOnBase64DecodingErrors)
                  .decoded
            : std::optional<QByteArray>();
    const QByteArray decoded = message.value_or(QByteArray());
    const QString user = QString::fromUtf8(decoded.left(decoded.indexOf('\0')).left(256));
    FastLogin::Verdict verdict;
    if (tlsRequired_ && !encrypted_)
        verdict.reason = QStringLiteral("not encrypted");
    else if (!settings_.fastLogin || request.userAgentId.isEmpty() || !request.fast)
        verdict.reason = QStringLiteral("no FAST here, no user agent or no <fast/>");
    else
        verdict = settings_.fastLogin->verify(FastLogin::deviceName(request.userAgentId),
                                              settings_.username, decoded, QByteArray(),
                                              request.fast->count, request.fast->invalidate);
    if (verdict.accepted) {
        fastRotate_ = verdict.rotate;
        Element success = sasl2Element(QStringLiteral("success"));
        success.addChild(sasl2Element(QStringLiteral("additional-data"),
                                      QString::fromLatin1(verdict.responderProof.toBase64())));
        return concludeLoginStep(success, int(SaslExchange::State::Succeeded), true, user,
                                 request.mechanism);
    }
    qCInfo(lcDownstream) << "session" << id_ << "FAST login refused:" << verdict.reason;
    const SaslExchange::State state = ++fastFailures_ >= kMaxFastFailures
                                          ? SaslExchange::State::TooManyFailures
                                          : SaslExchange::State::Failed;
    concludeLoginStep(sasl2Failure(QStringLiteral("not-authorized")), int(state), true, user,
                      request.mechanism);
}

void Downstream::succeedSasl2(Element success)
{
    const std::unique_ptr<Sasl2Request> request = std::move(sasl2_);
    authenticated_ = true;
    const QString device =
        request->userAgentId.isEmpty() ? QString() : FastLogin::deviceName(request->userAgentId);
    if (!device.isEmpty() && (request->requestTokenMechanism == FastLogin::kMechanism ||
                              (fastRotate_ && request->mechanism == FastLogin::kMechanism)))
        addFastToken(success, device);
    const bool resumed = request->resume && resumeInline(*request->resume, success);
    const bool bound = !resumed && request->bind;
    if (bound)
        bindInline(*request->bind, bind2Resource(device, request->bind->tag), success);
    // The full JID once bound, as a bind result carries it; the bare one before.
    const Jid authorized =
        phase_ == Phase::Bound ? jid() : Jid(settings_.username, settings_.domain);
    success.addChild(
        sasl2Element(QStringLiteral("authorization-identifier"), authorized.toString()));
    QByteArray bytes;
    success.appendXml(bytes, ns::client);
    write(bytes);
    qCInfo(lcDownstream) << "session" << id_ << "authenticated with SASL2"
                         << (resumed ? "and resumed"
                             : bound ? "and bound"
                                     : "");
    sendFeatures();
    if (resumed)
        return sendCatchUp();
    if (!bound)
        return;
    const Bind2Request inlineFeatures = *request->bind;
    qCInfo(lcDownstream) << "session" << id_ << "bound" << resource_ << "with Bind2";
    const QPointer<Downstream> self(this);
    Q_EMIT this->bound();
    if (!self || phase_ != Phase::Bound)
        return;
    // What the client asked inline reaches the hub as the stanzas it would have sent next.
    if (inlineFeatures.carbons)
        Q_EMIT stanzaReceived(inlineCarbonsRequest(jid().toString()));
    if (self && inlineFeatures.inactive)
        Q_EMIT clientStateIndicated(false);
}

void Downstream::addFastToken(Element &success, const QString &device)
{
    if (!settings_.fastLogin)
        return;
    const std::optional<FastLogin::Issued> issued = settings_.fastLogin->issue(device);
    if (!issued) {
        qCWarning(lcDownstream) << "session" << id_ << "could not store a new FAST token";
        return;
    }
    Element token(QStringLiteral("token"), ns::fast.toString());
    token.setAttribute(QStringLiteral("expiry"), issued->expires.toString(Qt::ISODateWithMs));
    token.setAttribute(QStringLiteral("token"), issued->token);
    success.addChild(std::move(token));
}

bool Downstream::resumeInline(const Element &resume, Element &success)
{
    QString condition;
    Downstream *earlier = resumableSession(resume, &condition);
    if (!earlier) {
        Element failed(QStringLiteral("failed"), ns::sm.toString());
        failed.addChild(Element(condition, ns::stanzaErrors.toString()));
        success.addChild(std::move(failed));
        return false;
    }
    takeOver(*earlier);
    enterBound();
    qCInfo(lcDownstream) << "session" << id_ << "resumed inline as resource" << resource_ << "with"
                         << sm_.unackedCount() << "stanzas to send again";
    Element resumed(QStringLiteral("resumed"), ns::sm.toString());
    resumed.setAttribute(QStringLiteral("h"), QString::number(sm_.handled()));
    resumed.setAttribute(QStringLiteral("previd"), resume.attribute(u"previd"));
    success.addChild(std::move(resumed));
    return true;
}

void Downstream::bindInline(const Bind2Request &request, const QString &resource, Element &success)
{
    const QString assigned = settings_.boundResource ? settings_.boundResource() : QString();
    resource_ = resource;
    boundResource_ = assigned.isEmpty() ? resource_ : assigned;
    Element &bound = success.addChild(Element(QStringLiteral("bound"), ns::bind2.toString()));
    // Before the hub hears of the session: every stanza it sends from then on is counted.
    if (request.enableSm)
        bound.addChild(Element::fromXml(startStreamManagement(request.smResumable), ns::client));
    if (request.carbons)
        bound.addChild(Element(QStringLiteral("enabled"), ns::carbons.toString()));
    enterBound();
}

} // namespace xbnc
