#pragma once

#include "downstream_settings.h"
#include "element.h"
#include "jid.h"
#include "session_id.h"

#include <QAbstractSocket>
#include <QHostAddress>
#include <QObject>

#include <memory>

class QSslSocket;
class QTimer;

namespace xbnc {

class IdlePing;
class SaslExchange;
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

    // Send one stanza (message/presence/iq in jabber:client) to the client.
    void send(const Element &stanza);
    // Send already serialised stanza bytes (shared across sessions on fan-out).
    void sendSerialized(const QByteArray &bytes);
    // RFC 6120 §4.9 stream error, then </stream:stream> and close.
    void closeWithError(StreamError condition, const QString &text = {});
    // Graceful </stream:stream> (shutdown).
    void closeStream();

Q_SIGNALS:
    void bound();                                     // resource bound: the session is usable
    void stanzaReceived(const xbnc::Element &stanza); // only after bind; legacy <session/> is
                                                      // answered here and never emitted
    void closed();                                    // the connection is gone
    // XEP-0352 <active/> or <inactive/> from a bound client.
    void clientStateIndicated(bool active);
    // Bytes arrived from a bound client, before they are parsed (a <r/>, a whitespace ping).
    void heardFrom();

    // --- private to the implementation below this line ---

private:
    friend class ClientListener;
    enum class Phase
    {
        Negotiating,
        AwaitingTls,
        Bound,
        Closing,
        Closed
    };

    // Takes over an accepted socket; directTls starts the handshake at once (XEP-0368).
    Downstream(qintptr socketDescriptor, DownstreamSettings settings, bool directTls,
               QObject *parent);

    void readSocket();
    void drainParser();
    void openStream(const Element &header);
    void handleElement(Element element);
    void handleStartTls();
    void handleSasl(const Element &element);
    bool admitLogin();
    void answerSasl(const Element &reply, int state); // state: SaslExchange::State
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

    DownstreamSettings settings_;
    SessionId id_;
    QSslSocket *socket_;       // child
    QTimer *closeTimer_;       // child: aborts a close the client does not complete
    QTimer *negotiationTimer_; // child: drops clients that never bind
    IdlePing *idlePing_;       // child: finds bound clients that are gone without a FIN
    std::unique_ptr<XmlStreamParser> parser_;
    std::unique_ptr<SaslExchange> sasl_;
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
};

} // namespace xbnc
