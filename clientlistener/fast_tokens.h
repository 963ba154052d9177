#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QString>

#include <vector>

namespace xbnc {

// One XEP-0484 token as kept: never the token itself, only its SHA-256. Tokens are longer than
// SHA-256's 64-byte block, so HMAC(token, m) is by definition HMAC(SHA-256(token), m): the hash
// is all verification needs.
struct FastToken
{
    QByteArray key; // SHA-256 of the token
    QString device; // FastLogin::deviceName of the user agent it was issued to
    QDateTime issued;
    QDateTime expires;
    qint64 lastCount = -1; // the highest `count` a login with it carried; -1 none yet
    bool inUse = false;    // a login used it; a newer one issued since is not in use yet
};

// Where the tokens live. The listener only calls this; the bouncer implements it over its
// database (bouncer/store_fast_tokens.*), so no SQL reaches the listener.
class FastTokens
{
public:
    virtual ~FastTokens() = default;
    virtual std::vector<FastToken> tokens(const QString &device) const = 0;
    // Inserts, or replaces the token with the same key.
    virtual bool put(const FastToken &token) = 0;
    virtual bool remove(const QByteArray &key) = 0;
    // Returns how many were removed, -1 on failure.
    virtual int removeAll() = 0;
};

} // namespace xbnc
