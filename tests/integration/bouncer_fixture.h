#pragma once

// How to write an integration test with this fixture: give the test class a BouncerFixture
// member; start it in initTestCase() with the users the scenario needs (alice, the bouncer's
// account, is always there), and call finishTest() from cleanup(), which dumps both logs when
// the test failed. Inside a test, session("phone") logs a client in through xbnc and
// direct("bob") logs bob in straight to Prosody; wait with readUntil(), and assert that
// something did not arrive with expectNone(), which waits for a ping round trip first.

#include "prosody_fixture.h"
#include "test_client.h"
#include "xbnc_process.h"

#include <QDeadlineTimer>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <map>
#include <memory>

// xbnc, as the account alice@localhost, in front of a Prosody of its own, each in a temporary
// directory. Sessions are named by their resource and live until the end of the test; direct
// clients are named by their user and live until Prosody restarts, so that a contact can stay
// online across tests.
class BouncerFixture
{
public:
    enum class Roster
    {
        Empty,
        OthersAreContacts
    };
    static constexpr int timeoutMs = 10000;

    static QString password(const QString &user) { return user + QStringLiteral("-pw"); }
    static QString accountUser() { return QStringLiteral("alice"); }

    // Registers alice and `others` on Prosody (mutual contacts of alice with OthersAreContacts),
    // starts xbnc and returns once a session through it has a ping answered by Prosody.
    bool start(const QStringList &others = {}, Roster roster = Roster::Empty);
    // start() in two steps, for direct clients that must be online before xbnc is.
    bool startProsody(const QStringList &others = {}, Roster roster = Roster::Empty);
    bool startXbnc();
    // A key of xbnc's config ("section/key") set for every later startXbnc(), e.g. an upstream
    // port that leads through a TcpRelay.
    void setXbncConfig(const QString &key, const QString &value) { xbncConfig_[key] = value; }
    // Sets up the host certificate port (XEP-0368, listener/host_port) for every later
    // startXbnc(), with a fresh test certificate for localhost at hostCertificatePath().
    bool serveHostCertificate();
    QString hostCertificatePath() const;
    QString hostKeyPath() const;
    // Once xbnc runs: the host certificate port it logged, 0 when none.
    quint16 hostCertificatePort();
    const QString &errorString() const { return error_; }

    TestClientOptions sessionOptions(const QString &resource) const;
    // `user` straight to Prosody, for a client the test keeps itself (direct() keeps one a user).
    TestClientOptions directOptions(const QString &user,
                                    const QString &resource = QStringLiteral("desk")) const;
    // A session of alice through xbnc that has sent its initial presence and whose ping
    // round trip proves the account has it (replacing an earlier one of that name); nullptr
    // (see errorString()) when that failed.
    TestClient *session(const QString &resource);
    // `user` logged in straight to Prosody with resource "desk".
    TestClient *direct(const QString &user, const QByteArray &initialPresence = "<presence/>");

    // Ends the sessions and stops xbnc, which must exit cleanly; startXbnc() starts it again
    // on the same data.
    bool stopXbnc();
    // Restarts Prosody on the same ports and data; the direct clients died with it.
    bool restartProsody();

    // From cleanup(): on failure prints what xbnc and Prosody logged during the test; then ends
    // the test's sessions, empties what direct clients received, and fails if xbnc died.
    void finishTest();
    // From cleanupTestCase(): fails unless xbnc exits cleanly.
    void stop();

    ProsodyFixture &prosody() { return prosody_; }
    XbncProcess &xbnc() { return xbnc_; }

private:
    bool fail(const QString &message);
    // Probes until a session through xbnc gets a ping answered by Prosody.
    bool waitUntilUpstreamOnline(QDeadlineTimer deadline = QDeadlineTimer(timeoutMs));

    ProsodyFixture prosody_;
    XbncProcess xbnc_;
    std::map<QString, std::unique_ptr<TestClient>> sessions_;
    std::map<QString, std::unique_ptr<TestClient>> direct_;
    QString error_;
    QMap<QString, QString> xbncConfig_;
    QTemporaryDir hostCertificateDir_;
    qsizetype xbncLogMark_ = 0;
    qsizetype prosodyLogMark_ = 0;
};
