// SASL runs before login, so anyone who can connect reaches it: SaslServer (SCRAM-SHA-256(-PLUS),
// SCRAM-SHA-1(-PLUS), PLAIN) and the SaslExchange around it must answer any sequence of messages
// with a challenge, a success or a failure, never a crash or undefined behaviour, and must only
// report success for the one credential, and with -PLUS only when bound to the connection.
//
// Input: the first byte holds flags (see below); the rest is the client's messages separated by
// 0xFF (a byte UTF-8 never uses, so real SCRAM and PLAIN messages fit unchanged). With the fixed
// server nonce below, a seed can carry a complete, valid SCRAM exchange.
#include "element.h"
#include "quiet_qt_messages.h"
#include "sasl_exchange.h"
#include "sasl_server.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using xbnc::Element;
using xbnc::SaslCredentials;
using xbnc::SaslExchange;
using xbnc::SaslServer;

namespace {

const QString user = QStringLiteral("alice");
const QString password = QStringLiteral("pencil");
const QByteArray fixedServerNonce = "3rfcNHYJY1ZVvWVs7j";
const QString saslNs = QStringLiteral("urn:ietf:params:xml:ns:xmpp-sasl");
// The connection's tls-server-end-point when the Bound flag is set.
const QByteArray bindingData = "0123456789abcdef0123456789abcdef";

enum Flags : uint8_t
{
    MechanismMask = 0x03, // SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, or the first message's own name
    Encrypted = 0x04,
    ThroughExchange = 0x08, // XML elements and base64 through SaslExchange, not SaslServer
    TlsRequired = 0x10,
    RawText = 0x20, // the element text as given, not base64-encoded (decoding errors)
    Bound = 0x40,   // the connection has a channel binding (bindingData)
    Plus = 0x80,    // the -PLUS variant of the SCRAM mechanism the low bits chose
};

const SaslCredentials &credentials()
{
    // The fixed salt the SCRAM seeds are computed for. One PBKDF2 iteration, not 4096: PLAIN
    // derives the key again on every attempt, which would hold the fuzzer to a few inputs a
    // second; the iteration count changes no code path.
    static const SaslCredentials fixed(user, password, QByteArrayLiteral("QSXCR+Q6sek8bf92"), 1);
    return fixed;
}

[[noreturn]] void wrongSuccess(const char *how)
{
    std::fprintf(stderr, "SASL succeeded %s\n", how);
    std::abort();
}

xbnc::ChannelBindings bindings(uint8_t flags)
{
    if (!(flags & Bound))
        return {};
    return {{QStringLiteral("tls-server-end-point"), bindingData}};
}

void checkBoundSuccess(uint8_t flags, const QString &mechanism)
{
    if (mechanism.endsWith(u"-PLUS") && !(flags & Bound))
        wrongSuccess("with -PLUS on a connection without channel binding");
}

void throughServer(uint8_t flags, const QString &mechanism, QList<QByteArray> messages)
{
    SaslServer server(credentials(), bindings(flags));
    server.setNonceForTest(fixedServerNonce);
    SaslServer::Result result = server.start(mechanism, messages.takeFirst(), flags & Encrypted);
    for (const QByteArray &message : messages) {
        if (result.outcome != SaslServer::Outcome::Challenge)
            break;
        result = server.step(message);
    }
    if (result.outcome == SaslServer::Outcome::Success &&
        server.authenticatedUser().compare(user, Qt::CaseInsensitive) != 0)
        wrongSuccess("for another user");
    if (result.outcome == SaslServer::Outcome::Success)
        checkBoundSuccess(flags, mechanism);
    if (result.outcome == SaslServer::Outcome::Success && mechanism == u"PLAIN" &&
        !(flags & Encrypted))
        wrongSuccess("with PLAIN on an unencrypted stream");
}

void throughExchange(uint8_t flags, const QString &mechanism, const QList<QByteArray> &messages)
{
    SaslExchange exchange(credentials(), QStringLiteral("example.org"));
    exchange.setChannelBindings(bindings(flags));
    const auto text = [flags](const QByteArray &message) {
        if (flags & RawText)
            return QString::fromUtf8(message);
        return message.isEmpty() ? QStringLiteral("=") : QString::fromLatin1(message.toBase64());
    };
    for (qsizetype i = 0; i < messages.size(); ++i) {
        Element element;
        if (i == 0) {
            element = Element(QStringLiteral("auth"), saslNs);
            element.setAttribute(QStringLiteral("mechanism"), mechanism);
        } else {
            element = Element(messages.at(i) == "abort" ? QStringLiteral("abort")
                                                        : QStringLiteral("response"),
                              saslNs);
        }
        element.setText(text(messages.at(i)));
        const SaslExchange::Reply reply =
            exchange.handle(element, flags & Encrypted, flags & TlsRequired);
        if (reply.state == SaslExchange::State::Succeeded && (flags & TlsRequired) &&
            !(flags & Encrypted))
            wrongSuccess("on an unencrypted stream that requires TLS");
        if (reply.state == SaslExchange::State::Succeeded)
            checkBoundSuccess(flags, mechanism);
        if (reply.state == SaslExchange::State::TooManyFailures)
            break;
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    quietQtMessages();
    credentials();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t flags = data[0];
    QList<QByteArray> messages =
        QByteArray(reinterpret_cast<const char *>(data) + 1, qsizetype(size) - 1).split('\xff');
    QString mechanism;
    switch (flags & MechanismMask) {
    case 0:
        mechanism = QStringLiteral("SCRAM-SHA-256");
        break;
    case 1:
        mechanism = QStringLiteral("SCRAM-SHA-1");
        break;
    case 2:
        mechanism = QStringLiteral("PLAIN");
        break;
    default:
        mechanism = QString::fromUtf8(messages.takeFirst());
        if (messages.isEmpty())
            return 0;
        break;
    }
    if ((flags & Plus) && mechanism.startsWith(u"SCRAM-"))
        mechanism += QStringLiteral("-PLUS");
    if (flags & ThroughExchange)
        throughExchange(flags, mechanism, messages);
    else
        throughServer(flags, mechanism, messages);
    return 0;
}
