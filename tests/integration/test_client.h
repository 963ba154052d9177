#pragma once

#include "xml_node.h"
#include "xml_stanza_reader.h"

#include <QDeadlineTimer>
#include <QList>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

class QAbstractSocket;
class QSslSocket;
class ScramClient;

namespace xbnc {
class TcpTlsSocket;
}

namespace testns {
inline constexpr char16_t streams[] = u"http://etherx.jabber.org/streams";
inline constexpr char16_t streamErrors[] = u"urn:ietf:params:xml:ns:xmpp-streams";
inline constexpr char16_t sasl[] = u"urn:ietf:params:xml:ns:xmpp-sasl";
inline constexpr char16_t tls[] = u"urn:ietf:params:xml:ns:xmpp-tls";
inline constexpr char16_t bind[] = u"urn:ietf:params:xml:ns:xmpp-bind";
inline constexpr char16_t ping[] = u"urn:xmpp:ping";
inline constexpr char16_t sasl2[] = u"urn:xmpp:sasl:2";
inline constexpr char16_t bind2[] = u"urn:xmpp:bind:0";
inline constexpr char16_t fast[] = u"urn:xmpp:fast:0";
inline constexpr char16_t sm[] = u"urn:xmpp:sm:3";
} // namespace testns

struct TestClientOptions
{
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 0;
    bool directTls = false; // XEP-0368: TLS from the first byte instead of STARTTLS
    QString domain = QStringLiteral("localhost");
    // Trust: either a CA file the server's certificate must chain to (and match `domain`), or
    // the exact SHA-256 fingerprint ("AB:CD:…") of a self-signed certificate, in which case every
    // other TLS error is ignored for that one certificate.
    QString caFile;
    QString fingerprint;
    QString user;
    QString password;
    // Or SCRAM-SHA-256, PLAIN, and SCRAM-SHA-256-PLUS or SCRAM-SHA-1-PLUS bound to the
    // server certificate the client was shown (tls-server-end-point).
    QString mechanism = QStringLiteral("SCRAM-SHA-1");
    // -PLUS: bind to another certificate (or exporter value) instead, as a client whose TLS
    // ends at a man in the middle does.
    bool bindToOtherCertificate = false;
    // -PLUS: the channel binding type. "tls-exporter" (RFC 9266) runs the client's TLS with
    // xbnc's own TlsSession instead of QSslSocket, which cannot export keying material.
    QString channelBinding = QStringLiteral("tls-server-end-point");
    QString resource; // empty: the server picks one
    bool sendInitialPresence = true;
    QByteArray initialPresence = "<presence/>";
};

// A raw, synchronous-looking XMPP client for integration tests. Every wait runs the Qt event
// loop with a deadline, so child processes and other sockets keep being served meanwhile.
// Everything received is buffered in arrival order; readUntil() takes the first match and
// leaves the rest for later assertions. Failures return false/nullopt with errorString().
class TestClient
{
public:
    using Predicate = std::function<bool(const XmlNode &)>;
    static constexpr int defaultTimeoutMs = 5000;

    explicit TestClient(QString name = QStringLiteral("client"));
    ~TestClient();
    TestClient(const TestClient &) = delete;
    TestClient &operator=(const TestClient &) = delete;

