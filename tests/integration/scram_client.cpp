#include "scram_client.h"

#include <QList>
#include <QMessageAuthenticationCode>
#include <QPasswordDigestor>
#include <QRandomGenerator>

namespace {

// SCRAM attributes are "k=value" separated by commas.
QByteArray scramAttribute(const QByteArray &message, char key)
{
    for (const QByteArray &part : message.split(',')) {
        if (part.size() >= 2 && part[0] == key && part[1] == '=')
            return part.mid(2);
    }
    return {};
}

} // namespace

ScramClient::ScramClient(QCryptographicHash::Algorithm algorithm, QString user, QString password)
    : algorithm_(algorithm), user_(std::move(user)), password_(std::move(password))
{
}

QByteArray ScramClient::hmac(const QByteArray &key, const QByteArray &message) const
{
    return QMessageAuthenticationCode::hash(message, key, algorithm_);
}

QByteArray ScramClient::clientFirst()
{
    QByteArray random(18, Qt::Uninitialized);
    for (char &c : random)
        c = char(QRandomGenerator::global()->bounded(256));
    clientNonce_ = random.toBase64();
    QByteArray name = user_.toUtf8();
    name.replace("=", "=3D").replace(",", "=2C");
    clientFirstBare_ = "n=" + name + ",r=" + clientNonce_;
    return "n,," + clientFirstBare_;
}

QByteArray ScramClient::clientFinal(const QByteArray &serverFirst)
{
    const QByteArray nonce = scramAttribute(serverFirst, 'r');
    const QByteArray salt = QByteArray::fromBase64(scramAttribute(serverFirst, 's'));
    const int iterations = scramAttribute(serverFirst, 'i').toInt();
    // The server's nonce must extend ours, or this is a replay or a confused server.
    if (!nonce.startsWith(clientNonce_) || nonce.size() == clientNonce_.size() || salt.isEmpty() ||
        iterations <= 0)
        return {};

    const int hashLength = QCryptographicHash::hashLength(algorithm_);
    const QByteArray saltedPassword = QPasswordDigestor::deriveKeyPbkdf2(
        algorithm_, password_.toUtf8(), salt, iterations, hashLength);
    const QByteArray clientKey = hmac(saltedPassword, "Client Key");
    const QByteArray storedKey = QCryptographicHash::hash(clientKey, algorithm_);
    const QByteArray withoutProof = "c=biws,r=" + nonce; // biws = base64("n,,")
    const QByteArray authMessage = clientFirstBare_ + ',' + serverFirst + ',' + withoutProof;
    const QByteArray signature = hmac(storedKey, authMessage);
    QByteArray proof = clientKey;
    for (int i = 0; i < proof.size(); ++i)
        proof[i] = char(proof[i] ^ signature[i]);
    expectedServerSignature_ = hmac(hmac(saltedPassword, "Server Key"), authMessage);
    return withoutProof + ",p=" + proof.toBase64();
}

bool ScramClient::verifyServerFinal(const QByteArray &serverFinal) const
{
    return !expectedServerSignature_.isEmpty() &&
           QByteArray::fromBase64(scramAttribute(serverFinal, 'v')) == expectedServerSignature_;
}
