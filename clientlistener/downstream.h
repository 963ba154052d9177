#pragma once

#include "downstream_settings.h"
#include "element.h"
#include "jid.h"
#include "saved_session.h"
#include "session_id.h"
#include "stream_management.h"

#include <QAbstractSocket>
#include <QHostAddress>
#include <QObject>

#include <chrono>
#include <memory>
#include <vector>

class QTimer;

namespace xbnc {

class IdlePing;
class SaslExchange;
class TcpTlsSocket;
struct Bind2Request;
struct Sasl2Request;
class XmlStreamParser;

// One client connection: stream negotiation, TLS, SASL, resource binding, then stanzas in and
// out. Owned by the ClientListener (Qt parent); deletes itself later once closed.
class Downstream : public QObject
{
    Q_OBJECT
public:
    ~Downstream() override;

    enum class StreamError
    {
        Conflict,
        PolicyViolation,
        NotWellFormed,
        SystemShutdown,
        Reset,
        InternalServerError
    };

    SessionId id() const;
    bool isBound() const;
    // The resource the client asked for (or was given when it asked for none): it names the
    // device, for per-device state.
    QString resource() const;
    Jid jid() const; // the JID the session is bound to
    bool isEncrypted() const;
    // XEP-0198: the connection is lost but the session lives on, queueing what it is sent,
    // until a client resumes it or its resume timeout runs out.
    bool isHibernating() const;
    // How long this session hibernates when its connection is lost (the listener's
    // resume_timeout unless changed, e.g. once the session enabled push).
    void setResumeTimeout(std::chrono::seconds timeout);
    // XEP-0198 resumption is on and the session is bound or hibernating: a client may resume it.
    bool canBeResumed() const;
    const StreamManagement &streamManagement() const { return sm_; }
    // What a restarted xbnc needs to restore this session (ClientListener::restoreSession).
    SavedSession saved() const;
    // xbnc is stopping and keeps this resumable session for its client: the connection is closed
    // as if the network dropped (no stream end), so that the client resumes once xbnc is back.
    void suspend();
    // After closed(): the stanzas this session was sent that the client never acknowledged
    // (XEP-0198), oldest first, for the hub to keep. Empty without stream management.
    std::vector<Element> takeUndelivered();

    // Send one stanza (message/presence/iq in jabber:client) to the client.
    void send(const Element &stanza);
    // Send already serialised stanza bytes (shared across sessions on fan-out).
    void sendSerialized(const QByteArray &bytes);
    // Several, in order (a room's cached occupants): one write when nothing counts them.
    void sendSerialized(const QList<QByteArray> &stanzas);
    // RFC 6120 §4.9 stream error, then </stream:stream> and close.
    void closeWithError(StreamError condition, const QString &text = {});
    // Graceful </stream:stream> (shutdown).
    void closeStream();

Q_SIGNALS:
    void bound();                                     // resource bound: the session is usable
    void stanzaReceived(const xbnc::Element &stanza); // only after bind; legacy <session/> is
                                                      // answered here and never emitted
    void closed(); // the session is gone for good (never while it hibernates)
    // This connection resumed an earlier session (XEP-0198): it has taken over that session's
    // id() and resource; the earlier Downstream goes away without closed().
    void resumed();
    // XEP-0352 <active/> or <inactive/> from a bound client.
    void clientStateIndicated(bool active);
    // Bytes arrived from a bound client, before they are parsed (a <r/>, a whitespace ping).
    void heardFrom();
    // The connection was lost and the session hibernates (XEP-0198): its device is away.
    void hibernated();

    // --- private to the implementation below this line ---

private:
    friend class ClientListener;
    enum class Phase
    {
        Negotiating,
        AwaitingTls,
        Bound,
        Hibernating, // no connection; a resume may bring a new one
        Closing,
        Closed
    };

    // Takes over an accepted socket; directTls starts the handshake at once (XEP-0368).
    Downstream(qintptr socketDescriptor, DownstreamSettings settings, bool directTls,
               QObject *parent);
    // A session saved before xbnc restarted, hibernating until its client resumes it.
    Downstream(const SavedSession &saved, DownstreamSettings settings, QObject *parent);
    // What both constructors share: the timers, the parser, no socket yet.
    Downstream(DownstreamSettings settings, bool directTls, QObject *parent);

