#include "sasl_server.h"

#include <QMessageAuthenticationCode>
#include <QPasswordDigestor>
#include <QRandomGenerator>
#include <QStringDecoder>

#include <openssl/crypto.h>

#include <optional>

namespace xbnc {

namespace {

const QString kScramSha256 = QStringLiteral("SCRAM-SHA-256");
const QString kScramSha1 = QStringLiteral("SCRAM-SHA-1");
const QString kScramSha256Plus = QStringLiteral("SCRAM-SHA-256-PLUS");
const QString kScramSha1Plus = QStringLiteral("SCRAM-SHA-1-PLUS");
const QString kPlain = QStringLiteral("PLAIN");

constexpr qsizetype kSaltBytes = 16;
constexpr qsizetype kServerNonceBytes = 18; // 24 base64 characters, no padding

QString notAuthorized()
{
    return QStringLiteral("not-authorized");
}
QString malformed()
{
    return QStringLiteral("malformed-request");
}

// Equal-length secrets compared in time independent of where they differ, so a network
// observer cannot find a key byte by byte.
bool constantTimeEqual(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size() || a.isEmpty())
        return false;
    return CRYPTO_memcmp(a.constData(), b.constData(), size_t(a.size())) == 0;
}

// Strict UTF-8: a replacement character would make two different byte strings compare equal.
std::optional<QString> decodeUtf8(const QByteArray &bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString text = decoder(bytes);
    if (decoder.hasError() || text.contains(QChar(0)))
        return std::nullopt;
    return text;
}

// SASLprep (RFC 4013) for the stored password and the one a client sends, minus its
// prohibited-character checks: both sides normalise the same way, which is what makes a
// non-ASCII password work with SCRAM clients that do SASLprep.
QString saslPrep(const QString &text)
{
    QString mapped;
    mapped.reserve(text.size());
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        // RFC 3454 B.1: "commonly mapped to nothing".
        if (u == 0x00AD || u == 0x034F || u == 0x1806 || (u >= 0x180B && u <= 0x180D) ||
            (u >= 0x200B && u <= 0x200D) || u == 0x2060 || (u >= 0xFE00 && u <= 0xFE0F) ||
            u == 0xFEFF)
            continue;
        // RFC 3454 C.1.2: non-ASCII spaces become a plain space.
        if (u != 0x0020 && c.category() == QChar::Separator_Space) {
            mapped.append(QChar(u' '));
            continue;
        }
        mapped.append(c);
    }
    return mapped.normalized(QString::NormalizationForm_KC);
}

ScramKeys deriveKeys(QCryptographicHash::Algorithm algorithm, const QString &password,
                     const QByteArray &salt, int iterations)
{
    const QByteArray salted =
        QPasswordDigestor::deriveKeyPbkdf2(algorithm, saslPrep(password).toUtf8(), salt, iterations,
                                           quint64(QCryptographicHash::hashLength(algorithm)));
    const QByteArray clientKey = QMessageAuthenticationCode::hash("Client Key", salted, algorithm);
    ScramKeys keys;
    keys.salt = salt;
    keys.iterations = iterations;
    keys.storedKey = QCryptographicHash::hash(clientKey, algorithm);
    keys.serverKey = QMessageAuthenticationCode::hash("Server Key", salted, algorithm);
    return keys;
}

QByteArray randomBytes(qsizetype count)
{
    QByteArray bytes(count, Qt::Uninitialized);
    QRandomGenerator::system()->generate(bytes.begin(), bytes.end());
    return bytes;
}

QByteArray xorBytes(const QByteArray &a, const QByteArray &b)
{
    QByteArray out(a.size(), Qt::Uninitialized);
    for (qsizetype i = 0; i < a.size(); ++i)
        out[i] = char(a.at(i) ^ b.at(i));
    return out;
}

// RFC 5802 saslname: ',' and '=' arrive as "=2C" and "=3D"; any other '=' is malformed.
std::optional<QString> unescapeSaslName(const QByteArray &name)
{
    QByteArray out;
    out.reserve(name.size());
    for (qsizetype i = 0; i < name.size(); ++i) {
        if (name.at(i) != '=') {
            out.append(name.at(i));
            continue;
        }
        const QByteArray escape = name.mid(i + 1, 2);
        if (escape == "2C")
            out.append(',');
        else if (escape == "3D")
            out.append('=');
        else
            return std::nullopt;
        i += 2;
    }
    return decodeUtf8(out);
}

