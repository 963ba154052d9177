#pragma once

#include <QDeadlineTimer>
#include <QMap>
#include <QRegularExpression>
#include <QString>
#include <QTemporaryDir>

#include <memory>

class ProsodyFixture;
class QProcess;

// The build-tree xbnc binary as a direct child process with its own temporary directory (INI
// config, data_dir). Its output is collected as it comes so tests can wait for log lines and
// print everything on failure. A crash, a signal, a non-zero exit or a sanitizer report in the
// output (see sanitizer_report.h) makes stop(); a report nobody was told of by stop() aborts the
// test program when the XbncProcess is destroyed, so a sanitized run cannot pass over it.
class XbncProcess
{
public:
    // "section/key" → value, e.g. {"listener/port", "0"}. An empty value leaves the key out.
    using Config = QMap<QString, QString>;
    static constexpr int defaultTimeoutMs = 10000;

    XbncProcess();
    ~XbncProcess();
    XbncProcess(const XbncProcess &) = delete;
    XbncProcess &operator=(const XbncProcess &) = delete;

    // The account `user` of the fixture's Prosody, TLS-verified against the fixture's CA, and a
    // loopback listener on a port of xbnc's choosing. Tests adjust the map before start().
    Config configFor(const ProsodyFixture &prosody, const QString &user,
                     const QString &password) const;

    // Starts xbnc and waits until it listens (both ports when direct TLS is configured) and has
    // printed its certificate fingerprint. Use waitForLog() for "upstream online as …".
    bool start(const Config &config, QString *error);
    // Off: production timers (ack, login and join deadlines), for benchmarks whose load would
    // trip the short test ones. On (the default) for every later start(): XBNC_TEST_FAST_TIMERS.
    void setFastTimers(bool fast) { fastTimers_ = fast; }
    // SIGTERM, then wait. False (with *error) unless xbnc exited normally with code 0 and printed
    // no sanitizer report.
    bool stop(QString *error = nullptr);

    bool isRunning() const;
    qint64 processId() const;          // 0 when not running
    bool sendSignal(int signalNumber); // e.g. SIGHUP

    int exitCode() const;
    quint16 port() const { return port_; }
    quint16 directTlsPort() const { return directTlsPort_; }
    QString fingerprint() const { return fingerprint_; } // "AB:CD:…"
    QString directory() const { return dir_.path(); }

    // Everything xbnc printed so far (stdout and stderr, interleaved as received).
    QString output() const { return output_; }
    qsizetype outputSize() const { return output_.size(); }
    // Waits until output at or after `from` matches; returns the offset just past the match, or
    // -1 after the deadline (or when xbnc exits first). Pass that offset to wait for a later line.
    qsizetype waitForLog(const QRegularExpression &pattern,
                         QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs),
                         qsizetype from = 0, QRegularExpressionMatch *match = nullptr);
    qsizetype waitForLog(const QString &substring,
                         QDeadlineTimer deadline = QDeadlineTimer(defaultTimeoutMs),
                         qsizetype from = 0);
    // The INI file start() wrote, for running the binary with other options on the same data.
    QString configPath() const;

private:
    bool writeConfig(const Config &config, QString *error);
    void collectOutput();

    QTemporaryDir dir_;
    std::unique_ptr<QProcess> process_;
    QString output_;
    QString fingerprint_;
    quint16 port_ = 0;
    quint16 directTlsPort_ = 0;
    int exitCode_ = -1;
    bool crashed_ = false;
    bool reportDelivered_ = false;
    bool fastTimers_ = true; // stop() has handed the sanitizer report to its caller
};
