#include "config.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using namespace xbnc;

namespace {
const QByteArray minimal = "[upstream]\njid=alice@example.org\npassword=secret\n";
}

class TestConfig : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void defaults()
    {
        const auto parsed = parseConfig(minimal);
        QVERIFY(std::holds_alternative<Config>(parsed));
        const Config &c = std::get<Config>(parsed);
        QCOMPARE(c.upstream.jid, u"alice@example.org");
        QCOMPARE(c.upstream.port, 5222);
        QCOMPARE(c.upstream.resource, u"xbnc");
        QCOMPARE(c.listener.address, QHostAddress(QHostAddress::LocalHost));
        QCOMPARE(c.listener.port, 5222);
        QCOMPARE(c.listener.directTlsPort, -1);
        QCOMPARE(c.listener.hostPort, -1);
        QVERIFY(c.listener.hostnames.isEmpty());
        QCOMPARE(c.listener.certificateNames(), QStringList{QStringLiteral("example.org")});
        QCOMPARE(c.listener.username, u"alice");
        QCOMPARE(c.listener.domain, u"example.org");
        QCOMPARE(c.listener.password, u"secret"); // the upstream password by default
        QCOMPARE(c.listener.maxStanzaBytes, 256 * 1024);
        QCOMPARE(c.listener.maxPreloginStanzaBytes, 10000);
        QCOMPARE(c.listener.maxPreloginConnections, 100);
        QCOMPARE(c.listener.maxPreloginPerAddress, 10);
        QCOMPARE(c.listener.preloginTimeoutMs, 30 * 1000);
        QCOMPARE(c.listener.idleTimeoutMs, 300 * 1000);
        QCOMPARE(c.listener.pingTimeoutMs, 60 * 1000);
        QCOMPARE(c.listener.maxQueuedBytes, 8 * 1024 * 1024);
        QVERIFY(c.listener.requireTls);
        QVERIFY(c.dataDir.endsWith(u"/xbnc"));
        QVERIFY(!c.roomsPersistent);
        QCOMPARE(c.roomLogSize, 1000);
        QCOMPARE(c.queue.maxStanzas, 1000);
        QCOMPARE(c.queue.maxAge, std::chrono::seconds(24 * 3600));
        QCOMPARE(c.offlineMessages, 1000);
        QCOMPARE(c.listener.resumeTimeout, std::chrono::seconds(3600));
        QCOMPARE(c.listener.hibernationLimits.maxStanzas, 10000);
        QCOMPARE(c.listener.hibernationLimits.maxBytes, 8 * 1024 * 1024);
        QCOMPARE(c.listener.maxHibernatingSessions, 16);
        QCOMPARE(c.offlineMaxAge, std::chrono::seconds(30 * 24 * 3600));
        QCOMPARE(c.forgetDeviceAfter, std::chrono::seconds(90 * 24 * 3600));
        QCOMPARE(c.csiMaxHeld, 256);
    }

    void everyKey()
    {
        const QByteArray text = "; a comment\n"
                                "[upstream]\n"
                                "jid = Alice@Example.org\n"
                                "password = se;cret  ; the semicolon inside stays\n"
                                "server = xmpp.example.org   ; optional host override\n"
                                "port = 5223\n"
                                "resource = bnc\n"
                                "direct_tls = true\n"
                                "[listener]\n"
                                "address = ::1\n"
                                "port = 0\n"
                                "direct_tls_port = 5224\n"
                                "password = \"local ; pw\"\n"
                                "require_tls = false\n"
                                "max_stanza_size = 65536\n"
                                "max_prelogin_stanza_size = 4096\n"
                                "max_prelogin_connections = 50\n"
                                "max_prelogin_per_address = 5\n"
                                "prelogin_timeout = 20\n"
                                "idle_timeout = 0\n"
                                "ping_timeout = 30\n"
                                "max_send_queue = 1048576\n"
                                "[presence]\n"
                                "idle_show = xa\n"
                                "idle_status = on the bouncer\n"
                                "idle_priority = -5\n"
                                "[rooms]\n"
                                "persistent = yes\n"
                                "keep = a@conference.example.org, B@Conference.example.org\n"
                                "log_size = 50\n"
                                "[queue]\n"
                                "max_stanzas = 20\n"
                                "max_age = 600\n"
                                "[offline]\n"
                                "max_messages = 30\n"
                                "max_age = 7200\n"
                                "forget_device_after = 86400\n"
                                "[sessions]\n"
                                "resume_timeout = 120\n"
                                "max_hibernation_stanzas = 500\n"
                                "max_hibernation_bytes = 100000\n"
                                "max_hibernating_sessions = 4\n"
                                "csi_max_held = 40\n"
                                "[push]\n"
                                "route = server\n"
                                "include_sender = yes\n"
                                "include_body = true\n"
                                "device_timeout = 3600\n"
                                "quiet = 30\n"
                                "[storage]\n"
                                "data_dir = /tmp/xbnc-test\n";
        const auto parsed = parseConfig(text);
        if (auto *e = std::get_if<ConfigError>(&parsed))
            QFAIL(qPrintable(e->message));
        const Config &c = std::get<Config>(parsed);
        QCOMPARE(c.upstream.jid, u"alice@example.org");
        QCOMPARE(c.upstream.password, u"se;cret");
        QCOMPARE(c.upstream.server, u"xmpp.example.org");
        QCOMPARE(c.upstream.port, 5223);
        QCOMPARE(c.upstream.resource, u"bnc");
        QVERIFY(c.upstream.directTls);
        QCOMPARE(c.listener.address, QHostAddress(QHostAddress::LocalHostIPv6));
        QCOMPARE(c.listener.port, 0);
        QCOMPARE(c.listener.directTlsPort, 5224);
        QCOMPARE(c.listener.password, u"local ; pw");
        QVERIFY(!c.listener.requireTls);
        QCOMPARE(c.listener.maxStanzaBytes, 65536);
        QCOMPARE(c.listener.maxPreloginStanzaBytes, 4096);
        QCOMPARE(c.listener.maxPreloginConnections, 50);
        QCOMPARE(c.listener.maxPreloginPerAddress, 5);
        QCOMPARE(c.listener.preloginTimeoutMs, 20 * 1000);
        QCOMPARE(c.listener.idleTimeoutMs, 0);
        QCOMPARE(c.listener.pingTimeoutMs, 30 * 1000);
        QCOMPARE(c.listener.maxQueuedBytes, 1024 * 1024);
        QCOMPARE(c.idle.show, u"xa");
        QCOMPARE(c.idle.status, u"on the bouncer");
        QCOMPARE(c.idle.priority, -5);
        QCOMPARE(c.dataDir, u"/tmp/xbnc-test");
        QCOMPARE(c.listener.dataDir, u"/tmp/xbnc-test");
        QVERIFY(c.roomsPersistent);
        QCOMPARE(c.roomLogSize, 50);
        QCOMPARE(c.queue.maxStanzas, 20);
        QCOMPARE(c.queue.maxAge, std::chrono::seconds(600));
        QCOMPARE(c.offlineMessages, 30);
        QCOMPARE(c.listener.resumeTimeout, std::chrono::seconds(120));
        QCOMPARE(c.listener.hibernationLimits.maxStanzas, 500);
        QCOMPARE(c.listener.hibernationLimits.maxBytes, 100000);
        QCOMPARE(c.listener.maxHibernatingSessions, 4);
        QVERIFY(c.push.route == PushSettings::Route::Server);
        QVERIFY(c.push.includeSender);
        QVERIFY(c.push.includeBody);
        QCOMPARE(c.push.deviceTimeout, std::chrono::seconds(3600));
        QCOMPARE(c.push.quiet, std::chrono::seconds(30));
        QCOMPARE(c.offlineMaxAge, std::chrono::seconds(7200));
        QCOMPARE(c.forgetDeviceAfter, std::chrono::seconds(86400));
        QCOMPARE(c.csiMaxHeld, 40);
        QCOMPARE(c.keptRooms, QStringList({QStringLiteral("a@conference.example.org"),
                                           QStringLiteral("b@conference.example.org")}));
    }

    // The own certificate's names and the host certificate port (docs/CERTIFICATES.md).
    void certificateKeys()
    {
        const auto parsed = parseConfig(minimal + "[listener]\n"
                                                  "hostnames = Bnc.Example.net, bücher.example,,"
                                                  " example.org, bnc.example.net\n"
                                                  "host_port = 5225\n"
                                                  "host_cert = /etc/hostname\n"
                                                  "host_key = /etc/hosts\n");
        if (auto *e = std::get_if<ConfigError>(&parsed))
            QFAIL(qPrintable(e->message));
        const ListenerConfig &l = std::get<Config>(parsed).listener;
        // Lower case, IDNs as A-labels, duplicates gone; the domain comes first in the leaf.
        QCOMPARE(l.hostnames, QStringList({QStringLiteral("bnc.example.net"),
                                           QStringLiteral("xn--bcher-kva.example"),
                                           QStringLiteral("example.org")}));
        QCOMPARE(l.certificateNames(),
                 QStringList({QStringLiteral("example.org"), QStringLiteral("bnc.example.net"),
                              QStringLiteral("xn--bcher-kva.example")}));
        QCOMPARE(l.hostPort, 5225);
        QCOMPARE(l.hostCertFile, u"/etc/hostname");
        QCOMPARE(l.hostKeyFile, u"/etc/hosts");
        QVERIFY(l.certFile.isEmpty());
    }

    void errors_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("message");
        QTest::newRow("no jid") << QByteArray("[upstream]\npassword=x\n")
                                << "[upstream] jid: missing";
        QTest::newRow("no password")
            << QByteArray("[upstream]\njid=a@b\n") << "[upstream] password: missing";
        QTest::newRow("bad jid") << QByteArray("[upstream]\njid=example.org\npassword=x\n")
                                 << "[upstream] jid: not a bare JID like alice@example.org: "
                                    "\"example.org\"";
        QTest::newRow("bad port") << minimal + "port=70000\n"
                                  << "[upstream] port: not a port number: \"70000\"";
        QTest::newRow("unknown key") << minimal + "pasword=typo\n"
                                     << "[upstream] pasword: unknown key";
        QTest::newRow("unknown section") << minimal + "[upstrem]\n"
                                         << "line 4: unknown section [upstrem]";
        QTest::newRow("no section")
            << QByteArray("jid=a@b\n") << "line 1: jid is outside any section";
        QTest::newRow("no equals") << minimal + "[listener]\nport\n"
                                   << "line 5: expected key=value";
        QTest::newRow("bad address") << minimal + "[listener]\naddress=localhost\n"
                                     << "[listener] address: not an IP address: \"localhost\"";
        QTest::newRow("bad bool") << minimal + "[listener]\nrequire_tls=maybe\n"
                                  << "[listener] require_tls: not true or false: \"maybe\"";
        QTest::newRow("plaintext off loopback")
            << minimal + "[listener]\naddress=0.0.0.0\nrequire_tls=false\n"
            << "[listener] require_tls: may only be false when address is a loopback address";
        QTest::newRow("no pre-login connections")
            << minimal + "[listener]\nmax_prelogin_connections=0\n"
            << "[listener] max_prelogin_connections: must be a number of connections from 1 to "
               "100000";
        QTest::newRow("per address above the total")
            << minimal + "[listener]\nmax_prelogin_connections=5\nmax_prelogin_per_address=6\n"
            << "[listener] max_prelogin_per_address: must not exceed max_prelogin_connections (5)";
        QTest::newRow("pre-login timeout zero")
            << minimal + "[listener]\nprelogin_timeout=0\n"
            << "[listener] prelogin_timeout: must be a number of seconds from 1 to 3600";
        QTest::newRow("idle timeout not a number")
            << minimal + "[listener]\nidle_timeout=5m\n"
            << "[listener] idle_timeout: must be a number of seconds from 0 to 86400";
        QTest::newRow("ping timeout too long")
            << minimal + "[listener]\nping_timeout=3601\n"
            << "[listener] ping_timeout: must be a number of seconds from 1 to 3600";
        QTest::newRow("send queue too small")
            << minimal + "[listener]\nmax_send_queue=1000\n"
            << "[listener] max_send_queue: must be a byte count from 65536 to 1073741824";
        QTest::newRow("resume timeout zero")
            << minimal + "[sessions]\nresume_timeout=0\n"
            << "[sessions] resume_timeout: must be a number of seconds from 1 to 604800";
        QTest::newRow("no hibernation stanzas")
            << minimal + "[sessions]\nmax_hibernation_stanzas=0\n"
            << "[sessions] max_hibernation_stanzas: must be a number of stanzas from 1 to 1000000";
        QTest::newRow("no hibernating sessions")
            << minimal + "[sessions]\nmax_hibernating_sessions=0\n"
            << "[sessions] max_hibernating_sessions: must be a number of sessions from 1 to 1000";
        QTest::newRow("hibernation bytes too small")
            << minimal + "[sessions]\nmax_hibernation_bytes=100\n"
            << "[sessions] max_hibernation_bytes: must be a byte count from 65536 to 1073741824";
        QTest::newRow("cert without key") << minimal + "[listener]\ncert=/etc/hostname\n"
                                          << "[listener] cert: cert and key go together";
        QTest::newRow("host port alone")
            << minimal + "[listener]\nhost_port=5225\n"
            << "[listener] host_cert: missing; host_port, host_cert and host_key go together";
        QTest::newRow("host cert without key")
            << minimal + "[listener]\nhost_port=5225\nhost_cert=/etc/hostname\n"
            << "[listener] host_key: missing; host_port, host_cert and host_key go together";
        QTest::newRow("host files without port")
            << minimal + "[listener]\nhost_cert=/etc/hostname\nhost_key=/etc/hostname\n"
            << "[listener] host_port: missing; host_port, host_cert and host_key go together";
        QTest::newRow("missing host cert")
            << minimal + "[listener]\nhost_cert=/nonexistent/host.pem\n"
            << "[listener] host_cert: no such file: /nonexistent/host.pem";
        QTest::newRow("bad host port") << minimal + "[listener]\nhost_port=https\n"
                                       << "[listener] host_port: not a port number: \"https\"";
        QTest::newRow("host name with a comma inside")
            << minimal + "[listener]\nhostnames=a.example, DNS:evil.example\n"
            << "[listener] hostnames: not a DNS host name: \"DNS:evil.example\"";
        QTest::newRow("IP address as host name")
            << minimal + "[listener]\nhostnames=192.0.2.7\n"
            << "[listener] hostnames: not a DNS host name: \"192.0.2.7\"";
        QTest::newRow("missing ca file") << minimal + "ca_file=/nonexistent/ca.pem\n"
                                         << "[upstream] ca_file: no such file: /nonexistent/ca.pem";
        QTest::newRow("bad kept room") << minimal + "[rooms]\nkeep=a@b, nope\n"
                                       << "[rooms] keep: not a room JID: \"nope\"";
        QTest::newRow("bad log size") << minimal + "[rooms]\nlog_size=-1\n"
                                      << "[rooms] log_size: must be a number of messages from 0 "
                                         "to 1000000";
        QTest::newRow("tiny pre-login limit")
            << minimal + "[listener]\nmax_prelogin_stanza_size=100\n"
            << "[listener] max_prelogin_stanza_size: must be a byte count from 1024 to 1048576";
        QTest::newRow("empty queue") << minimal + "[queue]\nmax_stanzas=0\n"
                                     << "[queue] max_stanzas: must be a number of stanzas from 1 "
                                        "to 1000000";
        QTest::newRow("bad queue age") << minimal + "[queue]\nmax_age=1d\n"
                                       << "[queue] max_age: must be a number of seconds from 1 "
                                          "to 31536000";
        QTest::newRow("bad offline size")
            << minimal + "[offline]\nmax_messages=-5\n"
            << "[offline] max_messages: must be a number of messages from 1 to 1000000";
        QTest::newRow("bad offline age")
            << minimal + "[offline]\nmax_age=30d\n"
            << "[offline] max_age: must be a number of seconds from 60 to 315360000";
        QTest::newRow("device forgotten too soon")
            << minimal + "[offline]\nforget_device_after=10\n"
            << "[offline] forget_device_after: must be a number of seconds from 60 to 315360000";
        QTest::newRow("negative csi bound")
            << minimal + "[sessions]\ncsi_max_held=-1\n"
            << "[sessions] csi_max_held: must be a number of stanzas from 0 to 100000";
        QTest::newRow("csi bound not a number")
            << minimal + "[sessions]\ncsi_max_held=lots\n"
            << "[sessions] csi_max_held: must be a number of stanzas from 0 to 100000";
        QTest::newRow("unknown push route") << minimal + "[push]\nroute=fpush\n"
                                            << "[push] route: must be direct, server or auto";
        QTest::newRow("push timeout not a number")
            << minimal + "[push]\ndevice_timeout=3d\n"
            << "[push] device_timeout: must be a number of seconds from 0 to 31536000";
        QTest::newRow("bad show") << minimal + "[presence]\nidle_show=busy\n"
                                  << "[presence] idle_show: must be empty, away, xa, dnd or chat";
    }
    void errors()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, message);
        const auto parsed = parseConfig(text);
        QVERIFY(std::holds_alternative<ConfigError>(parsed));
        QCOMPARE(std::get<ConfigError>(parsed).message, message);
    }

    void loginThrottle()
    {
        const auto defaults = parseConfig(minimal);
        QVERIFY(std::holds_alternative<Config>(defaults));
        const LoginThrottle::Policy &d = std::get<Config>(defaults).listener.loginThrottle;
        QCOMPARE(d.firstDelay, std::chrono::seconds(1));
        QCOMPARE(d.maxDelay, std::chrono::seconds(30));
        QCOMPARE(d.lockoutFailures, 10);
        QCOMPARE(d.lockoutWindow, std::chrono::seconds(600));
        QCOMPARE(d.lockoutDuration, std::chrono::seconds(900));
        QCOMPARE(d.globalFailuresPerMinute, 30);

        const auto parsed = parseConfig(minimal + "[listener]\n"
                                                  "login_delay = 2\n"
                                                  "login_delay_max = 60\n"
                                                  "login_lockout_failures = 5\n"
                                                  "login_lockout_window = 300\n"
                                                  "login_lockout_duration = 3600\n"
                                                  "login_global_failures_per_minute = 0\n");
        if (auto *e = std::get_if<ConfigError>(&parsed))
            QFAIL(qPrintable(e->message));
        const LoginThrottle::Policy &p = std::get<Config>(parsed).listener.loginThrottle;
        QCOMPARE(p.firstDelay, std::chrono::seconds(2));
        QCOMPARE(p.maxDelay, std::chrono::seconds(60));
        QCOMPARE(p.lockoutFailures, 5);
        QCOMPARE(p.lockoutWindow, std::chrono::seconds(300));
        QCOMPARE(p.lockoutDuration, std::chrono::seconds(3600));
        QCOMPARE(p.globalFailuresPerMinute, 0);
    }

    void loginThrottleErrors_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("message");
        QTest::newRow("delay not a number")
            << minimal + "[listener]\nlogin_delay=1s\n"
            << "[listener] login_delay: must be a number of seconds from 0 to 60";
        QTest::newRow("delay cap below the delay")
            << minimal + "[listener]\nlogin_delay=10\nlogin_delay_max=5\n"
            << "[listener] login_delay_max: must not be less than login_delay";
        QTest::newRow("negative lockout")
            << minimal + "[listener]\nlogin_lockout_failures=-1\n"
            << "[listener] login_lockout_failures: must be a number of failures from 0 to 1000";
        QTest::newRow("empty window")
            << minimal + "[listener]\nlogin_lockout_window=0\n"
            << "[listener] login_lockout_window: must be a number of seconds from 1 to 604800";
        QTest::newRow("lockout too long")
            << minimal + "[listener]\nlogin_lockout_duration=604801\n"
            << "[listener] login_lockout_duration: must be a number of seconds from 1 to 604800";
        QTest::newRow("global bound not a number")
            << minimal + "[listener]\nlogin_global_failures_per_minute=many\n"
            << "[listener] login_global_failures_per_minute: must be a number of failures from 0 "
               "to 100000";
    }
    void loginThrottleErrors() { errors(); }

    void passwordNeverInErrors()
    {
        const auto parsed = parseConfig("[upstream]\npassword=hunter2\njid=bad\n");
        QVERIFY(std::holds_alternative<ConfigError>(parsed));
        QVERIFY(!std::get<ConfigError>(parsed).message.contains(u"hunter2"));
    }

    void readableByOthers_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<bool>("warned");
        QTest::newRow("0600") << 0600 << false;
        QTest::newRow("0400") << 0400 << false;
        QTest::newRow("0640") << 0640 << true;
        QTest::newRow("0604") << 0604 << true;
        QTest::newRow("0644") << 0644 << true;
    }
    void readableByOthers()
    {
        QFETCH(int, mode);
        QFETCH(bool, warned);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("xbnc.ini"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(minimal);
        file.close();
        QVERIFY(::chmod(QFile::encodeName(path).constData(), mode_t(mode)) == 0);
        const QString warning = readableByOthersWarning(path);
        QCOMPARE(!warning.isEmpty(), warned);
        if (warned) {
            QVERIFY2(warning.contains(path), qPrintable(warning));
            QVERIFY2(warning.contains(u"chmod 600"), qPrintable(warning));
        }
    }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
