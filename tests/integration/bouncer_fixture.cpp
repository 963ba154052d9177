#include "bouncer_fixture.h"

#include "roster_setup.h"
#include "sanitizer_report.h"
#include "test_certificate.h"
#include "wait.h"

#include <QTest>

namespace {

constexpr qsizetype prosodyLogTailChars = 6000;
// One probe ping may be lost while xbnc is still connecting upstream; the next one is not.
constexpr int probePingMs = 1000;
constexpr int probeRetryMs = 20;

} // namespace

bool BouncerFixture::fail(const QString &message)
{
    error_ = message;
    return false;
}

bool BouncerFixture::start(const QStringList &others, Roster roster)
{
    return startProsody(others, roster) && startXbnc();
}

bool BouncerFixture::startProsody(const QStringList &others, Roster roster)
{
    QString error;
    if (!prosody_.start(&error))
        return fail(error);
    if (!prosody_.addUser(accountUser(), password(accountUser())))
        return fail(QStringLiteral("cannot register ") + accountUser());
    for (const QString &user : others) {
        if (roster == Roster::OthersAreContacts) {
            if (!makeContacts(prosody_, accountUser(), password(accountUser()), user,
                              password(user), &error))
                return fail(error);
        } else if (!prosody_.addUser(user, password(user))) {
            return fail(QStringLiteral("cannot register ") + user);
        }
    }
    return true;
}

bool BouncerFixture::startXbnc()
{
    QString error;
    XbncProcess::Config config = xbnc_.configFor(prosody_, accountUser(), password(accountUser()));
    for (auto it = xbncConfig_.cbegin(); it != xbncConfig_.cend(); ++it)
        config[it.key()] = it.value();
    if (!xbnc_.start(config, &error))
        return fail(error);
    xbncLogMark_ = 0; // a new process, a new output
    return waitUntilUpstreamOnline();
}

bool BouncerFixture::waitUntilUpstreamOnline(QDeadlineTimer deadline)
{
    // xbnc answers a ping to the server itself with an error while upstream is offline, and
    // relays it otherwise: a result is Prosody's own answer through the account's connection.
    TestClient probe(QStringLiteral("upstream-probe"));
    TestClientOptions options = sessionOptions(QStringLiteral("upstream-probe"));
    options.sendInitialPresence = false; // invisible to the account's presence
    if (!probe.login(options, deadline))
        return fail(probe.errorString() + QStringLiteral("\nxbnc output:\n") + xbnc_.output());
    const auto answered = [&] {
        return probe.isOpen() &&
               probe.ping(QDeadlineTimer(std::min<qint64>(probePingMs, deadline.remainingTime())));
    };
    if (!waitUntil(answered, deadline, probeRetryMs))
        return fail(QStringLiteral("upstream never came online: ") + probe.errorString() +
                    QStringLiteral("\nxbnc output:\n") + xbnc_.output());
    probe.disconnectFromServer();
    if (!probe.expectClosed(deadline))
        return fail(probe.errorString());
    return true;
}

bool BouncerFixture::serveHostCertificate()
{
    QString error;
    if (!hostCertificateDir_.isValid())
        return fail(QStringLiteral("cannot create a temporary directory"));
    if (!makeTestCertificate({QStringLiteral("localhost")}, hostCertificatePath(), hostKeyPath(),
                             &error))
        return fail(error);
    setXbncConfig(QStringLiteral("listener/host_port"), QStringLiteral("0"));
    setXbncConfig(QStringLiteral("listener/host_cert"), hostCertificatePath());
    setXbncConfig(QStringLiteral("listener/host_key"), hostKeyPath());
    return true;
}

QString BouncerFixture::hostCertificatePath() const
{
    return hostCertificateDir_.filePath(QStringLiteral("host.pem"));
}

QString BouncerFixture::hostKeyPath() const
{
    return hostCertificateDir_.filePath(QStringLiteral("host-key.pem"));
}

quint16 BouncerFixture::hostCertificatePort()
{
    QRegularExpressionMatch match;
    if (xbnc_.waitForLog(QRegularExpression(QStringLiteral(
                             "listening for host certificate clients on \\S+ port (\\d+)")),
                         QDeadlineTimer(timeoutMs), 0, &match) < 0)
        return 0;
    return match.captured(1).toUShort();
}

TestClientOptions BouncerFixture::sessionOptions(const QString &resource) const
{
    TestClientOptions o;
    o.port = xbnc_.port();
    o.fingerprint = xbnc_.fingerprint();
    o.user = accountUser();
    o.password = password(accountUser());
    o.resource = resource;
    o.mechanism = QStringLiteral("SCRAM-SHA-256");
    return o;
}

TestClient *BouncerFixture::session(const QString &resource)
{
    auto client = std::make_unique<TestClient>(resource);
    if (!client->login(sessionOptions(resource)) || !client->roundTrip()) {
        fail(client->errorString());
        return nullptr;
    }
    sessions_[resource] = std::move(client);
    return sessions_[resource].get();
}

TestClientOptions BouncerFixture::directOptions(const QString &user, const QString &resource) const
{
    TestClientOptions o;
    o.port = prosody_.c2sPort();
    o.caFile = prosody_.caCertificatePath();
    o.user = user;
    o.password = password(user);
    o.resource = resource;
    return o;
}

TestClient *BouncerFixture::direct(const QString &user, const QByteArray &initialPresence)
{
    auto client = std::make_unique<TestClient>(user);
    TestClientOptions o = directOptions(user);
    o.initialPresence = initialPresence;
    if (!client->login(o)) {
        fail(client->errorString());
        return nullptr;
    }
    direct_[user] = std::move(client);
    return direct_[user].get();
}

bool BouncerFixture::stopXbnc()
{
    sessions_.clear();
    QString error;
    return xbnc_.stop(&error) || fail(error);
}

bool BouncerFixture::restartProsody()
{
    direct_.clear();
    QString error;
    if (!prosody_.restart(&error))
        return fail(error);
    return waitUntilUpstreamOnline();
}

void BouncerFixture::finishTest()
{
    // xbnc's output starts again when a test restarts it.
    const qsizetype testStart = xbncLogMark_ <= xbnc_.outputSize() ? xbncLogMark_ : 0;
    if (QTest::currentTestFailed()) {
        qInfo().noquote() << "--- xbnc output during this test ---\n"
                          << xbnc_.output().mid(xbncLogMark_);
        qInfo().noquote() << "--- prosody log during this test (tail) ---\n"
                          << prosody_.logText().mid(prosodyLogMark_).right(prosodyLogTailChars);
    }
    sessions_.clear();
    // What a direct client received in one test must not satisfy the next one.
    for (auto &[user, client] : direct_)
        client->takeBuffered();
    xbncLogMark_ = xbnc_.outputSize();
    prosodyLogMark_ = prosody_.logText().size();
    // A crash in the middle of a test shows here, not as a puzzling timeout in the next one.
    QVERIFY2(xbnc_.isRunning(), qPrintable(xbnc_.output().right(8000)));
    // So does a sanitizer report that let xbnc carry on (in this test's output only, so the
    // next tests do not fail for it too); stop() fails on it again at the end.
    const QString report = sanitizerReport(xbnc_.output().mid(testStart));
    QVERIFY2(report.isEmpty(), qPrintable(report));
}

void BouncerFixture::stop()
{
    direct_.clear();
    QVERIFY2(stopXbnc(), qPrintable(error_));
}
