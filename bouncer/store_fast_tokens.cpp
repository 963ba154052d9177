// The fast_tokens table and StoreFastTokens over it.
#include "store_fast_tokens.h"

#include "store.h"

#include <QPasswordDigestor>
#include <QRandomGenerator>
#include <QSqlQuery>
#include <QVariant>

namespace xbnc {

namespace {

constexpr int kCheckIterations = 10000;
constexpr int kCheckBytes = 32;
constexpr int kSaltWords = 4; // 16 bytes
const QString kSaltKey = QStringLiteral("fast_password_salt");
const QString kCheckKey = QStringLiteral("fast_password_check");

QString stamp(const QDateTime &time)
{
    return time.toUTC().toString(Qt::ISODateWithMs);
}

QDateTime fromStamp(const QString &text)
{
    return QDateTime::fromString(text, Qt::ISODateWithMs).toUTC();
}

} // namespace

std::vector<FastToken> Store::fastTokens(const QString &device) const
{
    std::vector<FastToken> tokens;
    QSqlQuery query(db_);
    query.prepare(QStringLiteral("SELECT key, issued, expires, last_count, in_use FROM fast_tokens"
                                 " WHERE device = ? ORDER BY issued"));
    query.addBindValue(device);
    if (!exec(query))
        return tokens;
    while (query.next())
        tokens.push_back(FastToken{query.value(0).toByteArray(), device,
                                   fromStamp(query.value(1).toString()),
                                   fromStamp(query.value(2).toString()),
                                   query.value(3).toLongLong(), query.value(4).toBool()});
    return tokens;
}

bool Store::putFastToken(const FastToken &token)
{
    QSqlQuery query(db_);
    query.prepare(QStringLiteral("INSERT OR REPLACE INTO fast_tokens (key, device, issued, expires,"
                                 " last_count, in_use) VALUES (?, ?, ?, ?, ?, ?)"));
    query.addBindValue(token.key);
    query.addBindValue(token.device);
    query.addBindValue(stamp(token.issued));
    query.addBindValue(stamp(token.expires));
    query.addBindValue(token.lastCount);
    query.addBindValue(token.inUse ? 1 : 0);
    return exec(query);
}

bool Store::removeFastToken(const QByteArray &key)
{
    QSqlQuery query(db_);
    query.prepare(QStringLiteral("DELETE FROM fast_tokens WHERE key = ?"));
    query.addBindValue(key);
    return exec(query);
}

int Store::removeAllFastTokens()
{
    QSqlQuery query(db_);
    if (!exec(query, QStringLiteral("DELETE FROM fast_tokens")))
        return -1;
    return query.numRowsAffected();
}

std::vector<FastToken> StoreFastTokens::tokens(const QString &device) const
{
    return store_.fastTokens(device);
}

bool StoreFastTokens::put(const FastToken &token)
{
    return store_.putFastToken(token);
}

bool StoreFastTokens::remove(const QByteArray &key)
{
    return store_.removeFastToken(key);
}

int StoreFastTokens::removeAll()
{
    return store_.removeAllFastTokens();
}

int StoreFastTokens::revokeIfPasswordChanged(const QString &password)
{
    QByteArray salt = QByteArray::fromHex(store_.value(kSaltKey).toLatin1());
    if (salt.isEmpty()) {
        salt.resize(kSaltWords * sizeof(quint32));
        QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(salt.data()), kSaltWords);
        if (!store_.setValue(kSaltKey, QString::fromLatin1(salt.toHex())))
            return -1;
    }
    const QString check = QString::fromLatin1(
        QPasswordDigestor::deriveKeyPbkdf2(QCryptographicHash::Sha256, password.toUtf8(), salt,
                                           kCheckIterations, kCheckBytes)
            .toHex());
    const QString previous = store_.value(kCheckKey);
    if (previous == check)
        return 0;
    // No check value yet (a first start, or a database from before FAST): nothing to revoke.
    const int revoked = previous.isEmpty() ? 0 : removeAll();
    if (revoked < 0 || !store_.setValue(kCheckKey, check))
        return -1;
    return revoked;
}

} // namespace xbnc
