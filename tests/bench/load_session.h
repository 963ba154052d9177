#pragma once

#include "xml_stanza_reader.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

class QSslSocket;
class ScramClient;

// One client session of the load client: event-driven, so that one process can hold many.
// It logs in the way a real client does (STARTTLS, SCRAM, bind, presence), joins one room, and
// from the room's subject on stops parsing XML: it only scans the bytes for the bodies the
// benchmark sender writes (loadBody()), timestamps each on arrival and checks their order.
class LoadSession : public QObject
{
    Q_OBJECT
public:
    using Clock = std::chrono::steady_clock;

    struct Options
    {
        quint16 port = 0;
        QString domain = QStringLiteral("localhost");
        QString caFile;      // the server's certificate chains to this (Prosody)
        QString fingerprint; // or exactly this certificate, SHA-256 hex with colons (xbnc)
        QString user;
        QString password;
        QString mechanism = QStringLiteral("SCRAM-SHA-1"); // or SCRAM-SHA-256
        QString resource;
        QString occupantJid; // room@service/nick to join
    };

    // What one received benchmark message told.
    struct Arrival
    {
        qint64 sequence;
        Clock::duration latency;
    };

    explicit LoadSession(Options options, QObject *parent = nullptr);
    ~LoadSession() override;

    void start();
    bool isJoined() const { return state_ == State::Live; }
    bool hasFailed() const { return !error_.isEmpty(); }
    const QString &errorString() const { return error_; }

    // Writes one groupchat message to the session's room; the body carries the sequence number
    // and the send time on the shared monotonic clock.
    void sendToRoom(qint64 sequence);
    // Leaves the room explicitly and closes the stream; hasClosed() once the socket is down.
    void leaveAndClose();
    bool hasClosed() const;

    // Arrivals since the last take, in order; and how many came out of order or with a gap.
    std::vector<Arrival> takeArrivals();
    // The next sequence number this session expects: arrivals must count up from here.
    void expectFrom(qint64 sequence) { expected_ = sequence; }
    qint64 outOfOrder() const { return outOfOrder_; }
    qint64 messagesReceived() const { return messages_; }
    qint64 bytesReceived() const { return bytesReceived_; } // XML, after TLS

    // The body text of a benchmark message; public for the tests of the scanner.
    static QByteArray loadBody(qint64 sequence, Clock::time_point sent);

signals:
    void joined();
    void failed();

private:
    enum class State
    {
        StreamFeatures,
        Proceed,
        Handshake,
        SecureFeatures,
        Challenge,
        Success,
        BoundFeatures,
        Bind,
        Joining,
        Live,
        Closed
    };

    void readAvailable();
    void handleStanza(const XmlNode &node);
    void scanLive(const QByteArray &bytes, Clock::time_point arrived);
    void openStream();
    void fail(const QString &message);

    Options options_;
    std::unique_ptr<QSslSocket> socket_;
    std::unique_ptr<ScramClient> scram_;
    XmlStanzaReader reader_;
    State state_ = State::StreamFeatures;
    QString error_;
    QByteArray pending_; // an unfinished body marker, kept for the next read
    std::vector<Arrival> arrivals_;
    qint64 expected_ = 0;
    qint64 outOfOrder_ = 0;
    qint64 messages_ = 0;
    qint64 bytesReceived_ = 0;
};
