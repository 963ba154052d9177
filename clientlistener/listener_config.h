#pragma once

#include "login_throttle.h"

#include <QHostAddress>
#include <QString>

namespace xbnc {

// What the local c2s server needs to know; filled from the [listener] section and the account.
struct ListenerConfig
{
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 5222;    // 0 picks a free port (tests); the chosen one is logged
    int directTlsPort = -1; // XEP-0368 port; -1 = none, 0 = pick a free one
    QString certFile;       // empty: self-signed certificate generated into dataDir
    QString keyFile;
    QString dataDir;
    QString username;       // local part of the account JID: the only login accepted
    QString domain;         // domain of the account JID: the stream 'to' and cert name
    QString password;       // the password clients log in with
    bool requireTls = true; // false allows plaintext, but only on a loopback address
    qsizetype maxStanzaBytes = 256 * 1024;
    int maxDepth = 64;
    LoginThrottle::Policy loginThrottle; // failed logins: delays, lockout, global bound
};

} // namespace xbnc
