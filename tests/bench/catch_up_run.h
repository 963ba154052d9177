#pragma once

#include <QDateTime>
#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>

#include <map>
#include <memory>

class FillerComponent;
class ResumeTarget;
class TestClient;

// What coming back cost a client, from the first byte of its new connection until it had the
// last missed message of every room ("current").
struct CatchUpCost
{
    qint64 stanzas = 0; // message/presence/iq received
    qint64 wireIn = 0;  // bytes on the wire, TLS included, server to client
    qint64 xmlIn = 0;   // the XML inside TLS, server to client, stream setup included
    double msToCurrent = 0;
};

// One measurement of B3 (issue #11): a client is in `rooms` rooms and has read a message in
// each; it goes away; every room gets `missed` messages; it comes back and is timed until it
// has the last one of every room. Two ways back: Resume (XEP-0198: the connection is cut, the
// server holds the session, the client resumes it) and Rejoin (the client logs out cleanly,
// later logs in afresh and rejoins each room asking for <history since=…/> of the moment it
// left). The run fails when a missed message is lost, comes twice or out of order, or when one
// read before going away comes again.
class CatchUpRun
{
public:
    enum class Way
    {
        Resume,
        Rejoin
    };

    // `observer`: a session through xbnc in none of the rooms, whose ping round trip proves
    // that xbnc has handled everything Prosody sent it before; nullptr straight on Prosody.
    CatchUpRun(ResumeTarget &target, FillerComponent &fillers, TestClient *observer, Way way,
               QStringList rooms, int missed, QString tag);
    ~CatchUpRun();

    bool run();
    const CatchUpCost &cost() const { return cost_; }
    const QString &errorString() const { return error_; }

private:
    bool comeOnline();
    bool enableResumption();
    bool goAway();
    bool sendMissed();
    bool comeBack();
    bool readUntilCurrent(TestClient &client);
    bool checkNothingMore(TestClient &client);
    bool fail(const QString &message);
    QString messageId(int room, int i) const;

    ResumeTarget &target_;
    FillerComponent &fillers_;
    TestClient *observer_;
    const Way way_;
    const QStringList rooms_;
    const int missed_;
    const QString tag_;
    std::unique_ptr<TestClient> client_;
    QString previd_;
    quint32 handled_ = 0;
    QDateTime leftAt_;                        // after the last message read before going away
    std::map<QString, QStringList> received_; // room → bodies of missed messages, in order
    QSet<QString> subjects_;                  // rooms whose subject came (the end of a rejoin)
    CatchUpCost cost_;
    QString error_;
};
