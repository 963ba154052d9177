#pragma once

#include "fast_tokens.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

#include <chrono>
#include <functional>
#include <optional>

namespace xbnc {

// XEP-0484 FAST with HT-SHA-256-* (draft-schmaus-kitten-sasl-ht): issuing a token to a device,
// checking a login made with one, and rotating it. Policy only: the tokens are kept by a
// FastTokens.
class FastLogin
{
public:
    static constexpr QStringView kMechanism = u"HT-SHA-256-NONE";

    FastLogin(FastTokens &tokens, std::chrono::seconds lifetime,
              std::function<QDateTime()> now = &QDateTime::currentDateTimeUtc);

    // The name a user agent's device state is kept under: "ua-" + 16 hex digits of
    // SHA-256(id), the same on every connection of that client, and not the id itself.
    static QString deviceName(const QString &userAgentId);

    struct Issued
    {
        QString token;
        QDateTime expires;
    };
    // A new token for the device. The one the device logs in with stays valid until the new one
    // has been used once (rotation); an older unused one is replaced.
    std::optional<Issued> issue(const QString &device);

    struct Verdict
    {
        bool accepted = false;
        QByteArray responderProof; // HMAC(token, "Responder" + cb data): the success's data
        bool rotate = false;       // the token is old enough to be replaced now
        QString reason;            // why not, for the log
    };
    // message is the HT initial response, "authcid NUL HMAC(token, 'Initiator' + cbData)";
    // cbData is empty for -NONE (the seam for -ENDP/-EXPR). count (-1: none sent) must be
    // higher than any earlier login with the same token carried, and may only be missing while
    // none ever did; invalidate revokes the token once it matched.
    Verdict verify(const QString &device, const QString &username, const QByteArray &message,
                   const QByteArray &cbData, qint64 count, bool invalidate);

private:
    FastTokens &tokens_;
    std::chrono::seconds lifetime_;
    std::function<QDateTime()> now_;
};

} // namespace xbnc
