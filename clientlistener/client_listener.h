#pragma once

#include "downstream.h"
#include "listener_config.h"
#include "prelogin_quota.h"

#include <QObject>
#include <QSslConfiguration>

#include <functional>
#include <memory>
#include <optional>

namespace xbnc {

class FastLogin;
class FastTokens;
class LoginThrottle;
class ResumableSessions;
class SaslCredentials;
class TcpAcceptor;
class TlsContext;

// The local XMPP c2s server: the STARTTLS port, the optional direct-TLS port and host port,
// their TLS certificates (configured, or xbnc's own from data_dir, renewed daily when due),
// and one Downstream per connection.
class ClientListener : public QObject
{
    Q_OBJECT
public:
    explicit ClientListener(ListenerConfig config, QObject *parent = nullptr);
    ~ClientListener() override;

    // Loads (or generates) the certificate and binds the ports; false with *error on failure.
    bool listen(QString *error);
    quint16 port() const;
    quint16 directTlsPort() const;          // 0 when not listening on one
    quint16 hostPort() const;               // 0 when not listening on one
    QString certificateFingerprint() const; // SHA-256, "AB:CD:…"
    // SIGHUP: both certificates from disk again (the own one renewed if due); new connections
    // use them. On failure nothing changes.
    bool reloadCertificate(QString *error);
    // Where sessions are bound (DownstreamSettings::boundResource).
    void setBoundResource(std::function<QString()> resource)
    {
        boundResource_ = std::move(resource);
    }
    // The server's caps for the stream features (DownstreamSettings::serverCaps).
    void setServerCaps(std::function<std::optional<Element>()> caps)
    {
        serverCaps_ = std::move(caps);
    }

    // XEP-0484: offer FAST, with tokens kept by `tokens` (which must outlive the listener);
    // without it no FAST is offered.
    void setFastTokens(FastTokens &tokens);

    // The sessions a client may resume (XEP-0198), to save them before xbnc stops.
    std::vector<Downstream *> resumableSessions() const;
    // A session saved before a restart, hibernating under its resume id until its client
    // resumes it or its resume timeout runs out (what waited for xbnc counts).
    Downstream *restoreSession(const SavedSession &saved);

Q_SIGNALS:
    void sessionBound(xbnc::Downstream *session); // still owned by the listener
    // A new connection resumed a session (XEP-0198): `session` now carries the id and resource
    // of the earlier one, which goes away without emitting closed().
    void sessionResumed(xbnc::Downstream *session);

private:
    // Both ports' certificates and TLS contexts, replaced only when all of them load.
    bool loadCertificates(QString *error);
    std::optional<QSslConfiguration> loadMainTls(QString *error) const;
    std::optional<QSslConfiguration> loadHostTls(QString *error) const;
    void renewOwnCertificate();
    void accept(qintptr socketDescriptor, const QHostAddress &peer, bool directTls,
                const std::shared_ptr<const TlsContext> &tls);
    DownstreamSettings sessionSettings(std::shared_ptr<const TlsContext> tls) const;
    void follow(Downstream *session, SessionId firstId);

    ListenerConfig config_;
    std::shared_ptr<const SaslCredentials> credentials_; // shared with live sessions
    std::shared_ptr<LoginThrottle> loginThrottle_;       // shared with live sessions
    std::shared_ptr<ResumableSessions> resumable_;       // shared with live sessions
    std::shared_ptr<FastLogin> fastLogin_;               // shared with live sessions
    std::function<QString()> boundResource_;
    std::function<std::optional<Element>()> serverCaps_;
    QSslConfiguration tls_;
    QSslConfiguration hostTls_; // for the host port
    // What the connections use, built from the two above and shared with live sessions.
    std::shared_ptr<const TlsContext> tlsContext_;
    std::shared_ptr<const TlsContext> hostTlsContext_;
    PreloginQuota prelogin_;
    TcpAcceptor *starttlsAcceptor_;  // child
    TcpAcceptor *directTlsAcceptor_; // child
    TcpAcceptor *hostAcceptor_;      // child
};

} // namespace xbnc
