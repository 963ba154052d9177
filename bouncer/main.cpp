#include "bouncer.h"
#include "ca_export.h"
#include "config.h"
#include "store.h"
#include "store_fast_tokens.h"
#include "unix_signals.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QLoggingCategory>
#include <QStandardPaths>

#include <cstdio>

#include <sys/stat.h>

using namespace xbnc;

Q_LOGGING_CATEGORY(lcMain, "xbnc.main")

namespace {

constexpr int exitConfigError = 2;

QString defaultConfigPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
           QStringLiteral("/xbnc/xbnc.ini");
}

int fail(int code, const QString &message)
{
    std::fprintf(stderr, "xbnc: %s\n", qPrintable(message));
    return code;
}

// Works while xbnc runs: tokens are read from the database at each login, not cached.
int revokeFastTokens(const Config &config)
{
    Store store;
    QString error;
    if (!store.open(config.dataDir, &error))
        return fail(1, error);
    const int revoked = StoreFastTokens(store).removeAll();
    if (revoked < 0)
        return fail(1, QStringLiteral("could not revoke FAST tokens: %1").arg(store.lastError()));
    std::printf("revoked %d FAST tokens: every device logs in with the password next time\n",
                revoked);
    return 0;
}

int exportCa(const ListenerConfig &listener, const QString &pemFile)
{
    if (!listener.certFile.isEmpty())
        return fail(exitConfigError,
                    QStringLiteral("[listener] cert is set, so xbnc serves that certificate and "
                                   "no CA of its own: there is nothing to export"));
    QString error;
    const std::optional<ExportedCa> exported = exportOwnCa(listener, pemFile, &error);
    if (!exported)
        return fail(1, QStringLiteral("cannot export the CA: %1").arg(error));
    std::printf("wrote xbnc's CA to %s and the iOS/macOS profile to %s\n"
                "CA SHA-256 fingerprint: %s\n",
                qPrintable(exported->pemFile), qPrintable(exported->profileFile),
                qPrintable(exported->fingerprint));
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    // Before anything is created: data_dir, the database with its -wal/-shm files and the TLS
    // key are then born owner-only, with no window in which another user could open them.
    ::umask(S_IRWXG | S_IRWXO);
    if (!qEnvironmentVariableIsSet("QT_MESSAGE_PATTERN"))
        qSetMessagePattern(QStringLiteral(
            "%{time yyyy-MM-ddThh:mm:ss.zzz} %{if-warning}warning %{endif}%{if-critical}error "
            "%{endif}%{category}: %{message}"));
    if (!qEnvironmentVariableIsSet("QT_LOGGING_RULES"))
        QLoggingCategory::setFilterRules(QStringLiteral("*.debug=false"));
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("xbnc"));
    QCoreApplication::setApplicationVersion(QStringLiteral(XBNC_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "xbnc, a multiplexing XMPP bouncer: one connection to your server, many clients."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption configOption(
        QStringLiteral("config"),
        QStringLiteral("Run with the INI configuration FILE (default: %1).")
            .arg(defaultConfigPath()),
        QStringLiteral("FILE"));
    const QCommandLineOption checkOption(
        QStringLiteral("check-config"),
        QStringLiteral("Check the configuration FILE, print any problem, and exit (0 when valid)."),
        QStringLiteral("FILE"));
    const QCommandLineOption revokeOption(
        QStringLiteral("revoke-fast-tokens"),
        QStringLiteral("Revoke every FAST login token (XEP-0484) of the account of --config, and "
                       "exit; devices then log in with the password."));
    const QCommandLineOption exportCaOption(
        QStringLiteral("export-ca"),
        QStringLiteral("Write xbnc's own CA (made if missing) as PEM to FILE, and an iOS/macOS "
                       "profile beside it (FILE ending in .mobileconfig instead of .pem), then "
                       "exit. Uses the --config file."),
        QStringLiteral("FILE"));
    parser.addOption(configOption);
    parser.addOption(checkOption);
    parser.addOption(exportCaOption);
    parser.addOption(revokeOption);
    // parse(), not process(): a usage error exits with code 2 like a configuration error.
    if (!parser.parse(QCoreApplication::arguments()))
        return fail(exitConfigError, parser.errorText() + QStringLiteral(" (see --help)"));
    if (parser.isSet(QStringLiteral("help")) || parser.isSet(QStringLiteral("help-all")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    if (!parser.positionalArguments().isEmpty())
        return fail(exitConfigError, QStringLiteral("unexpected argument %1 (see --help)")
                                         .arg(parser.positionalArguments().first()));

    if (parser.isSet(checkOption)) {
        const auto loaded = loadConfig(parser.value(checkOption));
        if (const auto *error = std::get_if<ConfigError>(&loaded))
            return fail(exitConfigError, error->message);
        if (const QString warning = readableByOthersWarning(parser.value(checkOption));
            !warning.isEmpty())
            std::fprintf(stderr, "xbnc: warning: %s\n", qPrintable(warning));
        std::printf("%s: configuration OK\n", qPrintable(parser.value(checkOption)));
        return 0;
    }

    const QString configPath =
        parser.isSet(configOption) ? parser.value(configOption) : defaultConfigPath();
    if (!parser.isSet(configOption) && !QFile::exists(configPath))
        return fail(exitConfigError,
                    QStringLiteral("no configuration at %1; pass --config FILE (the README shows "
                                   "an example, and packaging/run starts a demo)")
                        .arg(configPath));
    const auto loaded = loadConfig(configPath);
    if (const auto *error = std::get_if<ConfigError>(&loaded))
        return fail(exitConfigError, error->message);
    if (const QString warning = readableByOthersWarning(configPath); !warning.isEmpty())
        qCWarning(lcMain, "%s", qPrintable(warning));
    if (parser.isSet(revokeOption))
        return revokeFastTokens(std::get<Config>(loaded));
    if (parser.isSet(exportCaOption))
        return exportCa(std::get<Config>(loaded).listener, parser.value(exportCaOption));

    Bouncer bouncer(std::get<Config>(loaded));
    UnixSignals signals_;
    QString error;
    if (!signals_.install(&error))
        return fail(1, error);
    QObject::connect(&signals_, &UnixSignals::terminate, &bouncer, &Bouncer::stop);
    QObject::connect(&signals_, &UnixSignals::reload, &bouncer, [&bouncer] {
        QString problem;
        if (bouncer.reloadCertificates(&problem))
            qInfo("certificates reloaded; SHA-256 fingerprint: %s",
                  qPrintable(bouncer.certificateFingerprint()));
        else
            qWarning("certificate reload failed, keeping the old one: %s", qPrintable(problem));
    });
    QObject::connect(&bouncer, &Bouncer::stopped, &app, [] { QCoreApplication::exit(0); });
    if (!bouncer.start(&error))
        return fail(1, error);
    return app.exec();
}
