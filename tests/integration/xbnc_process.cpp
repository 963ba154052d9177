#include "xbnc_process.h"

#include "prosody_fixture.h"
#include "sanitizer_report.h"

#include <QEventLoop>
#include <QFile>
#include <QProcess>
#include <QTimer>

#include <csignal>

#ifndef XBNC_BINARY
#error "XBNC_BINARY must name the build-tree xbnc executable"
#endif

namespace {

constexpr int stopTimeoutMs = 10000;

// The build-tree binary, unless XBNC_TEST_BINARY names another one (a sanitizer build, say).
QString binaryPath()
{
    const QString override = qEnvironmentVariable("XBNC_TEST_BINARY");
    return override.isEmpty() ? QStringLiteral(XBNC_BINARY) : override;
}

// The INI sections in the order xbnc's documentation shows them.
const QStringList sectionOrder = {QStringLiteral("upstream"), QStringLiteral("listener"),
                                  QStringLiteral("presence"), QStringLiteral("sessions"),
                                  QStringLiteral("storage")};

} // namespace

XbncProcess::XbncProcess() = default;

XbncProcess::~XbncProcess()
{
    stop();
    // Too late for a QVERIFY (the test object may already be gone), but the run must not pass.
    const QString report = sanitizerReport(output_);
    if (!report.isEmpty() && !reportDelivered_)
        qFatal("xbnc printed a sanitizer report that no test checked:\n%s", qPrintable(report));
}

QString XbncProcess::configPath() const
{
    return dir_.filePath(QStringLiteral("xbnc.ini"));
}

XbncProcess::Config XbncProcess::configFor(const ProsodyFixture &prosody, const QString &user,
                                           const QString &password) const
{
    return {
        {QStringLiteral("upstream/jid"), user + QLatin1Char('@') + prosody.domain()},
        {QStringLiteral("upstream/password"), password},
        {QStringLiteral("upstream/server"), QStringLiteral("127.0.0.1")},
        {QStringLiteral("upstream/port"), QString::number(prosody.c2sPort())},
        {QStringLiteral("upstream/resource"), QStringLiteral("xbnc")},
        {QStringLiteral("upstream/ca_file"), prosody.caCertificatePath()},
        {QStringLiteral("listener/address"), QStringLiteral("127.0.0.1")},
        {QStringLiteral("listener/port"), QStringLiteral("0")},
        {QStringLiteral("listener/require_tls"), QStringLiteral("true")},
        {QStringLiteral("storage/data_dir"), dir_.filePath(QStringLiteral("data"))},
    };
}

bool XbncProcess::writeConfig(const Config &config, QString *error)
{
    QByteArray ini = "; written by the xbnc integration tests\n";
    for (const QString &section : sectionOrder) {
        QByteArray body;
        for (auto it = config.begin(); it != config.end(); ++it) {
            const qsizetype slash = it.key().indexOf(QLatin1Char('/'));
            if (it.key().left(slash) == section && !it.value().isEmpty())
                body += it.key().mid(slash + 1).toUtf8() + '=' + it.value().toUtf8() + '\n';
        }
        if (!body.isEmpty())
            ini += '[' + section.toUtf8() + "]\n" + body;
    }
    QFile file(configPath());
    // Owner-only, as the README asks of a config holding a password (xbnc warns otherwise).
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate,
                   QFileDevice::ReadOwner | QFileDevice::WriteOwner) ||
        file.write(ini) != ini.size()) {
        *error = QStringLiteral("cannot write ") + configPath();
        return false;
    }
    return true;
}

void XbncProcess::collectOutput()
{
    if (process_)
        output_ += QString::fromUtf8(process_->readAll());
}

