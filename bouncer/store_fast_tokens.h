#pragma once

#include "fast_tokens.h"

namespace xbnc {

class Store;

// The listener's FAST tokens (XEP-0484) in the database, hashed.
class StoreFastTokens final : public FastTokens
{
public:
    explicit StoreFastTokens(Store &store) : store_(store) {}

    std::vector<FastToken> tokens(const QString &device) const override;
    bool put(const FastToken &token) override;
    bool remove(const QByteArray &key) override;
    int removeAll() override;

    // A token stands for the password it was earned with: when the account password in the
    // configuration is not the one of the last start, every token is revoked. Only a PBKDF2
    // check value of the password is kept to tell. Returns how many were revoked (-1: failed).
    int revokeIfPasswordChanged(const QString &password);

private:
    Store &store_;
};

} // namespace xbnc
