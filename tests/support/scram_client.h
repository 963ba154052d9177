#pragma once

#include <QByteArray>
#include <QCryptographicHash>
#include <QString>

// Client side of SCRAM (RFC 5802, RFC 7677), -PLUS included, written from the RFC
// independently of xbnc's server, so that the server is checked against the RFC rather than
// against itself. It logs test accounts in, and can deviate on purpose to test the checks.
class ScramClient
{
public:
    // Ways to deviate from RFC 5802 in the final message.
    enum class Tamper
    {
        None,
        NonceMismatch,   // answers with a different combined nonce
        IterationCount,  // derives with one iteration fewer than the server asked for
        BindingMismatch, // c= does not echo the GS2 header
        DropProof,       // no p= attribute
        ProofNotBase64,  // p= is not base64
        ShortProof,      // p= has the wrong length
        FlippedProofBit, // one bit of the proof changed
    };

    // `saslName` as it goes on the wire (see saslName()); an empty nonce makes a random one.
    ScramClient(QCryptographicHash::Algorithm algorithm, QByteArray saslName, QString password,
                QByteArray gs2Header = "n,,", QByteArray clientNonce = {});

    // A username as a SCRAM saslname: UTF-8 with "=" and "," escaped (no SASLprep).
    static QByteArray saslName(const QString &user);

    // For -PLUS: the channel binding data the client computed from its side of the TLS
    // connection (the GS2 header names its type). It follows the GS2 header in c=.
    void setChannelBindingData(QByteArray data) { channelBindingData_ = std::move(data); }

    QByteArray clientFirst() const; // gs2Header + "n=name,r=nonce"
    // Empty if serverFirst is invalid or its nonce does not extend ours.
    QByteArray clientFinal(const QByteArray &serverFirst, Tamper tamper = Tamper::None);
    bool verifyServerFinal(const QByteArray &serverFinal) const; // checks v=ServerSignature
    // What the server must send back to prove it holds ServerKey ("v=…").
    const QByteArray &expectedServerFinal() const { return expectedServerFinal_; }

private:
    QByteArray clientFirstBare() const;
    QByteArray hmac(const QByteArray &key, const QByteArray &message) const;

    QCryptographicHash::Algorithm algorithm_;
    QByteArray saslName_;
    QString password_;
    QByteArray gs2Header_;
    QByteArray channelBindingData_;
    QByteArray clientNonce_;
    QByteArray expectedServerFinal_;
};
