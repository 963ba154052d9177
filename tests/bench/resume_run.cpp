#include "resume_run.h"

#include "muc_helpers.h"
#include "resume_target.h"
#include "stanza_match.h"
#include "tcp_relay.h"
#include "test_client.h"

#include <QElapsedTimer>

namespace {

constexpr char16_t smNs[] = u"urn:xmpp:sm:3";
constexpr int stepTimeoutMs = 30000;
const QString bob = QStringLiteral("bob@localhost");

bool isSm(const XmlNode &n, QStringView name)
{
    return n.xmlns == smNs && n.name == name;
}

bool isStanza(const XmlNode &n)
{
    return n.xmlns == u"jabber:client" &&
           (n.name == u"message" || n.name == u"presence" || n.name == u"iq");
}

QByteArray ack(quint32 h)
{
    return "<a xmlns='urn:xmpp:sm:3' h='" + QByteArray::number(h) + "'/>";
}

} // namespace

ResumeRun::ResumeRun(ResumeTarget &target, TestClient &bob, int runNumber, int missed)
    : target_(target), bob_(bob), missed_(missed),
      tag_(QStringLiteral("%1-%2-%3").arg(target.name()).arg(missed).arg(runNumber)),
      room_(QStringLiteral("bench-%1@conference.localhost").arg(tag_))
{
}

bool ResumeRun::fail(const QString &message)
{
    error_ = QStringLiteral("%1: %2").arg(tag_, message);
    return false;
}

QString ResumeRun::chatId(int i) const
{
    return QStringLiteral("%1-c%2").arg(tag_).arg(i);
}

QString ResumeRun::groupchatId(int i) const
{
    return QStringLiteral("%1-g%2").arg(tag_).arg(i);
}

bool ResumeRun::run()
{
    return connectPhone() && sendMissed() && resume();
}

bool ResumeRun::connectPhone()
{
    QString error;
    if (!muc::createRoom(bob_, room_, QStringLiteral("bob"), {}, &error) ||
        !target_.prepareRoom(room_, &error))
        return fail(error);
    phone_ = std::make_unique<TestClient>(QStringLiteral("phone"));
    const QDeadlineTimer deadline(stepTimeoutMs);
    if (!phone_->login(target_.phoneOptions(), deadline) ||
        !muc::join(*phone_, room_ + QLatin1Char('/') + target_.nick(), &error))
        return fail(error + phone_->errorString());

    const auto isOldChat = [](const XmlNode &n) {
        return n.name == u"message" && n.attribute(u"from").startsWith(bob) && n.child(u"body");
    };
    phone_->send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    for (;;) {
        const std::optional<XmlNode> n = phone_->readStanza(deadline);
        if (!n)
            return fail(phone_->errorString());
        replayedOnLogin_ += isOldChat(*n) ? 1 : 0;
        if (isSm(*n, u"failed"))
            return fail(QStringLiteral("<enable/> failed"));
        if (isSm(*n, u"enabled")) {
            previd_ = n->attribute(u"id");
            break;
        }
    }
    // Current: a ping answered, everything before it handled (the pong counts too).
    if (!phone_->roundTrip(deadline))
        return fail(phone_->errorString());
    handled_ = 1;
    for (const XmlNode &n : phone_->takeBuffered()) {
        handled_ += isStanza(n) ? 1 : 0;
        replayedOnLogin_ += isOldChat(n) ? 1 : 0;
    }

    target_.beforeCut();
    target_.relay().cut();
    phone_->abortConnection();
    return target_.waitHibernating(&error) || fail(error);
}

bool ResumeRun::sendMissed()
{
    const int each = missed_ / 2;
    QByteArray burst;
    for (int i = 1; i <= each; ++i) {
        burst += "<message to='" + target_.account().toUtf8() + "' type='chat' id='" +
                 chatId(i).toUtf8() + "'><body>" + chatId(i).toUtf8() + "</body></message>";
        burst += muc::groupchat(room_, groupchatId(i), groupchatId(i));
    }
    bob_.send(burst);
    // Prosody handles bob's stanzas in order: the room's echo of the last one comes after
    // everything before it was routed.
    if (!bob_.readUntil(match::message(groupchatId(each)), QDeadlineTimer(stepTimeoutMs)))
        return fail(bob_.errorString());
    bob_.takeBuffered();
    QString error;
    return target_.waitMissedIn(room_, chatId(each), groupchatId(each), &error) || fail(error);
}

