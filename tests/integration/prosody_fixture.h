#pragma once

#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>

class QProcess;

// A throw-away Prosody for integration tests: its own temporary directory (self-signed
// certificate, config, data, log), loopback ports chosen at run time, and the server running as
// a direct child process that is terminated and reaped by stop() or the destructor.
//
// Ports are not reserved beforehand (a port released for Prosody to take can be taken by anyone
// in between). start() lets Prosody try random ports and tries others when it could not listen,
// or when the port answers with somebody else's certificate.
class ProsodyFixture
{
public:
    ProsodyFixture();
    ~ProsodyFixture();
    ProsodyFixture(const ProsodyFixture &) = delete;
    ProsodyFixture &operator=(const ProsodyFixture &) = delete;

    // Creates certificate and config on first use, then starts Prosody and returns once both
    // ports complete a TLS handshake with this fixture's certificate. On failure *error says
    // why, with the tail of Prosody's log.
    bool start(QString *error);
    void stop();
    // Same ports, same data: accounts, rosters and archives survive.
    bool restart(QString *error);
    bool addUser(const QString &user, const QString &password);

    quint16 c2sPort() const { return c2sPort_; }
    quint16 directTlsPort() const { return directTlsPort_; }
    QString caCertificatePath() const;
    QString domain() const { return QStringLiteral("localhost"); }
    QString dataPath() const;

    // The ports of the first attempt, so that a test can make it clash.
    void setFirstPorts(quint16 c2s, quint16 directTls);

    // XEP-0198 (mod_smacks) with resumption for that long after a connection is lost; call
    // before start(). Off by default. maxQueueSize: the unacknowledged stanzas a session can
    // have and still resume (0: Prosody's default, 500).
    void enableStreamManagement(int hibernationSeconds, int maxQueueSize = 0)
    {
        smHibernationSeconds_ = hibernationSeconds;
        smMaxQueueSize_ = maxQueueSize;
    }
    // XEP-0352 (mod_csi_simple), as a phone's server has it; call before start(). Off by default.
    void enableClientStateIndication() { csi_ = true; }
    // More modules for one test's Prosody, from Prosody itself or prosody-modules (e.g.
    // "cloud_notify", XEP-0357); call before start().
    void enableModules(const QStringList &modules) { extraModules_ = modules; }
    // A directory of a test's own Prosody modules (mod_NAME.lua), searched before Prosody's and
    // prosody-modules'; call before start().
    void addPluginPath(const QString &directory) { pluginPaths_.append(directory); }

    // An external component (XEP-0114) on `domain` with that shared secret, listening on
    // componentPort(): one connection that can send from any JID of its domain, so that a
    // benchmark fills rooms with thousands of occupants without a login each. Call before start().
    void enableComponent(const QString &domain, const QString &secret)
    {
        componentDomain_ = domain;
        componentSecret_ = secret;
    }
    quint16 componentPort() const { return componentPort_; }

    // Prosody's mod_muc keeps this many rooms in memory (muc_room_cache_size; 0: its default,
    // 100) and swaps the least recently used out to disk; call before start().
    void setRoomCacheSize(int rooms) { roomCacheSize_ = rooms; }

    // "debug" makes failures easier to read but slows Prosody down; call before start().
    void setLogLevel(const QString &level) { logLevel_ = level; }
    QString logPath() const;
    QString logText() const; // everything Prosody logged so far, for failure messages

    qint64 processId() const; // 0 when not running

private:
    enum class Launch
    {
        Ready,
        PortTaken,
        Failed
    };
    enum class Probe
    {
        NotListening,
        Ours,
        Foreign
    };

    bool prepare(QString *error);
    bool makeCertificate(QString *error);
    bool writeConfig(QString *error);
    void pickPorts();
    Launch launch(QString *error);
    Launch waitUntilReady(qsizetype logMark, QString *error);
    Probe probe(quint16 port, bool directTls) const;
    bool runProsodyctl(const QStringList &arguments, QString *output);
    QString configPath() const;
    QString path(const QString &name) const;

    QTemporaryDir dir_;
    std::unique_ptr<QProcess> process_;
    quint16 c2sPort_ = 0;
    quint16 directTlsPort_ = 0;
    quint16 componentPort_ = 0;
    quint16 firstC2sPort_ = 0;
    quint16 firstDirectTlsPort_ = 0;
    QString logLevel_ = QStringLiteral("info");
    bool prepared_ = false;
    bool csi_ = false;
    QStringList extraModules_;
    QStringList pluginPaths_;
    int smHibernationSeconds_ = 0;
    int smMaxQueueSize_ = 0;
    int roomCacheSize_ = 0;
    QString componentDomain_;
    QString componentSecret_;
};