    // connectAndSecure + authenticate + bind + optional initial presence.
    bool login(const TestClientOptions &options,
               QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));
    // TCP (or direct TLS), stream header, STARTTLS, and the post-TLS stream features.
    bool connectAndSecure(const TestClientOptions &options,
                          QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));
    // SASL with options.mechanism; false on <failure/> (see saslFailure()) or any other problem.
    bool authenticate(QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));
    bool bind(QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));
    // XEP-0388 SASL2 after connectAndSecure: one <authenticate/> with options.mechanism (a SCRAM),
    // or, given a token, with HT-SHA-256-NONE (XEP-0484), carrying inlineXml (<user-agent/>,
    // Bind2, <resume/>, FAST elements). Returns the <success/> and takes the stream features
    // that follow it without a restart (bound: fullJid() is set); nullopt on a <failure/> (see
    // saslFailure()) or any other problem. Each wait for the server counts as a round trip.
    std::optional<XmlNode>
    authenticateSasl2(const QByteArray &inlineXml, const QString &token = {},
                      QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));

    const XmlNode &features() const { return features_; }
    const XmlNode &saslFailure() const { return saslFailure_; }
    QString fullJid() const { return fullJid_; }
    const QString &name() const { return name_; }
    const QString &errorString() const { return error_; }

    // What this client's connection cost since connectAndSecure() (or login()), for benchmarks.
    // roundTrips: the times the client had to wait for the server's answer before it could go
    // on: the TCP handshake, each stream header, STARTTLS, the TLS handshake (1 for TLS 1.3, 2
    // before), each SASL step, bind, session; not ping() and friends, which a test adds itself.
    // Bytes are the XML as sent and parsed (TLS records not included); elements are the
    // top-level elements parsed, stream features and SASL included.
    int roundTrips() const { return roundTrips_; }
    qint64 xmlBytesSent() const { return bytesSent_; }
    qint64 xmlBytesReceived() const { return bytesReceived_; }
    qint64 elementsReceived() const { return elementsReceived_; }

    void send(const QByteArray &xml);
    // Closes the stream politely and the socket.
    void disconnectFromServer();
    // Drops the TCP connection at once, as a phone losing its network does: no
    // </stream:stream>, and whatever is unread or unsent is lost.
    void abortConnection();

    std::optional<XmlNode> readStanza(QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));
    std::optional<XmlNode> readUntil(const Predicate &predicate,
                                     QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));
    // XEP-0199 round trip to the server: once the pong is in, everything received before it is
    // returned (and removed from the buffer), so a test can assert that nothing else arrived.
    std::optional<QList<XmlNode>> ping(QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));
    // The same round trip, leaving everything else buffered for the test to read.
    bool roundTrip(QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));
    // A ping to the session's own JID, which xbnc answers without the server, so it works while
    // upstream is down: afterwards xbnc has handled everything sent before. Leaves the rest
    // buffered.
    bool roundTripWithinXbnc(QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));
    // ping(), then false (see errorString()) if anything received before the pong matches.
    bool expectNone(const Predicate &unwanted,
                    QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));
    // A <stream:error/> with exactly that condition, followed by the end of the connection.
    bool expectStreamError(const QString &condition,
                           QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));
    bool expectClosed(QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));

    // True while the TCP connection is up and the server has not ended the stream; wasClosed()
    // stays true once the connection ever ended.
    bool isOpen() const;
    bool wasClosed() const { return closedSeen_; }
    // XEP-0198 without resumption, as a phone enables it: <enable/>, then every <r/> from the
    // server is answered at once with <a h='…'/> counting the stanzas received since
    // <enabled/>, and never buffered. False (see errorString()) without <enabled/>.
    bool enableStreamManagement(QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs));
    // Stanzas received and not yet taken, in order.
    QList<XmlNode> takeBuffered();
    // Reads whatever is already available without waiting.
    void poll();

private:
    bool openStream(QDeadlineTimer deadline);
    bool startTls(QDeadlineTimer deadline);
    bool waitEncrypted(QDeadlineTimer deadline);
    // Sends a ping and returns the buffer index of its result.
    std::optional<std::size_t> sendPing(QDeadlineTimer deadline);
    bool saslExchange(QDeadlineTimer deadline);
    // SCRAM-SHA-256/-1, or their -PLUS with tls-server-end-point; null (see errorString()) if not.
    std::unique_ptr<ScramClient> scramClient(const QString &mechanism);
    void configureTls();
    bool usesOwnTls() const { return ownTls_ != nullptr; }
    // The TCP socket under either TLS implementation; null before connectAndSecure().
    QAbstractSocket *tcp() const;
    void writeBytes(const QByteArray &bytes);
    void startClientTls();
    bool isEncrypted() const;
    // Own TLS: the pinned fingerprint, if any, against the certificate the server showed.
    bool checkPinnedCertificate();
    void readAvailable();
    // With stream management on: counts the stanzas from buffer index `from` on and answers
    // (and removes) the server's <r/> among them.
    void answerAckRequests(std::size_t from);
    void waitForActivity(QDeadlineTimer deadline);
    // Index of the first buffered stanza matching predicate, reading until one arrives.
    std::optional<std::size_t> waitForMatch(const Predicate &predicate, QDeadlineTimer deadline);
    bool fail(const QString &message);
    // RFC 5929 §4.1 for the certificate this client was shown; empty (see errorString()) for a
    // certificate whose hash the test client does not compute.
    QByteArray serverEndPoint();
    // What options.channelBinding binds to on this connection; empty (see errorString()) if
    // the client cannot compute it.
    QByteArray channelBindingData();
    QString describeBuffer() const;

    QString name_;
    TestClientOptions options_;
    std::unique_ptr<QSslSocket> socket_;
    std::unique_ptr<xbnc::TcpTlsSocket> ownTls_; // instead of socket_ for tls-exporter
    XmlStanzaReader reader_;
    XmlNode features_;
    XmlNode saslFailure_;
    QString fullJid_;
    QString error_;
    int nextId_ = 1;
    bool closedSeen_ = false;
    std::optional<quint32> smHandled_; // stanzas handled since <enabled/>, once enabled
    int roundTrips_ = 0;
    qint64 bytesSent_ = 0;
    qint64 bytesReceived_ = 0;
    qint64 elementsReceived_ = 0;
};
