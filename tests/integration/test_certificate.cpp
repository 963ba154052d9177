#include "test_certificate.h"

#include <QProcess>

namespace {

constexpr int opensslTimeoutMs = 15000;

} // namespace

bool makeTestCertificate(const QStringList &names, const QString &certificatePath,
                         const QString &keyPath, QString *error)
{
    QStringList alternatives;
    for (const QString &name : names)
        alternatives.append(QStringLiteral("DNS:") + name);
    // An EC key is generated in milliseconds, an RSA key can take a second.
    QProcess openssl;
    openssl.setProcessChannelMode(QProcess::MergedChannels);
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                   QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                   QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                   QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"),
                   QStringLiteral("/CN=") + names.value(0), QStringLiteral("-addext"),
                   QStringLiteral("subjectAltName=") + alternatives.join(QLatin1Char(',')),
                   QStringLiteral("-keyout"), keyPath, QStringLiteral("-out"), certificatePath});
    if (!openssl.waitForFinished(opensslTimeoutMs) ||
        openssl.exitStatus() != QProcess::NormalExit || openssl.exitCode() != 0) {
        *error = QStringLiteral("openssl failed: ") + QString::fromUtf8(openssl.readAll());
        return false;
    }
    return true;
}