    void readSocket();
    void drainParser();
    void openStream(const Element &header);
    void handleElement(Element element);
    void handleStartTls();
    void handleSasl(const Element &element);
    bool admitLogin();
    // The throttle's part of every login step (SASL, SASL2, FAST): a failure that tried
    // credentials is logged for fail2ban and answered late; user and mechanism are the client's
    // words, for that log.
    void concludeLoginStep(const Element &reply, int state, bool triedCredentials,
                           const QString &user, const QString &mechanism);
    void answerSasl(const Element &reply, int state); // state: SaslExchange::State
    // XEP-0388 SASL2 with Bind2, inline resumption and FAST (downstream_sasl2.cpp)
    void handleSasl2(const Element &element);
    void startSasl2(const Element &authenticate);
    void loginWithToken();
    void succeedSasl2(Element success);
    void addFastToken(Element &success, const QString &device);
    bool resumeInline(const Element &resume, Element &success);
    void bindInline(const Bind2Request &request, const QString &resource, Element &success);
    void resumeAfterDelay();
    void handleBind(const Element &iq);
    void sendHeader();
    void sendFeatures();
    void write(const QByteArray &bytes);
    // text goes to the peer and must be our own words; detail (the peer's) goes to the log, cut.
    void failStream(QStringView condition, QStringView text = {}, QStringView detail = {});
    void sendPing();
    void onEncrypted();
    void onSocketError(QAbstractSocket::SocketError error);
    void onDisconnected();
    void finish();
    void enterBound();
    // XEP-0198 (downstream_stream_management.cpp)
    void handleStreamManagement(const Element &element);
    void enableStreamManagement(const Element &enable);
    QByteArray startStreamManagement(bool wantsResume); // returns the <enabled/> to send
    void handleAck(const Element &ack);
    void handleResume(const Element &resume);
    // The earlier session `resume` names, with the client's h acknowledged; null when it cannot
    // be resumed, with the <failed/> condition in *condition ("undefined-condition": bad h).
    Downstream *resumableSession(const Element &resume, QString *condition);
    // After a resume: everything unacknowledged again, then <r/>, then resumed().
    void sendCatchUp();
    void endCatchUpAllowance();
    void takeOver(Downstream &earlier);
    void handedOver();
    void writeSmFailed(QStringView condition, bool withH = false);
    void countSent(const QByteArray &bytes);
    // Bound, with stream management: several stanzas as countSent would send them, at once.
    void countSentTogether(const QList<QByteArray> &stanzas, qsizetype size);
    // More stanzas unacknowledged than the session may leave: it ends, they go to the hub.
    void unackedOverLimits();
    void requestAckIfDue();
    void requestAck();
    void leaveConnection();
    void hibernate(const char *why);
    void startHibernationTimer(std::chrono::milliseconds remaining);
    void endHibernationsBeyondLimit();
    void endHibernation(const char *why);

    DownstreamSettings settings_;
    SessionId id_;
    TcpTlsSocket *socket_;     // child
    QTimer *closeTimer_;       // child: aborts a close the client does not complete
    QTimer *negotiationTimer_; // child: drops clients that never bind
    IdlePing *idlePing_;       // child: finds bound clients that are gone without a FIN
    QTimer *ackTimer_;         // child: asks for an <a/> when stanzas stay unacknowledged
    QTimer *hibernationTimer_; // child: ends a hibernating session
    std::unique_ptr<XmlStreamParser> parser_;
    std::unique_ptr<SaslExchange> sasl_;
    std::unique_ptr<Sasl2Request> sasl2_; // the <authenticate/> in progress
    int fastFailures_ = 0;
    bool fastRotate_ = false; // the token just used is due for replacement
    Phase phase_ = Phase::Negotiating;
    QString resource_;
    QString boundResource_;
    bool directTls_;
    bool tlsRequired_ = true;
    bool encrypted_ = false;
    bool authenticated_ = false;
    bool headerSent_ = false;
    int pingsSent_ = 0;
    QHostAddress peer_;
    // A failed login's answer is waiting for its delay: no more elements are read until then.
    bool saslDelayed_ = false;
    StreamManagement sm_;
    std::chrono::seconds resumeTimeout_;
    bool ackRequested_ = false; // an <r/> is out and its <a/> not yet in
    bool handedOver_ = false;   // a resumed connection took this session over
    QDateTime hibernatingSince_;
    // Restored after a restart: `sent` as saved, which may lag behind a crash
    // (StreamManagement::acknowledgeAfterRestore).
    std::optional<quint32> restoredSent_;
    // A resume writes everything unacknowledged at once: those bytes are a catch-up, not a
    // client that does not read, and do not count against maxQueuedBytes until they drain.
    qint64 catchUpAllowance_ = 0;
};

} // namespace xbnc
