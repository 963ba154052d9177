#include "catch_up_run.h"

#include "filler_component.h"
#include "muc_helpers.h"
#include "resume_target.h"
#include "sm_connection.h"
#include "tcp_relay.h"
#include "test_client.h"
#include "wait.h"

#include <QElapsedTimer>

namespace {

constexpr int stepTimeoutMs = 60000;

QByteArray ack(quint32 h)
{
    return "<a xmlns='urn:xmpp:sm:3' h='" + QByteArray::number(h) + "'/>";
}

// The body of a groupchat message from the room's first filler, the one that writes.
QString fillerBody(const XmlNode &n, const QString &room)
{
    const XmlNode *body = n.child(u"body");
    return n.name == u"message" && n.attribute(u"type") == u"groupchat" &&
                   n.attribute(u"from") == room + QStringLiteral("/f0") && body
               ? body->text()
               : QString();
}

} // namespace

CatchUpRun::CatchUpRun(ResumeTarget &target, FillerComponent &fillers, TestClient *observer,
                       Way way, QStringList rooms, int missed, QString tag)
    : target_(target), fillers_(fillers), observer_(observer), way_(way), rooms_(std::move(rooms)),
      missed_(missed), tag_(std::move(tag))
{
}

CatchUpRun::~CatchUpRun() = default;

bool CatchUpRun::fail(const QString &message)
{
    error_ = QStringLiteral("%1: %2").arg(tag_, message);
    return false;
}

QString CatchUpRun::messageId(int room, int i) const
{
    return QStringLiteral("%1-r%2-m%3").arg(tag_).arg(room).arg(i);
}

bool CatchUpRun::run()
{
    return comeOnline() && goAway() && sendMissed() && comeBack();
}

bool CatchUpRun::comeOnline()
{
    client_ = std::make_unique<TestClient>(QStringLiteral("phone"));
    const QDeadlineTimer deadline(stepTimeoutMs);
    if (!client_->login(target_.phoneOptions(), deadline))
        return fail(client_->errorString());
    QByteArray joins;
    for (const QString &room : rooms_)
        joins += muc::joinPresence(room + QLatin1Char('/') + target_.nick(),
                                   "<history maxstanzas='0'/>");
    client_->send(joins);
    // One message per room read live: the moment the client leaves comes after all of them.
    for (int j = 0; j < rooms_.size(); ++j) {
        if (!client_->readUntil(muc::subjectOf(rooms_[j]), deadline))
            return fail(QStringLiteral("joining %1: %2").arg(rooms_[j], client_->errorString()));
        fillers_.sendGroupchat(rooms_[j], messageId(j, 0), messageId(j, 0));
    }
    for (int j = 0; j < rooms_.size(); ++j)
        if (!client_->readUntil(muc::groupchatWithBody(rooms_[j], messageId(j, 0)), deadline))
            return fail(
                QStringLiteral("live message in %1: %2").arg(rooms_[j], client_->errorString()));
    // Prosody stamps room history in whole seconds and a client asks for it since a whole
    // second: the client is away from the next one on, and the missed messages come after it.
    const QDateTime now = QDateTime::currentDateTimeUtc();
    leftAt_ = now.addMSecs(1000 - now.time().msec());
    client_->takeBuffered();
    return way_ == Way::Rejoin || enableResumption();
}

bool CatchUpRun::enableResumption()
{
    client_->send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    const QDeadlineTimer deadline(stepTimeoutMs);
    for (;;) {
        const std::optional<XmlNode> n = client_->readStanza(deadline);
        if (!n || sm::is(*n, u"failed"))
            return fail(QStringLiteral("<enable/> failed: ") + client_->errorString());
        if (sm::is(*n, u"enabled")) {
            previd_ = n->attribute(u"id");
            break;
        }
    }
    // Handled: the pong and whatever came before it.
    if (!client_->roundTrip(deadline))
        return fail(client_->errorString());
    handled_ = 1;
    for (const XmlNode &n : client_->takeBuffered())
        handled_ += sm::isStanza(n) ? 1 : 0;
    return true;
}

bool CatchUpRun::goAway()
{
    if (way_ == Way::Rejoin) {
        client_->disconnectFromServer();
        return client_->expectClosed(QDeadlineTimer(stepTimeoutMs)) || fail(client_->errorString());
    }
    target_.beforeCut();
    target_.relay().cut();
    client_->abortConnection();
    QString error;
    return target_.waitHibernating(&error) || fail(error);
}

