#pragma once

#include <QString>

namespace xbnc {

struct UpstreamConfig
{
    QString jid; // bare account JID
    QString password;
    QString server; // host override; empty: SRV lookup on the JID's domain
    quint16 port = 5222;
    QString resource = QStringLiteral("xbnc");
    QString caFile;         // extra trusted CA or certificate (PEM)
    bool directTls = false; // XEP-0368 direct TLS instead of STARTTLS
};

} // namespace xbnc