// Printable ASCII except ',' (RFC 5802 "printable").
bool validNonce(const QByteArray &nonce)
{
    if (nonce.isEmpty())
        return false;
    for (const char c : nonce) {
        if (c < 0x21 || c > 0x7e || c == ',')
            return false;
    }
    return true;
}

// The authzid may only name the account itself: a bare JID "user@domain" or just "user"
// (the domain is checked by the caller, which knows it).
bool authzidAllowed(const SaslCredentials &credentials, const QString &authzid)
{
    if (authzid.isEmpty())
        return true;
    const qsizetype at = authzid.indexOf(u'@');
    return credentials.matchesUser(at < 0 ? authzid : authzid.left(at));
}

} // namespace

SaslCredentials::SaslCredentials(QString username, const QString &password)
    : username_(std::move(username)),
      sha1_(deriveKeys(QCryptographicHash::Sha1, password, randomBytes(kSaltBytes),
                       kMinimumIterations)),
      sha256_(deriveKeys(QCryptographicHash::Sha256, password, randomBytes(kSaltBytes),
                         kMinimumIterations))
{
}

SaslCredentials::SaslCredentials(QString username, const QString &password, const QByteArray &salt,
                                 int iterations)
    : username_(std::move(username)),
      sha1_(deriveKeys(QCryptographicHash::Sha1, password, salt, iterations)),
      sha256_(deriveKeys(QCryptographicHash::Sha256, password, salt, iterations))
{
}

bool SaslCredentials::matchesUser(const QString &user) const
{
    // Local parts are case-folded (RFC 7622 §3.3 via PRECIS UsernameCaseMapped).
    return !user.isEmpty() && user.toCaseFolded() == username_.toCaseFolded();
}

bool SaslCredentials::checkPlain(const QString &user, const QString &password) const
{
    // Derive with the stored salt and compare StoredKeys: no plain password is kept to compare
    // against, and the comparison does not leak where the strings differ.
    const ScramKeys candidate =
        deriveKeys(QCryptographicHash::Sha256, password, sha256_.salt, sha256_.iterations);
    const bool keyMatches = constantTimeEqual(candidate.storedKey, sha256_.storedKey);
    return matchesUser(user) && keyMatches;
}

const ScramKeys &SaslCredentials::scram(QCryptographicHash::Algorithm algorithm) const
{
    Q_ASSERT(algorithm == QCryptographicHash::Sha1 || algorithm == QCryptographicHash::Sha256);
    return algorithm == QCryptographicHash::Sha1 ? sha1_ : sha256_;
}

QStringList SaslServer::mechanisms(bool encrypted, const ChannelBindings &bindings)
{
    QStringList list;
    if (!bindings.isEmpty())
        list = {kScramSha256Plus, kScramSha1Plus};
    list.append({kScramSha256, kScramSha1});
    if (encrypted)
        list.append(kPlain);
    return list;
}

SaslServer::SaslServer(const SaslCredentials &credentials, ChannelBindings bindings)
    : credentials_(credentials), bindings_(std::move(bindings))
{
}

SaslServer::Result SaslServer::start(const QString &mechanism, const QByteArray &initialResponse,
                                     bool encrypted)
{
    if (state_ != State::Idle)
        return fail(malformed());
    QString base = mechanism;
    if (mechanism == kScramSha256Plus || mechanism == kScramSha1Plus) {
        // Not offered without bindings: a client asking for it did not read the offer.
        if (bindings_.isEmpty())
            return fail(QStringLiteral("invalid-mechanism"));
        plus_ = true;
        base.chop(5); // "-PLUS"
    }
    if (base == kScramSha256) {
        algorithm_ = QCryptographicHash::Sha256;
    } else if (base == kScramSha1) {
        algorithm_ = QCryptographicHash::Sha1;
    } else if (base == kPlain) {
        // The password would cross the wire in clear.
        if (!encrypted)
            return fail(QStringLiteral("encryption-required"));
    } else {
        return fail(QStringLiteral("invalid-mechanism"));
    }
    mechanism_ = mechanism;
    state_ = State::AwaitingInitial;
    // Both mechanisms are client-first, so an absent initial response gets an empty challenge
    // (RFC 6120 §6.4.2) and the client's first message arrives in the next response.
    if (initialResponse.isEmpty())
        return {Outcome::Challenge, {}, {}};
    return step(initialResponse);
}

