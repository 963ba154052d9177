#pragma once

#include <QSslConfiguration>
#include <QString>

#include <memory>

namespace xbnc {

class SaslCredentials;

// What one Downstream needs from its listener, copied at accept time so that a certificate
// reload only affects later connections.
struct DownstreamSettings
{
    QString username;
    QString domain;
    bool requireTls = true;
    qsizetype maxStanzaBytes = 256 * 1024;
    int maxDepth = 64;
    // Bytes queued towards a client that does not read before it is disconnected.
    qint64 maxQueuedBytes = 8 * 1024 * 1024;
    int negotiationTimeoutMs = 60 * 1000;
    QSslConfiguration tls;
    std::shared_ptr<const SaslCredentials> credentials;
};

} // namespace xbnc
