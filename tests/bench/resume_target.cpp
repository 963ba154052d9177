#include "resume_target.h"

#include "bouncer_fixture.h"
#include "muc_helpers.h"
#include "stanza_match.h"
#include "tcp_relay.h"
#include "wait.h"

#include <QFile>

namespace {
constexpr int timeoutMs = 30000;
}

TestClientOptions XbncTarget::phoneOptions() const
{
    TestClientOptions options = fixture_.sessionOptions(QStringLiteral("phone"));
    options.port = relay().port();
    return options;
}

bool XbncTarget::prepareRoom(const QString &room, QString *error)
{
    if (!laptop_) {
        laptop_ = fixture_.session(QStringLiteral("laptop"));
        if (!laptop_) {
            *error = fixture_.errorString();
            return false;
        }
    }
    return muc::join(*laptop_, room + QStringLiteral("/alice"), error).has_value();
}

void XbncTarget::beforeCut()
{
    logMark_ = fixture_.xbnc().outputSize();
}

bool XbncTarget::waitHibernating(QString *error)
{
    if (fixture_.xbnc().waitForLog(QStringLiteral("hibernates: its connection was lost"),
                                   QDeadlineTimer(timeoutMs), logMark_) >= 0)
        return true;
    *error = QStringLiteral("xbnc never put the phone's session into hibernation");
    return false;
}

bool XbncTarget::waitMissedIn(const QString &room, const QString &lastChat,
                              const QString &lastGroupchat, QString *error)
{
    // xbnc handles upstream stanzas in order and fans each out to the laptop and the hibernating
    // phone together: the laptop's copy of the last one proves the phone's queue has them all.
    const QDeadlineTimer deadline(timeoutMs);
    const bool in = laptop_->readUntil(match::message(lastChat), deadline) &&
                    laptop_->readUntil(muc::groupchatWithBody(room, lastGroupchat), deadline);
    laptop_->takeBuffered();
    if (!in)
        *error = laptop_->errorString();
    return in;
}

TestClientOptions ProsodyTarget::phoneOptions() const
{
    TestClientOptions options;
    options.port = relay().port();
    options.caFile = fixture_.prosody().caCertificatePath();
    options.user = QStringLiteral("carol");
    options.password = BouncerFixture::password(options.user);
    options.resource = QStringLiteral("phone");
    options.mechanism = QStringLiteral("SCRAM-SHA-1");
    return options;
}

QByteArray ProsodyTarget::log() const
{
    QFile file(fixture_.prosody().logPath());
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

void ProsodyTarget::beforeCut()
{
    logMark_ = log().size();
}

bool ProsodyTarget::waitHibernating(QString *error)
{
    // mod_c2s logs the lost connection, then mod_smacks keeps the session (at debug level).
    const auto logged = [this] { return log().indexOf("Client disconnected", logMark_) >= 0; };
    if (waitUntil(logged, QDeadlineTimer(timeoutMs), 5))
        return true;
    *error = QStringLiteral("Prosody never noticed that the phone's connection was lost:\n") +
             QString::fromUtf8(log().mid(logMark_));
    return false;
}
