#pragma once

#include <QString>
#include <QStringList>

#include <memory>

class ResumeTarget;
class TestClient;

// What one resume cost the phone, from the first byte of its new TCP connection until it had
// the last missed message.
struct ResumeCost
{
    int roundTrips = 0;  // waits for the server: TCP, stream headers, STARTTLS, TLS, SASL, resume
    int ackRequests = 0; // <r/> the server sent meanwhile (each answered at once, no wait)
    qint64 stanzas = 0;  // message/presence/iq received after <resumed/>
    qint64 elements = 0; // every top-level element received, features and SASL included
    qint64 wireIn = 0;   // bytes on the wire, TLS included, server to phone
    qint64 wireOut = 0;  // and phone to server
    qint64 xmlIn = 0;    // the XML inside TLS, server to phone
    double msToCurrent = 0; // until the last missed message
};

// One measurement: the phone logs in to the target, joins a new room, enables stream management
// and is current; its connection is cut; bob sends `missed` messages (half 1:1 to the phone's
// account, half to the room, alternating); the phone reconnects and resumes. The run checks that
// the phone got every missed message exactly once and in order, and nothing twice afterwards.
class ResumeRun
{
public:
    ResumeRun(ResumeTarget &target, TestClient &bob, int runNumber, int missed);

    // False (see errorString()) when a step failed or the phone lost or doubled a message.
    bool run();
    const ResumeCost &cost() const { return cost_; }
    const QString &errorString() const { return error_; }
    // 1:1 messages of earlier runs that the phone's fresh login was sent again (catch-up).
    int replayedOnLogin() const { return replayedOnLogin_; }

private:
    bool connectPhone();
    bool sendMissed();
    bool resume();
    bool catchUp(TestClient &phone, qint64 wireInBefore, qint64 wireOutBefore);
    bool checkNothingMore(TestClient &phone);
    bool fail(const QString &message);

    QString chatId(int i) const;
    QString groupchatId(int i) const;

    ResumeTarget &target_;
    TestClient &bob_;
    const int missed_;
    const QString tag_;
    const QString room_;
    std::unique_ptr<TestClient> phone_;
    QString previd_;
    quint32 handled_ = 0; // the phone's h when its connection was cut
    QStringList chats_;
    QStringList groupchats_;
    ResumeCost cost_;
    QString error_;
    int replayedOnLogin_ = 0;
};
