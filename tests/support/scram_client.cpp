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

QByteArray randomNonce()
{
    QByteArray random(18, Qt::Uninitialized);
    for (char &c : random)
        c = char(QRandomGenerator::global()->bounded(256));
    return random.toBase64();
}

} // namespace

ScramClient::ScramClient(QCryptographicHash::Algorithm algorithm, QByteArray saslName,
                         QString password, QByteArray gs2Header, QByteArray clientNonce)
    : algorithm_(algorithm), saslName_(std::move(saslName)), password_(std::move(password)),
      gs2Header_(std::move(gs2Header)),
      clientNonce_(clientNonce.isEmpty() ? randomNonce() : std::move(clientNonce))
{
}

QByteArray ScramClient::saslName(const QString &user)
{
    return user.toUtf8().replace("=", "=3D").replace(",", "=2C");
}

QByteArray ScramClient::hmac(const QByteArray &key, const QByteArray &message) const
{
    return QMessageAuthenticationCode::hash(message, key, algorithm_);
}

QByteArray ScramClient::clientFirstBare() const
{
    return "n=" + saslName_ + ",r=" + clientNonce_;
}

QByteArray ScramClient::clientFirst() const
{
    return gs2Header_ + clientFirstBare();
}

QByteArray ScramClient::clientFinal(const QByteArray &serverFirst, Tamper tamper)
{
    QByteArray nonce = scramAttribute(serverFirst, 'r');
    const QByteArray salt = QByteArray::fromBase64(scramAttribute(serverFirst, 's'));
    int iterations = scramAttribute(serverFirst, 'i').toInt();
    // The server's nonce must extend ours, or this is a replay or a confused server.
    if (!nonce.startsWith(clientNonce_) || nonce.size() == clientNonce_.size() || salt.isEmpty() ||
        iterations <= 0)
        return {};
    if (tamper == Tamper::NonceMismatch)
        nonce.chop(1);
    if (tamper == Tamper::IterationCount)
        --iterations;
    const QByteArray binding =
        tamper == Tamper::BindingMismatch ? QByteArray("y,,") : gs2Header_ + channelBindingData_;

    const int hashLength = QCryptographicHash::hashLength(algorithm_);
    const QByteArray saltedPassword = QPasswordDigestor::deriveKeyPbkdf2(
        algorithm_, password_.toUtf8(), salt, iterations, hashLength);
    const QByteArray clientKey = hmac(saltedPassword, "Client Key");
    const QByteArray storedKey = QCryptographicHash::hash(clientKey, algorithm_);
    const QByteArray withoutProof = "c=" + binding.toBase64() + ",r=" + nonce;
    const QByteArray authMessage = clientFirstBare() + ',' + serverFirst + ',' + withoutProof;
    const QByteArray signature = hmac(storedKey, authMessage);
    QByteArray proof = clientKey;
    for (int i = 0; i < proof.size(); ++i)
        proof[i] = char(proof[i] ^ signature[i]);
    expectedServerFinal_ = "v=" + hmac(hmac(saltedPassword, "Server Key"), authMessage).toBase64();

    switch (tamper) {
    case Tamper::DropProof:
        return withoutProof;
    case Tamper::ProofNotBase64:
        return withoutProof + ",p=!!!!";
    case Tamper::ShortProof:
        return withoutProof + ",p=" + proof.left(proof.size() - 1).toBase64();
    case Tamper::FlippedProofBit:
        proof[0] = char(proof[0] ^ 1);
        break;
    default:
        break;
    }
    return withoutProof + ",p=" + proof.toBase64();
}

bool ScramClient::verifyServerFinal(const QByteArray &serverFinal) const
{
    // Extensions may follow v=; only the signature proves anything.
    return !expectedServerFinal_.isEmpty() &&
           "v=" + scramAttribute(serverFinal, 'v') == expectedServerFinal_;
}
