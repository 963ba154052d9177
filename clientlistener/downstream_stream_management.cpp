// XEP-0198 on a client connection: <enable/>, acks both ways, hibernation when the connection
// is lost, and <resume/>, where a new connection takes an earlier session over.
#include "downstream.h"

#include "idle_ping.h"
#include "resumable_sessions.h"
#include "stream_namespaces.h"
#include "tcp_tls_socket.h"
#include "xml_stream_parser.h"

#include <QLoggingCategory>
#include <QTimer>

#include <algorithm>
#include <limits>

Q_DECLARE_LOGGING_CATEGORY(lcDownstream)

namespace xbnc {

namespace {

// xbnc asks for an <a/> once this many stanzas are unacknowledged, or this long after the first.
constexpr qsizetype kAckRequestAfterStanzas = 10;
constexpr int kAckRequestDelayMs = 2000;
constexpr QByteArrayView kAckRequest = "<r xmlns='urn:xmpp:sm:3'/>";

// The ack request as bytes to write, without a copy: it is static.
QByteArray ackRequestBytes()
{
    return QByteArray::fromRawData(kAckRequest.data(), kAckRequest.size());
}

QByteArray number(quint32 n)
{
    return QByteArray::number(n);
}

// XEP-0203 on a message or presence that waits for a hibernating session, as Prosody's
// mod_smacks does: without it a client shows everything it catches up on at the time it
// resumed. One that already has a delay (history, offline storage) keeps the truer one.
QByteArray withDelay(const QByteArray &stanza, const QString &domain)
{
    const bool message = stanza.startsWith("<message");
    if ((!message && !stanza.startsWith("<presence")) || stanza.contains("urn:xmpp:delay"))
        return stanza;
    const QByteArray delay =
        "<delay xmlns='urn:xmpp:delay' from='" + domain.toUtf8() + "' stamp='" +
        QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toLatin1() + "'/>";
    if (stanza.endsWith("/>")) // an empty element: <presence …/>
        return stanza.chopped(2) + '>' + delay + (message ? "</message>" : "</presence>");
    const qsizetype end = stanza.lastIndexOf("</");
    return stanza.left(end) + delay + stanza.mid(end);
}

} // namespace

void Downstream::handleStreamManagement(const Element &element)
{
    const QString name = element.name();
    if (name == u"enable" && phase_ == Phase::Bound)
        return enableStreamManagement(element);
    if (name == u"resume" && phase_ == Phase::Negotiating)
        return handleResume(element);
    if (name == u"r" && sm_.isEnabled()) {
        write("<a xmlns='urn:xmpp:sm:3' h='" + number(sm_.handled()) + "'/>");
        return;
    }
    if (name == u"a" && sm_.isEnabled())
        return handleAck(element);
    // <enable/> before binding or twice, <resume/> once bound, acks without enable.
    writeSmFailed(u"unexpected-request");
}

void Downstream::enableStreamManagement(const Element &enable)
{
    if (sm_.isEnabled())
        return writeSmFailed(u"unexpected-request");
    const QString resume = enable.attribute(u"resume");
    write(startStreamManagement(resume == u"true" || resume == u"1"));
}

QByteArray Downstream::startStreamManagement(bool wantsResume)
{
    const bool resumable = wantsResume && settings_.resumableSessions != nullptr;
    sm_.enable(resumable ? settings_.resumableSessions->add(this) : QString());
    QByteArray reply = "<enabled xmlns='urn:xmpp:sm:3'";
    if (resumable)
        reply += " id='" + sm_.state().resumeId.toLatin1() + "' resume='true' max='" +
                 QByteArray::number(qint64(resumeTimeout_.count())) + "'";
    qCInfo(lcDownstream) << "session" << id_ << "enabled stream management"
                         << (resumable ? "with resumption" : "without resumption");
    return reply + "/>";
}

void Downstream::handleAck(const Element &ack)
{
    bool valid = false;
    const quint32 h = ack.attribute(u"h").toUInt(&valid);
    if (!valid)
        return failStream(u"undefined-condition", u"an <a/> needs a number h");
    if (sm_.acknowledge(h) == StreamManagement::Ack::TooHigh)
        return failStream(u"undefined-condition", u"acknowledged more stanzas than were sent");
    ackRequested_ = false;
    if (sm_.unackedCount() > 0)
        requestAckIfDue();
}

void Downstream::writeSmFailed(QStringView condition, bool withH)
{
    QByteArray failed = "<failed xmlns='urn:xmpp:sm:3'";
    if (withH)
        failed += " h='" + number(sm_.handled()) + "'";
    failed +=
        "><" + condition.toLatin1() + " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>";
    write(failed);
}

void Downstream::countSent(const QByteArray &bytes)
{
    const bool within =
        sm_.stanzaSent(phase_ == Phase::Hibernating ? withDelay(bytes, settings_.domain) : bytes);
    if (phase_ == Phase::Bound)
        write(bytes);
    if (within)
        return requestAckIfDue();
    unackedOverLimits();
}

void Downstream::countSentTogether(const QList<QByteArray> &stanzas, qsizetype size)
{
    // Each kept and counted as countSent does, the bytes in one write; the ack request, when
    // due, follows them (XEP-0198 lets it come anywhere).
    QByteArray joined;
    joined.reserve(size);
    for (qsizetype i = 0; i < stanzas.size(); ++i) {
        joined += stanzas[i];
        if (!sm_.stanzaSent(stanzas[i])) {
            write(joined);
            unackedOverLimits();
            for (++i; i < stanzas.size(); ++i) // kept for the hub, as countSent keeps them
                sendSerialized(stanzas[i]);
            return;
        }
    }
    write(joined);
    requestAckIfDue();
}

void Downstream::unackedOverLimits()
{
    const qsizetype kept = sm_.unackedCount();
    if (phase_ == Phase::Bound) {
        qCWarning(lcDownstream) << "session" << id_ << "left" << kept
                                << "stanzas unacknowledged, more than it may; closing it, they "
                                   "go back to the hub";
        failStream(u"resource-constraint", u"too many unacknowledged stanzas");
    } else if (phase_ == Phase::Hibernating) {
        qCWarning(lcDownstream) << "session" << id_ << "hibernated with" << kept
                                << "stanzas kept, more than it may; ending it, they go back to "
                                   "the hub";
        endHibernation("its queue is full");
    }
}

void Downstream::requestAckIfDue()
{
    if (phase_ != Phase::Bound || ackRequested_)
        return;
    if (sm_.unackedCount() >= kAckRequestAfterStanzas)
        requestAck();
    else if (!ackTimer_->isActive())
        ackTimer_->start(kAckRequestDelayMs);
}

void Downstream::requestAck()
{
    ackTimer_->stop();
    if (phase_ != Phase::Bound || ackRequested_ || sm_.unackedCount() == 0)
        return;
    ackRequested_ = true;
    write(ackRequestBytes());
}

// What losing the connection stops, whether the network went (hibernate) or xbnc is stopping
// (suspend): the session itself lives on.
void Downstream::leaveConnection()
{
    phase_ = Phase::Hibernating;
    ackRequested_ = false;
    closeTimer_->stop();
    negotiationTimer_->stop();
    idlePing_->stop();
    ackTimer_->stop();
    hibernatingSince_ = QDateTime::currentDateTimeUtc();
}

void Downstream::hibernate(const char *why)
{
    leaveConnection();
    startHibernationTimer(std::chrono::duration_cast<std::chrono::milliseconds>(resumeTimeout_));
    qCInfo(lcDownstream).nospace()
        << "session " << id_ << " hibernates: " << why << "; " << sm_.unackedCount()
        << " stanzas kept unacknowledged; resumable for " << resumeTimeout_.count() << " s";
    Q_EMIT hibernated(); // the hub only notes it: safe inside one of its writes
    endHibernationsBeyondLimit();
    // Queued: this may run inside a write the hub made, which must not see the socket go.
    QMetaObject::invokeMethod(socket_, &TcpTlsSocket::abort, Qt::QueuedConnection);
}

void Downstream::startHibernationTimer(std::chrono::milliseconds remaining)
{
    // QTimer counts in int milliseconds: a resume timeout of weeks would overflow it.
    constexpr std::chrono::milliseconds longest(std::numeric_limits<int>::max());
    hibernationTimer_->start(std::min(remaining, longest));
}

// Every device that drops off leaves a session behind for an hour, with up to 8 MiB queued: a
// client that logs in under a new resource each time would pile them up without this bound.
void Downstream::endHibernationsBeyondLimit()
{
    if (!settings_.resumableSessions)
        return;
    std::vector<Downstream *> hibernating = settings_.resumableSessions->all();
    std::erase_if(hibernating, [](const Downstream *s) { return s->phase_ != Phase::Hibernating; });
    std::sort(hibernating.begin(), hibernating.end(), [](const Downstream *a, const Downstream *b) {
        return a->hibernatingSince_ < b->hibernatingSince_;
    });
    const qsizetype beyond = qsizetype(hibernating.size()) - settings_.maxHibernatingSessions;
    for (qsizetype i = 0; i < beyond; ++i) {
        qCWarning(lcDownstream) << "session" << hibernating[i]->id_ << "of resource"
                                << hibernating[i]->resource_
                                << "ends: more sessions hibernate than max_hibernating_sessions";
        hibernating[i]->endHibernation("it hibernated longest of too many");
    }
}

void Downstream::suspend()
{
    if (phase_ != Phase::Bound || !sm_.isResumable())
        return;
    leaveConnection(); // no resume timer: xbnc stops, and starts it again when it restores
    qCInfo(lcDownstream) << "session" << id_ << "suspended for a restart with" << sm_.unackedCount()
                         << "stanzas kept unacknowledged";
    // What is written still goes out (it stays unacknowledged all the same); no stream end, so
    // that the client takes it for a lost connection and resumes.
    socket_->disconnectFromHost();
}

void Downstream::endHibernation(const char *why)
{
    if (phase_ == Phase::Closed)
        return;
    qCInfo(lcDownstream).nospace() << "session " << id_ << " ends: " << why << "; "
                                   << sm_.unackedCount() << " stanzas go back to the hub";
    phase_ = Phase::Closing;
    hibernationTimer_->stop();
    // Queued, like closed() after a disconnect: the hub may be iterating over its sessions.
    QMetaObject::invokeMethod(this, &Downstream::finish, Qt::QueuedConnection);
}

bool Downstream::canBeResumed() const
{
    return sm_.isResumable() && (phase_ == Phase::Bound || phase_ == Phase::Hibernating);
}

Downstream *Downstream::resumableSession(const Element &resume, QString *condition)
{
    const QString previd = resume.attribute(u"previd");
    Downstream *earlier =
        settings_.resumableSessions ? settings_.resumableSessions->find(previd) : nullptr;
    bool valid = false;
    const quint32 h = resume.attribute(u"h").toUInt(&valid);
    if (!earlier || !earlier->canBeResumed() || !valid) {
        qCInfo(lcDownstream) << "session" << id_ << "asked to resume an unknown session";
        *condition = QStringLiteral("item-not-found");
        return nullptr;
    }
    const StreamManagement::Ack ack =
        earlier->restoredSent_ ? earlier->sm_.acknowledgeAfterRestore(h, *earlier->restoredSent_)
                               : earlier->sm_.acknowledge(h);
    if (ack == StreamManagement::Ack::TooHigh) {
        *condition = QStringLiteral("undefined-condition");
        return nullptr;
    }
    return earlier;
}

void Downstream::handleResume(const Element &resume)
{
    QString condition;
    Downstream *earlier = resumableSession(resume, &condition);
    if (!earlier && condition == u"undefined-condition")
        return failStream(u"undefined-condition", u"acknowledged more stanzas than were sent");
    if (!earlier)
        return writeSmFailed(condition);
    takeOver(*earlier);
    enterBound();
    qCInfo(lcDownstream) << "session" << id_ << "resumed as resource" << resource_ << "with"
                         << sm_.unackedCount() << "stanzas to send again";
    write("<resumed xmlns='urn:xmpp:sm:3' h='" + number(sm_.handled()) + "' previd='" +
          resume.attribute(u"previd").toLatin1() + "'/>");
    sendCatchUp();
}

void Downstream::sendCatchUp()
{
    // Everything unacknowledged, in order: what the lost connection may not have delivered,
    // then what came while hibernating. The <r/> after it marks the end of the catch-up.
    for (const QByteArray &stanza : sm_.state().unacked)
        catchUpAllowance_ += stanza.size();
    for (const QByteArray &stanza : sm_.state().unacked)
        write(stanza);
    // Even with nothing to catch up on: the client waits for this to end its catch-up.
    ackRequested_ = true;
    write(ackRequestBytes());
    // What the kernel took at once is never reported by bytesWritten(): look now as well.
    endCatchUpAllowance();
    Q_EMIT resumed();
}

void Downstream::endCatchUpAllowance()
{
    // A resume's catch-up is allowed over maxQueuedBytes until the queue is back under it.
    if (catchUpAllowance_ > 0 && socket_->bytesQueued() <= settings_.maxQueuedBytes)
        catchUpAllowance_ = 0;
}

void Downstream::takeOver(Downstream &earlier)
{
    id_ = earlier.id_;
    resource_ = earlier.resource_;
    boundResource_ = earlier.boundResource_;
    resumeTimeout_ = earlier.resumeTimeout_;
    sm_ = std::move(earlier.sm_);
    earlier.sm_ = StreamManagement(settings_.hibernationLimits);
    settings_.resumableSessions->replace(sm_.state().resumeId, this);
    earlier.handedOver();
}

void Downstream::handedOver()
{
    handedOver_ = true;
    if (phase_ == Phase::Bound) {
        // The client noticed the drop before xbnc did; the old connection is of no more use.
        failStream(u"conflict", u"the session was resumed on another connection");
        return;
    }
    phase_ = Phase::Closing;
    hibernationTimer_->stop();
    QMetaObject::invokeMethod(this, &Downstream::finish, Qt::QueuedConnection);
}

std::vector<Element> Downstream::takeUndelivered()
{
    std::vector<Element> undelivered;
    for (const QByteArray &bytes : sm_.takeUnacked()) {
        Element stanza = Element::fromXml(bytes);
        if (!stanza.name().isEmpty())
            undelivered.push_back(std::move(stanza));
    }
    return undelivered;
}

} // namespace xbnc
