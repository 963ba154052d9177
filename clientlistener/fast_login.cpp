#include "fast_login.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>
#include <QRandomGenerator>

#include <openssl/crypto.h>

#include <algorithm>

namespace xbnc {

namespace {

// 72 random bytes, 96 characters: longer than SHA-256's block, which is what lets the store keep
// only the hash (see FastToken).
constexpr int kTokenBytes = 72;

QByteArray keyOf(const QString &token)
{
    return QCryptographicHash::hash(token.toUtf8(), QCryptographicHash::Sha256);
}

QByteArray proof(const QByteArray &key, QByteArrayView label, const QByteArray &cbData)
{
    return QMessageAuthenticationCode::hash(label.toByteArray() + cbData, key,
                                            QCryptographicHash::Sha256);
}

bool sameBytes(const QByteArray &a, const QByteArray &b)
{
    return a.size() == b.size() && CRYPTO_memcmp(a.constData(), b.constData(), a.size()) == 0;
}

} // namespace

FastLogin::FastLogin(FastTokens &tokens, std::chrono::seconds lifetime,
                     std::function<QDateTime()> now)
    : tokens_(tokens), lifetime_(lifetime), now_(std::move(now))
{
}

QString FastLogin::deviceName(const QString &userAgentId)
{
    const QByteArray digest =
        QCryptographicHash::hash(userAgentId.toUtf8(), QCryptographicHash::Sha256);
    return QStringLiteral("ua-") + QString::fromLatin1(digest.toHex().left(16));
}

std::optional<FastLogin::Issued> FastLogin::issue(const QString &device)
{
    QByteArray random(kTokenBytes, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(random.data()),
                                          kTokenBytes / sizeof(quint32));
    const QString token = QString::fromLatin1(
        random.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
    // Only the token in use and this new one stay valid: a new one nobody used goes.
    for (const FastToken &old : tokens_.tokens(device)) {
        if (!old.inUse && !tokens_.remove(old.key))
            return std::nullopt;
    }
    FastToken stored;
    stored.key = keyOf(token);
    stored.device = device;
    stored.issued = now_();
    stored.expires = stored.issued.addSecs(lifetime_.count());
    if (!tokens_.put(stored))
        return std::nullopt;
    return Issued{token, stored.expires};
}

FastLogin::Verdict FastLogin::verify(const QString &device, const QString &username,
                                     const QByteArray &message, const QByteArray &cbData,
                                     qint64 count, bool invalidate)
{
    const qsizetype nul = message.indexOf('\0');
    if (nul <= 0)
        return {false, {}, false, QStringLiteral("malformed HT message")};
    if (QString::fromUtf8(message.left(nul)).compare(username, Qt::CaseInsensitive) != 0)
        return {false, {}, false, QStringLiteral("unknown user")};
    const QByteArray initiator = message.mid(nul + 1);
    std::vector<FastToken> tokens = tokens_.tokens(device);
    const auto matching = std::find_if(tokens.begin(), tokens.end(), [&](const FastToken &t) {
        return sameBytes(proof(t.key, "Initiator", cbData), initiator);
    });
    if (matching == tokens.end())
        return {false, {}, false, QStringLiteral("no such token")};
    FastToken token = *matching;
    const QDateTime now = now_();
    if (token.expires <= now) {
        tokens_.remove(token.key);
        return {false, {}, false, QStringLiteral("token expired")};
    }
    // The HMAC covers no nonce: without a count higher than the last, a recorded login could be
    // played again. A client that never sends a count (it is optional in some clients) keeps
    // working without that protection; once one came, a login without one is refused too.
    if (count < 0 ? token.lastCount >= 0 : count <= token.lastCount)
        return {false, {}, false, QStringLiteral("count missing or not above the last (replay)")};
    if (invalidate) {
        tokens_.remove(token.key);
        return {true, proof(token.key, "Responder", cbData), false, {}};
    }
    if (!token.inUse) {
        // The first use of a new token retires the one it replaced.
        for (const FastToken &other : tokens) {
            if (other.key != token.key)
                tokens_.remove(other.key);
        }
        token.inUse = true;
    }
    token.lastCount = std::max(count, token.lastCount);
    if (!tokens_.put(token))
        return {false, {}, false, QStringLiteral("could not store the token's use")};
    const bool rotate = token.issued.secsTo(now) > lifetime_.count() / 2;
    return {true, proof(token.key, "Responder", cbData), rotate, {}};
}

} // namespace xbnc
