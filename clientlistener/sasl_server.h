#pragma once

#include "channel_binding.h"

#include <QByteArray>
#include <QCryptographicHash>
#include <QString>
#include <QStringList>

#include <optional>

namespace xbnc {

// What a SCRAM server keeps instead of the password (RFC 5802 §3): enough to verify a client
// proof and to prove itself, not enough to log in elsewhere.
struct ScramKeys
{
    QByteArray salt;
    int iterations = 0;
    QByteArray storedKey;
    QByteArray serverKey;
};

// The one login the local c2s server accepts. The password is only seen here: the keys for
// every mechanism are derived once at start-up (PBKDF2 is deliberately slow), and the plain
// password is not kept.
class SaslCredentials
{
public:
    static constexpr int kMinimumIterations = 4096; // RFC 7677 §4: at least 4096

    // Random 16-byte salt per hash.
    SaslCredentials(QString username, const QString &password);
    // Test seam: a fixed salt (used for both hashes) and iteration count, to reproduce the
    // RFC test vectors. Not for production: a fixed salt defeats its purpose.
    SaslCredentials(QString username, const QString &password, const QByteArray &salt,
                    int iterations);

    const QString &username() const { return username_; }
    // Case-insensitive user, constant-time password check (through the SCRAM-SHA-256 keys).
    bool checkPlain(const QString &user, const QString &password) const;
    // Sha1 or Sha256; any other algorithm is a programming error and gets the Sha256 keys.
    const ScramKeys &scram(QCryptographicHash::Algorithm algorithm) const;

    bool matchesUser(const QString &user) const;

private:
    QString username_;
    ScramKeys sha1_;
    ScramKeys sha256_;
};

// One SASL attempt on one connection (RFC 6120 §6, RFC 4422): SCRAM-SHA-256-PLUS and
// SCRAM-SHA-1-PLUS (bound to the connection's TLS channel), SCRAM-SHA-256, SCRAM-SHA-1
// (RFC 5802/7677) and PLAIN (RFC 4616, only over TLS). Pure: bytes in, bytes out; the caller
// does the XML and the base64, and computes the channel bindings (docs/SASL.md).
class SaslServer
{
public:
    // Best first, as Prosody orders them. The same list on every connection with the same
    // encryption: clients pin the best mechanism they have seen and call a shorter list a
    // downgrade attack. The -PLUS ones only with bindings to offer. The one source of the list
    // for every way of logging in.
    static QStringList mechanisms(bool encrypted, const ChannelBindings &bindings = {});

    // Bounds checked before any decoding or SASLprep: Qt's NFKC is quadratic on long runs of
    // combining marks (one 190 KB password froze the process for 33 s). RFC 7622 caps a local
    // part at 1023 bytes; no real password comes near 1 KiB.
    static constexpr qsizetype kMaxUserBytes = 1023;
    static constexpr qsizetype kMaxPasswordBytes = 1024;

    // bindings: those of the connection the exchange runs on (empty: no -PLUS mechanism).
    explicit SaslServer(const SaslCredentials &credentials, ChannelBindings bindings = {});

    enum class Outcome
    {
        Challenge,
        Success,
        Failure
    };
    struct Result
    {
        Outcome outcome;
        QByteArray data;          // challenge, or additional data with success; raw bytes
        QString failureCondition; // RFC 6120 §6.5 element name when outcome is Failure
        // False for a refusal that looked at no credential and so guessed nothing: a channel
        // binding type the connection does not offer (docs/SASL.md).
        bool triedCredentials = true;
    };

    Result start(const QString &mechanism, const QByteArray &initialResponse, bool encrypted);
    Result step(const QByteArray &response);
    // The account's username once the client proved it knows the password; empty before.
    QString authenticatedUser() const { return authenticatedUser_; }

    // Test seam: the server nonce part to use instead of a random one.
    void setNonceForTest(const QByteArray &nonce) { serverNonce_ = nonce; }

private:
    enum class State
    {
        Idle,
        AwaitingInitial,
        AwaitingClientFinal,
        Done
    };

    Result plain(const QByteArray &message);
    Result scramClientFirst(const QByteArray &message);
    std::optional<Result> acceptBindingFlag(const QByteArray &flag);
    Result scramClientFinal(const QByteArray &message);
    Result fail(const QString &condition);
    Result succeed(const QByteArray &data);

    const SaslCredentials &credentials_;
    ChannelBindings bindings_;
    State state_ = State::Idle;
    QString mechanism_;
    bool plus_ = false;      // a -PLUS mechanism: the client must bind
    QByteArray bindingData_; // what the client must have bound to (empty: nothing)
    QCryptographicHash::Algorithm algorithm_ = QCryptographicHash::Sha256;
    QByteArray gs2Header_;       // echoed back base64-encoded in the client's c= attribute
    QByteArray clientFirstBare_; // the three messages make up the AuthMessage
    QByteArray serverFirst_;
    QByteArray nonce_; // client nonce + server nonce
    QByteArray serverNonce_;
    QString authenticatedUser_;
};

} // namespace xbnc