SaslServer::Result SaslServer::step(const QByteArray &response)
{
    switch (state_) {
    case State::AwaitingInitial:
        return mechanism_ == kPlain ? plain(response) : scramClientFirst(response);
    case State::AwaitingClientFinal:
        return scramClientFinal(response);
    case State::Idle:
    case State::Done:
        break;
    }
    return fail(malformed());
}

// RFC 4616: [authzid] NUL authcid NUL passwd.
SaslServer::Result SaslServer::plain(const QByteArray &message)
{
    const QList<QByteArray> parts = message.split('\0');
    if (parts.size() != 3 || parts.at(1).isEmpty() || parts.at(2).isEmpty())
        return fail(malformed());
    if (parts.at(1).size() > kMaxUserBytes || parts.at(2).size() > kMaxPasswordBytes)
        return fail(malformed());
    const auto authzid = decodeUtf8(parts.at(0));
    const auto authcid = decodeUtf8(parts.at(1));
    const auto password = decodeUtf8(parts.at(2));
    if (!authzid || !authcid || !password)
        return fail(malformed());
    if (!credentials_.checkPlain(*authcid, *password))
        return fail(notAuthorized());
    if (!authzidAllowed(credentials_, *authzid))
        return fail(QStringLiteral("invalid-authzid"));
    return succeed({});
}

// RFC 5802 §7: gs2-cbind-flag "," [authzid] "," username "," nonce ["," extensions].
SaslServer::Result SaslServer::scramClientFirst(const QByteArray &message)
{
    const qsizetype flagEnd = message.indexOf(',');
    const qsizetype authzidEnd = flagEnd < 0 ? -1 : message.indexOf(',', flagEnd + 1);
    if (authzidEnd < 0)
        return fail(malformed());
    if (const std::optional<Result> refused = acceptBindingFlag(message.left(flagEnd)))
        return *refused;
    const QByteArray authzidField = message.mid(flagEnd + 1, authzidEnd - flagEnd - 1);
    QString authzid;
    if (!authzidField.isEmpty()) {
        if (!authzidField.startsWith("a="))
            return fail(malformed());
        const auto name = unescapeSaslName(authzidField.mid(2));
        if (!name || name->isEmpty())
            return fail(malformed());
        authzid = *name;
    }

    const QByteArray bare = message.mid(authzidEnd + 1);
    const QList<QByteArray> attributes = bare.split(',');
    // "m=" is reserved for mandatory extensions, none of which exist: refuse rather than ignore.
    if (attributes.size() < 2 || !attributes.at(0).startsWith("n=") ||
        !attributes.at(1).startsWith("r="))
        return fail(malformed());
    if (attributes.at(0).size() - 2 > kMaxUserBytes)
        return fail(malformed());
    const auto user = unescapeSaslName(attributes.at(0).mid(2));
    const QByteArray clientNonce = attributes.at(1).mid(2);
    if (!user || user->isEmpty() || !validNonce(clientNonce))
        return fail(malformed());
    // One account per listener, so saying which user is wrong reveals nothing worth a decoy
    // exchange with a fake salt.
    if (!credentials_.matchesUser(*user))
        return fail(notAuthorized());
    if (!authzidAllowed(credentials_, authzid))
        return fail(QStringLiteral("invalid-authzid"));

    const ScramKeys &keys = credentials_.scram(algorithm_);
    if (serverNonce_.isEmpty())
        serverNonce_ = randomBytes(kServerNonceBytes).toBase64();
    gs2Header_ = message.left(authzidEnd + 1);
    clientFirstBare_ = bare;
    nonce_ = clientNonce + serverNonce_;
    serverFirst_ =
        "r=" + nonce_ + ",s=" + keys.salt.toBase64() + ",i=" + QByteArray::number(keys.iterations);
    state_ = State::AwaitingClientFinal;
    return {Outcome::Challenge, serverFirst_, {}};
}