bool CatchUpRun::sendMissed()
{
    const auto away = [this] { return QDateTime::currentDateTimeUtc() >= leftAt_; };
    if (!waitUntil(away, QDeadlineTimer(stepTimeoutMs)))
        return fail(QStringLiteral("the clock did not reach ") + leftAt_.toString(Qt::ISODate));
    for (int j = 0; j < rooms_.size(); ++j)
        for (int i = 1; i <= missed_; ++i)
            fillers_.sendGroupchat(rooms_[j], messageId(j, i), messageId(j, i));
    QString error;
    if (!fillers_.barrier(&error))
        return fail(error);
    // Prosody has written every message to xbnc's connection before it answers the observer's
    // ping on the same connection.
    if (observer_ && !observer_->roundTrip(QDeadlineTimer(stepTimeoutMs)))
        return fail(QStringLiteral("observer: ") + observer_->errorString());
    if (observer_)
        observer_->takeBuffered();
    return true;
}

bool CatchUpRun::comeBack()
{
    const qint64 wireBefore = target_.relay().forwardedToClient();
    QElapsedTimer clock;
    clock.start();
    auto client = std::make_unique<TestClient>(QStringLiteral("phone-back"));
    const QDeadlineTimer deadline(stepTimeoutMs);
    if (way_ == Way::Resume) {
        if (!client->connectAndSecure(target_.phoneOptions(), deadline) ||
            !client->authenticate(deadline))
            return fail(client->errorString());
        client->send("<resume xmlns='urn:xmpp:sm:3' previd='" + previd_.toUtf8() + "' h='" +
                     QByteArray::number(handled_) + "'/>");
    } else {
        if (!client->login(target_.phoneOptions(), deadline))
            return fail(client->errorString());
        const QByteArray since = leftAt_.toString(Qt::ISODate).toUtf8();
        QByteArray joins;
        for (const QString &room : rooms_)
            joins += muc::joinPresence(room + QLatin1Char('/') + target_.nick(),
                                       "<history since='" + since + "'/>");
        client->send(joins);
    }
    if (!readUntilCurrent(*client))
        return false;
    cost_.msToCurrent = double(clock.nsecsElapsed()) / 1e6;
    cost_.wireIn = target_.relay().forwardedToClient() - wireBefore;
    cost_.xmlIn = client->xmlBytesReceived();
    client_ = std::move(client);
    return checkNothingMore(*client_);
}

bool CatchUpRun::readUntilCurrent(TestClient &client)
{
    const QDeadlineTimer deadline(stepTimeoutMs);
    const auto current = [this] {
        for (const QString &room : rooms_) {
            const auto it = received_.find(room);
            if (it == received_.end() || it->second.size() < missed_)
                return false;
        }
        return true;
    };
    while (!current()) {
        const std::optional<XmlNode> n = client.readStanza(deadline);
        if (!n)
            return fail(QStringLiteral("not current: ") + client.errorString());
        if (sm::is(*n, u"failed"))
            return fail(QStringLiteral("resume failed: ") + QString::fromUtf8(n->toXml()));
        if (sm::is(*n, u"r")) {
            client.send(ack(handled_)); // as Conversations: at once, and read on
            continue;
        }
        if (!sm::isStanza(*n))
            continue;
        ++handled_;
        ++cost_.stanzas;
        for (const QString &room : rooms_) {
            const QString body = fillerBody(*n, room);
            if (!body.isEmpty())
                received_[room].append(body);
            if (muc::subjectOf(room)(*n))
                subjects_.insert(room);
        }
    }
    for (int j = 0; j < rooms_.size(); ++j) {
        QStringList expected;
        for (int i = 1; i <= missed_; ++i)
            expected.append(messageId(j, i));
        if (received_[rooms_[j]] != expected)
            return fail(QStringLiteral("%1: lost, doubled or out of order: %2")
                            .arg(rooms_[j], received_[rooms_[j]].join(QLatin1Char(' '))));
    }
    return true;
}

bool CatchUpRun::checkNothingMore(TestClient &client)
{
    const QDeadlineTimer deadline(stepTimeoutMs);
    // A rejoin ends with each room's subject; whatever comes after the last missed message
    // until then (and until a ping) must not repeat a message.
    if (way_ == Way::Rejoin)
        for (const QString &room : rooms_)
            if (!subjects_.contains(room) && !client.readUntil(muc::subjectOf(room), deadline))
                return fail(QStringLiteral("no subject from ") + room);
    const std::optional<QList<XmlNode>> later = client.ping(deadline);
    if (!later)
        return fail(client.errorString());
    handled_ += 1;
    for (const XmlNode &n : *later) {
        handled_ += sm::isStanza(n) ? 1 : 0;
        for (const QString &room : rooms_)
            if (fillerBody(n, room).startsWith(tag_))
                return fail(QStringLiteral("came again: ") + QString::fromUtf8(n.toXml()));
    }
    if (way_ == Way::Resume)
        client.send(ack(handled_));
    client.disconnectFromServer();
    return client.expectClosed(deadline) || fail(client.errorString());
}
