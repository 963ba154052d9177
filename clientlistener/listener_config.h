#pragma once

#include "login_throttle.h"
#include "stream_management.h"

#include <QHostAddress>
#include <QString>
#include <QStringList>

#include <chrono>

namespace xbnc {

// What the local c2s server needs to know; filled from the [listener] section and the account.
struct ListenerConfig
{
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 5222;    // 0 picks a free port (tests); the chosen one is logged
    int directTlsPort = -1; // XEP-0368 port; -1 = none, 0 = pick a free one
    QString certFile;       // empty: xbnc's own CA and leaf in dataDir (own_certificate.h)
    QString keyFile;
    QStringList hostnames; // the bouncer's own host names, besides domain, in the own leaf
    // A direct-TLS port serving a certificate for the bouncer's host (e.g. Let's Encrypt), which
    // clients given that host name accept without a prompt; -1 = none, 0 = pick a free one.
    int hostPort = -1;
    QString hostCertFile;
    QString hostKeyFile;
    QString dataDir;
    QString username;       // local part of the account JID: the only login accepted
    QString domain;         // domain of the account JID: the stream 'to' and cert name
    QString password;       // the password clients log in with
    bool requireTls = true; // false allows plaintext, but only on a loopback address
    qsizetype maxStanzaBytes = 256 * 1024;    // once bound
    qsizetype maxPreloginStanzaBytes = 10000; // until bound
    int maxDepth = 64;
    // Connections that have not bound a resource yet: in total, and from one source address.
    int maxPreloginConnections = 100;
    int maxPreloginPerAddress = 10;
    int preloginTimeoutMs = 30 * 1000; // then closed, whatever the client sent
    // A bound client silent this long is pinged (XEP-0199); 0 = never.
    int idleTimeoutMs = 5 * 60 * 1000;
    int pingTimeoutMs = 60 * 1000; // no byte within this after the ping: closed
    // Bytes queued towards a client, clear and encrypted, before it is cut off as not reading.
    qint64 maxQueuedBytes = 8 * 1024 * 1024;
    // How long to wait before accepting again after accept() failed (out of descriptors).
    std::chrono::milliseconds acceptRetryFirst{100};
    std::chrono::milliseconds acceptRetryMax{1000};
    LoginThrottle::Policy loginThrottle; // failed logins: delays, lockout, global bound
    // XEP-0198 ([sessions]): how long a session whose connection is lost waits for a resume,
    // and the stanzas and bytes it keeps for the client meanwhile.
    std::chrono::seconds resumeTimeout{3600};
    StreamManagement::Limits hibernationLimits;
    // Sessions hibernating at once; beyond it the one hibernating longest ends.
    int maxHibernatingSessions = 16;
    // XEP-0484: how long a FAST token logs a device in ([sessions] fast_token_lifetime).
    std::chrono::seconds fastTokenLifetime{21 * 24 * 3600};

    // What xbnc's own certificate names: the JID's domain (what clients check), then the hosts.
    QStringList certificateNames() const
    {
        QStringList names{domain};
        names += hostnames;
        names.removeDuplicates();
        return names;
    }
};

} // namespace xbnc