bool XbncProcess::start(const Config &config, QString *error)
{
    QString ignored;
    if (!error)
        error = &ignored;
    if (!dir_.isValid()) {
        *error = QStringLiteral("cannot create a temporary directory");
        return false;
    }
    if (!writeConfig(config, error))
        return false;

    output_.clear();
    fingerprint_.clear();
    port_ = directTlsPort_ = 0;
    exitCode_ = -1;
    crashed_ = false;
    reportDelivered_ = false;
    process_ = std::make_unique<QProcess>();
    process_->setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    if (fastTimers_)
        environment.insert(QStringLiteral("XBNC_TEST_FAST_TIMERS"), QStringLiteral("1"));
    else
        environment.remove(QStringLiteral("XBNC_TEST_FAST_TIMERS"));
    process_->setProcessEnvironment(environment);
    // Drain the pipe as output comes, so xbnc never blocks writing its log.
    QObject::connect(process_.get(), &QProcess::readyRead, process_.get(),
                     [this] { collectOutput(); });
    process_->start(binaryPath(), {QStringLiteral("--config"), configPath()});
    if (!process_->waitForStarted(defaultTimeoutMs)) {
        *error = QStringLiteral("cannot run %1: %2").arg(binaryPath(), process_->errorString());
        return false;
    }

    const QDeadlineTimer deadline(defaultTimeoutMs);
    QRegularExpressionMatch match;
    const auto fail = [&](const QString &what) {
        *error = QStringLiteral("xbnc did not %1; output:\n%2").arg(what, output_);
        reportDelivered_ = error != &ignored;
        return false;
    };
    if (waitForLog(QRegularExpression(QStringLiteral("listening for clients on \\S+ port (\\d+)")),
                   deadline, 0, &match) < 0)
        return fail(QStringLiteral("report its listening port"));
    port_ = match.captured(1).toUShort();
    if (!config.value(QStringLiteral("listener/direct_tls_port")).isEmpty()) {
        const QRegularExpression directTls(
            QStringLiteral("listening for direct TLS clients on \\S+ port (\\d+)"));
        if (waitForLog(directTls, deadline, 0, &match) < 0)
            return fail(QStringLiteral("report its direct TLS port"));
        directTlsPort_ = match.captured(1).toUShort();
    }
    if (waitForLog(QRegularExpression(
                       QStringLiteral("certificate SHA-256 fingerprint: ([0-9A-Fa-f:]{95})")),
                   deadline, 0, &match) < 0)
        return fail(QStringLiteral("print its certificate fingerprint"));
    fingerprint_ = match.captured(1);
    return true;
}

qsizetype XbncProcess::waitForLog(const QRegularExpression &pattern, QDeadlineTimer deadline,
                                  qsizetype from, QRegularExpressionMatch *match)
{
    for (;;) {
        collectOutput();
        const QRegularExpressionMatch found = pattern.match(output_, from);
        if (found.hasMatch()) {
            if (match)
                *match = found;
            return found.capturedEnd();
        }
        if (!isRunning() || deadline.hasExpired())
            return -1;
        // Wake on new output, or on exit (which no more output would announce).
        QEventLoop loop;
        QObject::connect(process_.get(), &QProcess::readyRead, &loop, &QEventLoop::quit);
        QObject::connect(process_.get(), &QProcess::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(std::max<qint64>(0, deadline.remainingTime()), &loop, &QEventLoop::quit);
        loop.exec();
    }
}

qsizetype XbncProcess::waitForLog(const QString &substring, QDeadlineTimer deadline, qsizetype from)
{
    return waitForLog(QRegularExpression(QRegularExpression::escape(substring)), deadline, from);
}

bool XbncProcess::isRunning() const
{
    return process_ && process_->state() != QProcess::NotRunning;
}

qint64 XbncProcess::processId() const
{
    return isRunning() ? process_->processId() : 0;
}

int XbncProcess::exitCode() const
{
    return exitCode_;
}

bool XbncProcess::sendSignal(int signalNumber)
{
    return process_ && process_->state() == QProcess::Running &&
           ::kill(pid_t(process_->processId()), signalNumber) == 0;
}

bool XbncProcess::stop(QString *error)
{
    if (!process_)
        return true;
    QString problem;
    if (process_->state() != QProcess::NotRunning) {
        process_->terminate();
        if (!process_->waitForFinished(stopTimeoutMs)) {
            process_->kill();
            process_->waitForFinished(stopTimeoutMs);
            problem = QStringLiteral("ignored SIGTERM for %1 ms and was killed").arg(stopTimeoutMs);
        }
    }
    collectOutput();
    if (problem.isEmpty()) {
        crashed_ = process_->exitStatus() == QProcess::CrashExit;
        exitCode_ = crashed_ ? -1 : process_->exitCode();
        if (crashed_)
            problem = QStringLiteral("crashed");
        else if (exitCode_ != 0)
            problem = QStringLiteral("exited with code %1").arg(exitCode_);
    }
    process_.reset();
    // Leak reports come at exit and UBSan may carry on: the exit status alone can be clean.
    const QString report = sanitizerReport(output_);
    if (!report.isEmpty()) {
        problem = QStringLiteral("printed a sanitizer report (%1)")
                      .arg(problem.isEmpty() ? QStringLiteral("exit code 0") : problem);
        if (error) {
            *error = QStringLiteral("xbnc %1:\n%2\n--- whole output ---\n%3")
                         .arg(problem, report, output_);
            reportDelivered_ = true;
        }
        return false;
    }
    if (problem.isEmpty())
        return true;
    if (error)
        *error = QStringLiteral("xbnc %1; output:\n%2").arg(problem, output_);
    return false;
}