bool ResumeRun::resume()
{
    const qint64 wireInBefore = target_.relay().forwardedToClient();
    const qint64 wireOutBefore = target_.relay().forwardedToServer();
    QElapsedTimer clock;
    clock.start();
    auto phone = std::make_unique<TestClient>(QStringLiteral("phone-resumed"));
    const QDeadlineTimer deadline(stepTimeoutMs);
    if (!phone->connectAndSecure(target_.phoneOptions(), deadline) ||
        !phone->authenticate(deadline))
        return fail(phone->errorString());
    phone->send("<resume xmlns='urn:xmpp:sm:3' previd='" + previd_.toUtf8() + "' h='" +
                QByteArray::number(handled_) + "'/>");
    const std::optional<XmlNode> answer = phone->readUntil(
        [](const XmlNode &n) { return isSm(n, u"resumed") || isSm(n, u"failed"); }, deadline);
    if (!answer || !isSm(*answer, u"resumed"))
        return fail(QStringLiteral("resume failed: ") +
                    (answer ? QString::fromUtf8(answer->toXml()) : phone->errorString()));
    cost_.roundTrips = phone->roundTrips() + 1;
    if (!catchUp(*phone, wireInBefore, wireOutBefore))
        return false;
    cost_.msToCurrent = double(clock.nsecsElapsed()) / 1e6;
    phone_ = std::move(phone);
    return checkNothingMore(*phone_);
}

bool ResumeRun::catchUp(TestClient &phone, qint64 wireInBefore, qint64 wireOutBefore)
{
    const int each = missed_ / 2;
    const QDeadlineTimer deadline(stepTimeoutMs * 2);
    while (chats_.size() < each || groupchats_.size() < each) {
        const std::optional<XmlNode> n = phone.readStanza(deadline);
        if (!n)
            return fail(QStringLiteral("%1 of %2 chat and %3 of %2 room messages, then: %4")
                            .arg(chats_.size())
                            .arg(each)
                            .arg(groupchats_.size())
                            .arg(phone.errorString()));
        if (isSm(*n, u"r")) {
            // As Conversations does: answer at once and read on.
            ++cost_.ackRequests;
            phone.send(ack(handled_));
            continue;
        }
        if (!isStanza(*n))
            continue;
        ++handled_;
        ++cost_.stanzas;
        const QString from = n->attribute(u"from");
        if (n->name != u"message" || !n->child(u"body"))
            continue;
        if (n->attribute(u"type") == u"chat" && from.startsWith(bob))
            chats_.append(n->attribute(u"id"));
        else if (n->attribute(u"type") == u"groupchat" && from == room_ + QStringLiteral("/bob"))
            groupchats_.append(n->attribute(u"id"));
    }
    cost_.wireIn = target_.relay().forwardedToClient() - wireInBefore;
    cost_.wireOut = target_.relay().forwardedToServer() - wireOutBefore;
    cost_.xmlIn = phone.xmlBytesReceived();
    cost_.elements = phone.elementsReceived();

    QStringList expectedChats, expectedGroupchats;
    for (int i = 1; i <= each; ++i) {
        expectedChats.append(chatId(i));
        expectedGroupchats.append(groupchatId(i));
    }
    if (chats_ != expectedChats || groupchats_ != expectedGroupchats)
        return fail(QStringLiteral("lost, doubled or out of order:\nchat: %1\nroom: %2")
                        .arg(chats_.join(QLatin1Char(' ')), groupchats_.join(QLatin1Char(' '))));
    return true;
}

bool ResumeRun::checkNothingMore(TestClient &phone)
{
    const std::optional<QList<XmlNode>> later = phone.ping(QDeadlineTimer(stepTimeoutMs));
    if (!later)
        return fail(phone.errorString());
    handled_ += 1;
    for (const XmlNode &n : *later) {
        handled_ += isStanza(n) ? 1 : 0;
        if (n.name == u"message" && n.attribute(u"id").startsWith(tag_))
            return fail(QStringLiteral("sent twice: ") + QString::fromUtf8(n.toXml()));
    }
    // Acknowledge everything and end the session cleanly, as the phone's user logging out.
    phone.send(ack(handled_));
    phone.disconnectFromServer();
    return phone.expectClosed(QDeadlineTimer(stepTimeoutMs)) || fail(phone.errorString());
}