// RFC 5802 §6-7: gs2-cbind-flag = "p=" cb-name / "n" / "y". Sets what the client-final
// message must bind to; a failure when the flag does not fit the mechanism or the connection.
std::optional<SaslServer::Result> SaslServer::acceptBindingFlag(const QByteArray &flag)
{
    if (flag.startsWith("p=")) {
        // Binding is what -PLUS means, and only -PLUS (RFC 5802 §5.1).
        if (!plus_)
            return fail(malformed());
        const ChannelBinding *binding =
            findChannelBinding(bindings_, QString::fromLatin1(flag.mid(2)));
        // A type this connection cannot check (slixmpp's tls-unique, say): logging in unbound
        // instead would defeat the binding the client asked for. Nothing secret was looked at,
        // so this is no guess: slixmpp goes on to a mechanism without binding.
        if (!binding) {
            Result refused = fail(notAuthorized());
            refused.triedCredentials = false;
            return refused;
        }
        bindingData_ = binding->data;
        return std::nullopt;
    }
    if (flag != "n" && flag != "y")
        return fail(malformed());
    // A -PLUS exchange that binds to nothing would be an unbound one under a bound name.
    if (plus_)
        return fail(malformed());
    // "y" says the client could bind but believes the server cannot. RFC 5802 §6 has a server
    // that can bind refuse it, as the trace of a man in the middle who struck the -PLUS
    // mechanisms from the offer. xbnc accepts it: slixmpp (Poezio) sends "y" on every attempt
    // without -PLUS, including the one it falls back to after its tls-unique was refused, and
    // the clients that bind (Conversations, Monal) pin -PLUS once seen, which guards against
    // that man in the middle without locking anyone out (docs/SASL.md).
    return std::nullopt;
}

// RFC 5802 §7: "c=" cbind-input "," "r=" nonce ["," extensions] "," "p=" proof.
SaslServer::Result SaslServer::scramClientFinal(const QByteArray &message)
{
    const qsizetype proofAt = message.lastIndexOf(",p=");
    if (proofAt < 0)
        return fail(malformed());
    const QByteArray withoutProof = message.left(proofAt);
    const auto proof = QByteArray::fromBase64Encoding(message.mid(proofAt + 3),
                                                      QByteArray::AbortOnBase64DecodingErrors);
    const QList<QByteArray> attributes = withoutProof.split(',');
    if (!proof || attributes.size() < 2 || !attributes.at(0).startsWith("c=") ||
        !attributes.at(1).startsWith("r="))
        return fail(malformed());
    const auto binding = QByteArray::fromBase64Encoding(attributes.at(0).mid(2),
                                                        QByteArray::AbortOnBase64DecodingErrors);
    if (!binding)
        return fail(malformed());
    // The GS2 header must come back unchanged, or a man in the middle could have stripped
    // the client's "y" (RFC 5802 §6). With -PLUS the channel's binding data follows it, and
    // other data means the client's TLS ends somewhere else: at a man in the middle.
    if (*binding != gs2Header_ + bindingData_)
        return fail(plus_ ? notAuthorized() : malformed());
    // A nonce other than ours is a replay or a confused client; either way the proof would
    // not be for this exchange.
    if (attributes.at(1).mid(2) != nonce_)
        return fail(notAuthorized());
    if (proof.decoded.size() != QCryptographicHash::hashLength(algorithm_))
        return fail(malformed());

    const ScramKeys &keys = credentials_.scram(algorithm_);
    const QByteArray authMessage = clientFirstBare_ + ',' + serverFirst_ + ',' + withoutProof;
    const QByteArray clientSignature =
        QMessageAuthenticationCode::hash(authMessage, keys.storedKey, algorithm_);
    const QByteArray clientKey = xorBytes(*proof, clientSignature);
    if (!constantTimeEqual(QCryptographicHash::hash(clientKey, algorithm_), keys.storedKey))
        return fail(notAuthorized());
    const QByteArray serverSignature =
        QMessageAuthenticationCode::hash(authMessage, keys.serverKey, algorithm_);
    return succeed("v=" + serverSignature.toBase64());
}

SaslServer::Result SaslServer::fail(const QString &condition)
{
    state_ = State::Done;
    authenticatedUser_.clear();
    return {Outcome::Failure, {}, condition};
}

SaslServer::Result SaslServer::succeed(const QByteArray &data)
{
    state_ = State::Done;
    authenticatedUser_ = credentials_.username();
    return {Outcome::Success, data, {}};
}

} // namespace xbnc
