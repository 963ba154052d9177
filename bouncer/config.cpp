#include "config.h"

#include "dns_name.h"
#include "jid.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QStandardPaths>

#include <functional>

namespace xbnc {

namespace {

// The host port needs all three of its keys or none: names the first one missing.
QString missingHostPortKey(const ListenerConfig &listener)
{
    const bool port = listener.hostPort >= 0;
    const bool cert = !listener.hostCertFile.isEmpty();
    const bool key = !listener.hostKeyFile.isEmpty();
    if (!port && !cert && !key)
        return {};
    if (!port)
        return QStringLiteral("host_port");
    if (!cert)
        return QStringLiteral("host_cert");
    return key ? QString() : QStringLiteral("host_key");
}

using Setter = std::function<QString(Config &, const QString &)>; // returns a problem, or empty

QString portInto(quint16 &target, const QString &value, bool allowZero)
{
    bool ok = false;
    const uint port = value.toUInt(&ok);
    if (!ok || port > 65535 || (port == 0 && !allowZero))
        return QStringLiteral("not a port number: \"%1\"").arg(value);
    target = quint16(port);
    return {};
}

QString boolInto(bool &target, const QString &value)
{
    const QString v = value.toLower();
    if (v == u"true" || v == u"yes" || v == u"on" || v == u"1")
        target = true;
    else if (v == u"false" || v == u"no" || v == u"off" || v == u"0")
        target = false;
    else
        return QStringLiteral("not true or false: \"%1\"").arg(value);
    return {};
}

QString countInto(int &target, const QString &value, int min, int max, const QString &unit)
{
    bool ok = false;
    const int count = value.toInt(&ok);
    if (!ok || count < min || count > max)
        return QStringLiteral("must be a number of %1 from %2 to %3").arg(unit).arg(min).arg(max);
    target = count;
    return {};
}

// Into a millisecond count (timer intervals).
QString secondsInto(int &targetMs, const QString &value, int min, int max)
{
    int seconds = 0;
    QString problem = countInto(seconds, value, min, max, QStringLiteral("seconds"));
    if (problem.isEmpty())
        targetMs = seconds * 1000;
    return problem;
}

// Into a std::chrono duration (LoginThrottle's policy).
template <typename Duration>
QString secondsInto(Duration &target, const QString &value, int min, int max)
{
    int seconds = 0;
    QString problem = countInto(seconds, value, min, max, QStringLiteral("seconds"));
    if (problem.isEmpty())
        target = std::chrono::seconds(seconds);
    return problem;
}

QString readableFile(const QString &value)
{
    if (!QFile::exists(value))
        return QStringLiteral("no such file: %1").arg(value);
    QFile file(value);
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("cannot read %1: %2").arg(value, file.errorString());
    return {};
}

// A file the key names, or none when empty.
QString fileInto(QString &target, const QString &value)
{
    target = value;
    return value.isEmpty() ? QString() : readableFile(value);
}

const QHash<QString, Setter> &setters()
{
    static const QHash<QString, Setter> table = {
        {QStringLiteral("upstream/jid"),
         [](Config &c, const QString &v) -> QString {
             const Jid jid(v);
             if (!jid.isValid() || jid.local().isEmpty() || !jid.isBare())
                 return QStringLiteral("not a bare JID like alice@example.org: \"%1\"").arg(v);
             c.upstream.jid = jid.toString();
             return {};
         }},
        {QStringLiteral("upstream/password"),
         [](Config &c, const QString &v) {
             c.upstream.password = v;
             return QString();
         }},
        {QStringLiteral("upstream/server"),
         [](Config &c, const QString &v) {
             c.upstream.server = v;
             return QString();
         }},
        {QStringLiteral("upstream/port"),
         [](Config &c, const QString &v) { return portInto(c.upstream.port, v, false); }},
        {QStringLiteral("upstream/resource"),
         [](Config &c, const QString &v) -> QString {
             if (v.isEmpty() || v.contains(u'/'))
                 return QStringLiteral("must be a non-empty resource without '/'");
             c.upstream.resource = v;
             return {};
         }},
        {QStringLiteral("upstream/ca_file"),
         [](Config &c, const QString &v) {
             c.upstream.caFile = v;
             return v.isEmpty() ? QString() : readableFile(v);
         }},
        {QStringLiteral("upstream/direct_tls"),
         [](Config &c, const QString &v) { return boolInto(c.upstream.directTls, v); }},
        {QStringLiteral("listener/address"),
         [](Config &c, const QString &v) -> QString {
             QHostAddress address;
             if (!address.setAddress(v))
                 return QStringLiteral("not an IP address: \"%1\"").arg(v);
             c.listener.address = address;
             return {};
         }},
        {QStringLiteral("listener/port"),
         [](Config &c, const QString &v) { return portInto(c.listener.port, v, true); }},
        {QStringLiteral("listener/direct_tls_port"),
         [](Config &c, const QString &v) -> QString {
             if (v.isEmpty()) {
                 c.listener.directTlsPort = -1;
                 return {};
             }
             quint16 port = 0;
             QString problem = portInto(port, v, true);
             c.listener.directTlsPort = port;
             return problem;
         }},
        {QStringLiteral("listener/cert"),
         [](Config &c, const QString &v) { return fileInto(c.listener.certFile, v); }},
        {QStringLiteral("listener/key"),
         [](Config &c, const QString &v) { return fileInto(c.listener.keyFile, v); }},
        {QStringLiteral("listener/hostnames"),
         [](Config &c, const QString &v) -> QString {
             c.listener.hostnames.clear();
             for (const QString &part : v.split(u',', Qt::SkipEmptyParts)) {
                 const QString name = certificateDnsName(part.trimmed());
                 if (name.isEmpty())
                     return QStringLiteral("not a DNS host name: \"%1\"").arg(part.trimmed());
                 c.listener.hostnames.append(name);
             }
             c.listener.hostnames.removeDuplicates();
             return {};
         }},
        {QStringLiteral("listener/host_port"),
         [](Config &c, const QString &v) -> QString {
             quint16 port = 0;
             QString problem = portInto(port, v, true);
             c.listener.hostPort = port;
             return problem;
         }},
        {QStringLiteral("listener/host_cert"),
         [](Config &c, const QString &v) { return fileInto(c.listener.hostCertFile, v); }},
        {QStringLiteral("listener/host_key"),
         [](Config &c, const QString &v) { return fileInto(c.listener.hostKeyFile, v); }},
        {QStringLiteral("listener/password"),
         [](Config &c, const QString &v) {
             c.listener.password = v;
             return QString();
         }},
        {QStringLiteral("listener/require_tls"),
         [](Config &c, const QString &v) { return boolInto(c.listener.requireTls, v); }},
        {QStringLiteral("listener/max_stanza_size"),
         [](Config &c, const QString &v) -> QString {
             bool ok = false;
             const qlonglong size = v.toLongLong(&ok);
             if (!ok || size < 1024 || size > 64 * 1024 * 1024)
                 return QStringLiteral("must be a byte count from 1024 to 67108864");
             c.listener.maxStanzaBytes = size;
             return {};
         }},
        {QStringLiteral("listener/max_prelogin_stanza_size"),
         [](Config &c, const QString &v) -> QString {
             // Below 1024 a SCRAM exchange with a long user name may not fit.
             bool ok = false;
             const qlonglong size = v.toLongLong(&ok);
             if (!ok || size < 1024 || size > 1024 * 1024)
                 return QStringLiteral("must be a byte count from 1024 to 1048576");
             c.listener.maxPreloginStanzaBytes = size;
             return {};
         }},
        {QStringLiteral("listener/max_prelogin_connections"),
         [](Config &c, const QString &v) {
             return countInto(c.listener.maxPreloginConnections, v, 1, 100000,
                              QStringLiteral("connections"));
         }},
        {QStringLiteral("listener/max_prelogin_per_address"),
         [](Config &c, const QString &v) {
             return countInto(c.listener.maxPreloginPerAddress, v, 1, 100000,
                              QStringLiteral("connections"));
         }},
        {QStringLiteral("listener/prelogin_timeout"),
         [](Config &c, const QString &v) {
             return secondsInto(c.listener.preloginTimeoutMs, v, 1, 3600);
         }},
        {QStringLiteral("listener/idle_timeout"),
         [](Config &c, const QString &v) {
             return secondsInto(c.listener.idleTimeoutMs, v, 0, 24 * 3600);
         }},
        {QStringLiteral("listener/ping_timeout"),
         [](Config &c, const QString &v) {
             return secondsInto(c.listener.pingTimeoutMs, v, 1, 3600);
         }},
        {QStringLiteral("listener/max_send_queue"),
         [](Config &c, const QString &v) -> QString {
             bool ok = false;
             const qlonglong size = v.toLongLong(&ok);
             if (!ok || size < 64 * 1024 || size > 1024 * 1024 * 1024)
                 return QStringLiteral("must be a byte count from 65536 to 1073741824");
             c.listener.maxQueuedBytes = size;
             return {};
         }},
        // Failed logins (LoginThrottle): a delay that doubles, a lockout, a global bound.
        {QStringLiteral("listener/login_delay"),
         [](Config &c, const QString &v) {
             return secondsInto(c.listener.loginThrottle.firstDelay, v, 0, 60);
         }},
        {QStringLiteral("listener/login_delay_max"),
         [](Config &c, const QString &v) {
             return secondsInto(c.listener.loginThrottle.maxDelay, v, 0, 3600);
         }},
        {QStringLiteral("listener/login_lockout_failures"),
         [](Config &c, const QString &v) {
             return countInto(c.listener.loginThrottle.lockoutFailures, v, 0, 1000,
                              QStringLiteral("failures"));
         }},
        {QStringLiteral("listener/login_lockout_window"),
         [](Config &c, const QString &v) {
             return secondsInto(c.listener.loginThrottle.lockoutWindow, v, 1, 7 * 24 * 3600);
         }},
        {QStringLiteral("listener/login_lockout_duration"),
         [](Config &c, const QString &v) {
             return secondsInto(c.listener.loginThrottle.lockoutDuration, v, 1, 7 * 24 * 3600);
         }},
        {QStringLiteral("listener/login_global_failures_per_minute"),
         [](Config &c, const QString &v) {
             return countInto(c.listener.loginThrottle.globalFailuresPerMinute, v, 0, 100000,
                              QStringLiteral("failures"));
         }},
        {QStringLiteral("presence/idle_show"),
         [](Config &c, const QString &v) -> QString {
             static const QStringList shows = {QString(), QStringLiteral("away"),
                                               QStringLiteral("xa"), QStringLiteral("dnd"),
                                               QStringLiteral("chat")};
             if (!shows.contains(v))
                 return QStringLiteral("must be empty, away, xa, dnd or chat");
             c.idle.show = v;
             return {};
         }},
        {QStringLiteral("presence/idle_status"),
         [](Config &c, const QString &v) {
             c.idle.status = v;
             return QString();
         }},
        {QStringLiteral("presence/idle_priority"),
         [](Config &c, const QString &v) -> QString {
             bool ok = false;
             const int priority = v.toInt(&ok);
             if (!ok || priority < -128 || priority > 127)
                 return QStringLiteral("must be a number from -128 to 127");
             c.idle.priority = priority;
             return {};
         }},
        {QStringLiteral("rooms/persistent"),
         [](Config &c, const QString &v) { return boolInto(c.roomsPersistent, v); }},
        {QStringLiteral("rooms/keep"),
         [](Config &c, const QString &v) -> QString {
             c.keptRooms.clear();
             for (const QString &item : v.split(u',', Qt::SkipEmptyParts)) {
                 const Jid room(item.trimmed());
                 if (!room.isValid() || room.local().isEmpty() || !room.isBare())
                     return QStringLiteral("not a room JID: \"%1\"").arg(item.trimmed());
                 c.keptRooms.append(room.bareString());
             }
             return {};
         }},
        {QStringLiteral("rooms/log_size"),
         [](Config &c, const QString &v) -> QString {
             bool ok = false;
             const int size = v.toInt(&ok);
             if (!ok || size < 0 || size > 1000000)
                 return QStringLiteral("must be a number of messages from 0 to 1000000");
             c.roomLogSize = size;
             return {};
         }},
        {QStringLiteral("queue/max_stanzas"),
         [](Config &c, const QString &v) {
             return countInto(c.queue.maxStanzas, v, 1, 1000000, QStringLiteral("stanzas"));
         }},
        {QStringLiteral("queue/max_age"),
         [](Config &c, const QString &v) {
             int seconds = 0;
             QString problem = countInto(seconds, v, 1, 365 * 24 * 3600, QStringLiteral("seconds"));
             c.queue.maxAge = std::chrono::seconds(seconds);
             return problem;
         }},
        {QStringLiteral("offline/max_messages"),
         [](Config &c, const QString &v) {
             return countInto(c.offlineMessages, v, 1, 1000000, QStringLiteral("messages"));
         }},
        // XEP-0198 hibernation of sessions whose connection is lost.
        {QStringLiteral("sessions/resume_timeout"),
         [](Config &c, const QString &v) {
             return secondsInto(c.listener.resumeTimeout, v, 1, 7 * 24 * 3600);
         }},
        // XEP-0484: how long a FAST token logs a device in without its password.
        {QStringLiteral("sessions/fast_token_lifetime"),
         [](Config &c, const QString &v) {
             return secondsInto(c.listener.fastTokenLifetime, v, 1, 365 * 24 * 3600);
         }},
        {QStringLiteral("sessions/max_hibernation_stanzas"),
         [](Config &c, const QString &v) {
             int count = 0;
             QString problem = countInto(count, v, 1, 1000000, QStringLiteral("stanzas"));
             c.listener.hibernationLimits.maxStanzas = count;
             return problem;
         }},
        {QStringLiteral("sessions/max_hibernating_sessions"),
         [](Config &c, const QString &v) {
             return countInto(c.listener.maxHibernatingSessions, v, 1, 1000,
                              QStringLiteral("sessions"));
         }},
        {QStringLiteral("sessions/max_hibernation_bytes"),
         [](Config &c, const QString &v) -> QString {
             bool ok = false;
             const qlonglong size = v.toLongLong(&ok);
             if (!ok || size < 64 * 1024 || size > 1024 * 1024 * 1024)
                 return QStringLiteral("must be a byte count from 65536 to 1073741824");
             c.listener.hibernationLimits.maxBytes = size;
             return {};
         }},
        {QStringLiteral("offline/max_age"),
         [](Config &c, const QString &v) {
             return secondsInto(c.offlineMaxAge, v, 60, 10 * 365 * 24 * 3600);
         }},
        {QStringLiteral("offline/forget_device_after"),
         [](Config &c, const QString &v) {
             return secondsInto(c.forgetDeviceAfter, v, 60, 10 * 365 * 24 * 3600);
         }},
        {QStringLiteral("sessions/csi_max_held"),
         [](Config &c, const QString &v) {
             return countInto(c.csiMaxHeld, v, 0, 100000, QStringLiteral("stanzas"));
         }},
        // XEP-0357 (docs/PUSH.md): what the app server learns, and for how long.
        {QStringLiteral("push/route"),
         [](Config &c, const QString &v) -> QString {
             using Route = PushSettings::Route;
             static const std::map<QString, Route> routes = {
                 {QStringLiteral("direct"), Route::Direct},
                 {QStringLiteral("server"), Route::Server},
                 {QStringLiteral("auto"), Route::Auto}};
             const auto it = routes.find(v);
             if (it == routes.end())
                 return QStringLiteral("must be direct, server or auto");
             c.push.route = it->second;
             return {};
         }},
        {QStringLiteral("push/include_sender"),
         [](Config &c, const QString &v) { return boolInto(c.push.includeSender, v); }},
        {QStringLiteral("push/include_body"),
         [](Config &c, const QString &v) { return boolInto(c.push.includeBody, v); }},
        {QStringLiteral("push/device_timeout"),
         [](Config &c, const QString &v) {
             return secondsInto(c.push.deviceTimeout, v, 0, 365 * 24 * 3600);
         }},
        {QStringLiteral("push/quiet"),
         [](Config &c, const QString &v) { return secondsInto(c.push.quiet, v, 0, 24 * 3600); }},
        {QStringLiteral("storage/data_dir"),
         [](Config &c, const QString &v) {
             c.dataDir = v;
             return QString();
         }},
    };
    return table;
}

// "value ; comment" → "value"; a ';' or '#' only starts a comment after white space, so
// passwords may contain them. Double quotes keep everything inside.
QString valueOf(QString raw)
{
    raw = raw.trimmed();
    if (raw.size() >= 2 && raw.startsWith(u'"')) {
        const qsizetype close = raw.indexOf(u'"', 1);
        if (close > 0)
            return raw.mid(1, close - 1);
    }
    for (qsizetype i = 0; i < raw.size(); ++i) {
        if ((raw[i] == u';' || raw[i] == u'#') && (i == 0 || raw[i - 1].isSpace()))
            return raw.left(i).trimmed();
    }
    return raw;
}

} // namespace

std::variant<Config, ConfigError> parseConfig(const QByteArray &text)
{
    Config config;
    QString section;
    int lineNumber = 0;
    QSet<QString> seen;
    for (const QByteArray &rawLine : text.split('\n')) {
        ++lineNumber;
        const QString line = QString::fromUtf8(rawLine).trimmed();
        if (line.isEmpty() || line.startsWith(u';') || line.startsWith(u'#'))
            continue;
        if (line.startsWith(u'[')) {
            if (!line.endsWith(u']'))
                return ConfigError{
                    QStringLiteral("line %1: unterminated section header").arg(lineNumber)};
            section = line.mid(1, line.size() - 2).trimmed().toLower();
            static const QStringList sections = {
                QStringLiteral("upstream"), QStringLiteral("listener"), QStringLiteral("presence"),
                QStringLiteral("rooms"),    QStringLiteral("queue"),    QStringLiteral("offline"),
                QStringLiteral("sessions"), QStringLiteral("storage"),  QStringLiteral("push")};
            if (!sections.contains(section))
                return ConfigError{
                    QStringLiteral("line %1: unknown section [%2]").arg(lineNumber).arg(section)};
            continue;
        }
        const qsizetype eq = line.indexOf(u'=');
        if (eq <= 0)
            return ConfigError{QStringLiteral("line %1: expected key=value").arg(lineNumber)};
        const QString key = line.left(eq).trimmed().toLower();
        if (section.isEmpty())
            return ConfigError{
                QStringLiteral("line %1: %2 is outside any section").arg(lineNumber).arg(key)};
        const QString path = section + u'/' + key;
        const auto setter = setters().constFind(path);
        if (setter == setters().cend())
            return ConfigError{QStringLiteral("[%1] %2: unknown key").arg(section, key)};
        const QString problem = (*setter)(config, valueOf(line.mid(eq + 1)));
        if (!problem.isEmpty())
            return ConfigError{QStringLiteral("[%1] %2: %3").arg(section, key, problem)};
        seen.insert(path);
    }

    if (!seen.contains(QStringLiteral("upstream/jid")))
        return ConfigError{QStringLiteral("[upstream] jid: missing")};
    if (config.upstream.password.isEmpty())
        return ConfigError{QStringLiteral("[upstream] password: missing")};
    if (config.listener.certFile.isEmpty() != config.listener.keyFile.isEmpty())
        return ConfigError{QStringLiteral("[listener] cert: cert and key go together")};
    if (const QString missing = missingHostPortKey(config.listener); !missing.isEmpty())
        return ConfigError{QStringLiteral("[listener] %1: missing; host_port, host_cert and "
                                          "host_key go together")
                               .arg(missing)};
    if (config.listener.maxPreloginPerAddress > config.listener.maxPreloginConnections)
        return ConfigError{QStringLiteral("[listener] max_prelogin_per_address: must not exceed "
                                          "max_prelogin_connections (%1)")
                               .arg(config.listener.maxPreloginConnections)};
    if (config.listener.loginThrottle.maxDelay < config.listener.loginThrottle.firstDelay)
        return ConfigError{
            QStringLiteral("[listener] login_delay_max: must not be less than login_delay")};
    if (!config.listener.requireTls && !config.listener.address.isLoopback())
        return ConfigError{QStringLiteral(
            "[listener] require_tls: may only be false when address is a loopback address")};

    const Jid account(config.upstream.jid);
    config.listener.username = account.local();
    config.listener.domain = account.domain();
    if (config.listener.password.isEmpty())
        config.listener.password = config.upstream.password;
    if (config.dataDir.isEmpty())
        config.dataDir = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
                         QStringLiteral("/xbnc");
    config.listener.dataDir = config.dataDir;
    return config;
}

std::variant<Config, ConfigError> loadConfig(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return ConfigError{QStringLiteral("%1: %2").arg(path, file.errorString())};
    return parseConfig(file.readAll());
}

QString readableByOthersWarning(const QString &path)
{
    const QFileDevice::Permissions loose = QFileDevice::ReadGroup | QFileDevice::ReadOther;
    if (!(QFileInfo(path).permissions() & loose))
        return {};
    return QStringLiteral("%1 holds the account password and is readable by group or others; "
                          "run: chmod 600 %1")
        .arg(path);
}

} // namespace xbnc
