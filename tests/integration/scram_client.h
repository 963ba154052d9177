#pragma once

#include <QByteArray>
#include <QCryptographicHash>
#include <QString>

// Client side of SCRAM (RFC 5802, RFC 7677) without channel binding, enough to log test
// accounts in. Usernames and passwords are expected to be plain ASCII (no SASLprep).
class ScramClient
{
public:
    ScramClient(QCryptographicHash::Algorithm algorithm, QString user, QString password);

    QByteArray clientFirst();                                    // "n,,n=user,r=nonce"
    QByteArray clientFinal(const QByteArray &serverFirst);       // empty if serverFirst is invalid
    bool verifyServerFinal(const QByteArray &serverFinal) const; // checks v=ServerSignature

private:
    QByteArray hmac(const QByteArray &key, const QByteArray &message) const;

    QCryptographicHash::Algorithm algorithm_;
    QString user_;
    QString password_;
    QByteArray clientFirstBare_;
    QByteArray clientNonce_;
    QByteArray expectedServerSignature_;
};
