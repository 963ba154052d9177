#include "sasl_exchange.h"

#include "jid.h"
#include "sasl_server.h"
#include "stream_namespaces.h"

#include <QLoggingCategory>

#include <optional>

Q_LOGGING_CATEGORY(lcSasl, "xbnc.downstream.sasl")

namespace xbnc {

namespace {

Element saslElement(const QString &name, const QByteArray &data = {})
{
    Element element(name, ns::sasl.toString());
    if (!data.isEmpty())
        element.setText(QString::fromLatin1(data.toBase64()));
    return element;
}

Element saslFailure(const QString &condition)
{
    Element failure(QStringLiteral("failure"), ns::sasl.toString());
    failure.addChild(Element(condition, ns::sasl.toString()));
    return failure;
}

// The authzid the client asked for, from the first message of PLAIN ("authzid\0authcid\0pw")
// or SCRAM (GS2 header "n,a=authzid,"); empty when none.
QString requestedAuthzid(const QString &mechanism, const QByteArray &initialResponse)
{
    if (mechanism == u"PLAIN") {
        const qsizetype nul = initialResponse.indexOf('\0');
        return nul <= 0 ? QString() : QString::fromUtf8(initialResponse.left(nul));
    }
    if (mechanism.startsWith(u"SCRAM-")) {
        const QList<QByteArray> fields = initialResponse.split(',');
        if (fields.size() > 1 && fields.at(1).startsWith("a=")) {
            QByteArray name = fields.at(1).mid(2);
            name.replace("=2C", ",").replace("=3D", "=");
            return QString::fromUtf8(name);
        }
    }
    return {};
}

// The user name the client claimed (PLAIN authcid, SCRAM "n="), shortened for a log line.
QString requestedUser(const QString &mechanism, const QByteArray &initialResponse)
{
    constexpr qsizetype kLoggedChars = 64;
    QByteArray name;
    if (mechanism == u"PLAIN") {
        const QList<QByteArray> parts = initialResponse.split('\0');
        if (parts.size() > 1)
            name = parts.at(1);
    } else if (mechanism.startsWith(u"SCRAM-")) {
        const QList<QByteArray> fields = initialResponse.split(',');
        if (fields.size() > 2 && fields.at(2).startsWith("n="))
            name = fields.at(2).mid(2).replace("=2C", ",").replace("=3D", "=");
    }
    return QString::fromUtf8(name.left(kLoggedChars * 4)).left(kLoggedChars);
}

std::optional<QByteArray> decodeBase64(const QString &text)
{
    const QString trimmed = text.trimmed();
    auto decoded =
        QByteArray::fromBase64Encoding(trimmed == u"=" ? QByteArray() : trimmed.toLatin1(),
                                       QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    return std::move(*decoded);
}

} // namespace

SaslExchange::SaslExchange(const SaslCredentials &credentials, QString domain, int maxFailures)
    : credentials_(credentials), domain_(std::move(domain)), maxFailures_(maxFailures)
{
}

SaslExchange::~SaslExchange() = default;

SaslExchange::Reply SaslExchange::handle(const Element &element, bool encrypted, bool tlsRequired)
{
    if (element.name() == u"auth")
        return start(element, encrypted, tlsRequired);
    if (element.name() == u"response" && server_)
        return respond(element);
    if (element.name() == u"abort") {
        server_.reset();
        return {saslFailure(QStringLiteral("aborted")), State::Aborted};
    }
    return failure(QStringLiteral("malformed-request"));
}

SaslExchange::Reply SaslExchange::start(const Element &auth, bool encrypted, bool tlsRequired)
{
    const QString mechanism = auth.attribute(u"mechanism");
    attempt_ = {mechanism.left(32), QString()};
    if (tlsRequired && !encrypted)
        return failure(QStringLiteral("encryption-required"));
    const QString text = auth.text();
    // Before decoding, and long before SASLprep, whose cost grows faster than the size.
    if (text.size() > kMaxPayloadChars)
        return failure(QStringLiteral("malformed-request"));
    const std::optional<QByteArray> decoded = decodeBase64(text);
    if (!decoded)
        return failure(QStringLiteral("incorrect-encoding"));
    attempt_.user = requestedUser(mechanism, *decoded);
    if (!authzidAllowed(mechanism, *decoded))
        return failure(QStringLiteral("invalid-authzid"));

    server_ = std::make_unique<SaslServer>(credentials_, bindings_);
    const SaslServer::Result result = server_->start(mechanism, *decoded, encrypted);
    qCDebug(lcSasl) << "auth with" << mechanism;
    return finish(int(result.outcome), result.data, result.failureCondition,
                  result.triedCredentials);
}

SaslExchange::Reply SaslExchange::respond(const Element &response)
{
    const QString text = response.text();
    // Before decoding, and long before SASLprep, whose cost grows faster than the size.
    if (text.size() > kMaxPayloadChars)
        return failure(QStringLiteral("malformed-request"));
    const std::optional<QByteArray> decoded = decodeBase64(text);
    if (!decoded)
        return failure(QStringLiteral("incorrect-encoding"));
    if (attempt_.user.isEmpty())
        attempt_.user = requestedUser(attempt_.mechanism, *decoded);
    const SaslServer::Result result = server_->step(*decoded);
    return finish(int(result.outcome), result.data, result.failureCondition,
                  result.triedCredentials);
}

SaslExchange::Reply SaslExchange::finish(int outcome, const QByteArray &data,
                                         const QString &failureCondition, bool triedCredentials)
{
    switch (SaslServer::Outcome(outcome)) {
    case SaslServer::Outcome::Challenge:
        return {saslElement(QStringLiteral("challenge"), data), State::InProgress};
    case SaslServer::Outcome::Success:
        // The credentials only know one user, but make the account rule explicit here.
        if (server_->authenticatedUser().compare(credentials_.username(), Qt::CaseInsensitive) != 0)
            return failure(QStringLiteral("not-authorized"));
        server_.reset();
        qCInfo(lcSasl) << "authenticated";
        return {saslElement(QStringLiteral("success"), data), State::Succeeded};
    case SaslServer::Outcome::Failure:
        break;
    }
    return failure(failureCondition.isEmpty() ? QStringLiteral("not-authorized") : failureCondition,
                   triedCredentials);
}

SaslExchange::Reply SaslExchange::failure(const QString &condition, bool triedCredentials)
{
    server_.reset();
    // Still one of the connection's attempts: a client cannot go on asking for ever.
    ++failures_;
    // The warning with the peer's address is the listener's: it knows the address.
    qCDebug(lcSasl) << "authentication failed:" << condition << "attempt" << failures_;
    if (!triedCredentials)
        qCInfo(lcSasl) << "refused a channel binding type the connection does not offer";
    return {saslFailure(condition),
            failures_ >= maxFailures_ ? State::TooManyFailures : State::Failed, triedCredentials};
}

bool SaslExchange::authzidAllowed(const QString &mechanism, const QByteArray &initialResponse) const
{
    const QString authzid = requestedAuthzid(mechanism, initialResponse);
    if (authzid.isEmpty())
        return true;
    const Jid jid(authzid);
    return jid.isBare() && jid == Jid(credentials_.username(), domain_);
}

} // namespace xbnc
