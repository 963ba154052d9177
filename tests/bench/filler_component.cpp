#include "filler_component.h"

#include "wait.h"

#include <QCryptographicHash>
#include <QHostAddress>
#include <QRegularExpression>

namespace {

constexpr int handshakeTimeoutMs = 10000;
// A room of a thousand fillers makes Prosody route half a million presences here.
constexpr int barrierTimeoutMs = 300000;
constexpr int keptTail = 64; // longer than any marker scanned for
constexpr QByteArrayView errorMarker("type='error'");

QByteArray xmlEscaped(const QString &text)
{
    return text.toHtmlEscaped().toUtf8();
}

// Occurrences of `marker` in `data` that end after `from` (earlier ones were counted before).
qsizetype occurrences(const QByteArray &data, QByteArrayView marker, qsizetype from,
                      qsizetype *first)
{
    qsizetype count = 0;
    for (qsizetype at = data.indexOf(marker); at >= 0; at = data.indexOf(marker, at + 1)) {
        if (at + marker.size() <= from)
            continue;
        if (count++ == 0 && first)
            *first = at;
    }
    return count;
}

} // namespace

bool FillerComponent::connect(quint16 port, const QString &domain, const QString &secret,
                              QString *error)
{
    domain_ = domain;
    socket_.connectToHost(QHostAddress::LocalHost, port);
    QObject::connect(&socket_, &QTcpSocket::readyRead, &socket_, [this] {
        if (handshaking_)
            header_ += socket_.readAll();
        else
            scan();
    });
    const QByteArray &header = header_;
    send("<stream:stream xmlns='jabber:component:accept' "
         "xmlns:stream='http://etherx.jabber.org/streams' to='" +
         xmlEscaped(domain) + "'>");
    static const QRegularExpression idPattern(
        QStringLiteral("<stream:stream[^>]* id=['\"]([^'\"]+)"));
    QRegularExpressionMatch id;
    const auto headerIn = [&] {
        id = idPattern.match(QString::fromUtf8(header));
        return id.hasMatch() || header.contains("stream:error");
    };
    if (!waitFor(headerIn, handshakeTimeoutMs) || !id.hasMatch()) {
        *error =
            QStringLiteral("no component stream header from Prosody: ") + QString::fromUtf8(header);
        return false;
    }
    const QByteArray digest =
        QCryptographicHash::hash((id.captured(1) + secret).toUtf8(), QCryptographicHash::Sha1)
            .toHex();
    send("<handshake>" + digest + "</handshake>");
    const auto accepted = [&] {
        return header.contains("<handshake/>") || header.contains("<handshake></handshake>") ||
               header.contains("stream:error");
    };
    if (!waitFor(accepted, handshakeTimeoutMs) || header.contains("stream:error")) {
        *error = QStringLiteral("Prosody refused the component: ") + QString::fromUtf8(header);
        return false;
    }
    handshaking_ = false;
    scan(); // whatever came after the handshake
    return true;
}

QString FillerComponent::filler(int index) const
{
    return QStringLiteral("f%1@%2/f").arg(index).arg(domain_);
}

void FillerComponent::send(const QByteArray &xml)
{
    socket_.write(xml);
}

void FillerComponent::createRoom(const QString &room, int occupants,
                                 const QList<QPair<QString, QString>> &config)
{
    addOccupants(room, 0, 1);
    QByteArray fields;
    for (const auto &[var, value] : config)
        fields +=
            "<field var='" + xmlEscaped(var) + "'><value>" + xmlEscaped(value) + "</value></field>";
    if (!config.isEmpty())
        fields = "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig"
                 "</value></field>" +
                 fields;
    // Prosody handles the component's stanzas in order: the form unlocks the room before the
    // next joins arrive.
    send("<iq type='set' id='config' from='" + xmlEscaped(filler(0)) + "' to='" + xmlEscaped(room) +
         "'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' "
         "type='submit'>" +
         fields + "</x></query></iq>");
    addOccupants(room, 1, occupants - 1);
}

void FillerComponent::addOccupants(const QString &room, int first, int count)
{
    QByteArray joins;
    for (int i = first; i < first + count; ++i)
        joins += "<presence from='" + xmlEscaped(filler(i)) + "' to='" + xmlEscaped(room) + "/f" +
                 QByteArray::number(i) +
                 "'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x>"
                 "</presence>";
    send(joins);
}

void FillerComponent::sendGroupchat(const QString &room, const QString &id, const QString &body)
{
    send("<message type='groupchat' from='" + xmlEscaped(filler(0)) + "' to='" + xmlEscaped(room) +
         "' id='" + xmlEscaped(id) + "'><body>" + xmlEscaped(body) + "</body></message>");
}

bool FillerComponent::barrier(QString *error)
{
    const QByteArray id = "filler-barrier-" + QByteArray::number(++barriers_);
    awaited_ = "id='" + id + "'";
    seen_ = false;
    const qint64 errorsBefore = errors_;
    send("<iq type='get' id='" + id + "' from='" + xmlEscaped(domain_) +
         "' to='conference.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/>"
         "</iq>");
    if (!waitFor([this] { return seen_; }, barrierTimeoutMs)) {
        *error = QStringLiteral("Prosody did not answer the filler component's barrier");
        return false;
    }
    if (errors_ > errorsBefore) {
        *error = QStringLiteral("a room refused %1 filler stanzas, the first near: %2")
                     .arg(errors_ - errorsBefore)
                     .arg(QString::fromUtf8(firstError_));
        return false;
    }
    return true;
}

void FillerComponent::scan()
{
    const QByteArray chunk = socket_.readAll();
    received_ += chunk.size();
    const QByteArray data = tail_ + chunk;
    qsizetype first = -1;
    const qsizetype errors = occurrences(data, errorMarker, tail_.size(), &first);
    if (errors > 0 && errors_ == 0)
        firstError_ = data.mid(std::max<qsizetype>(0, first - 300), 600);
    errors_ += errors;
    if (!awaited_.isEmpty() && occurrences(data, awaited_, tail_.size(), nullptr) > 0)
        seen_ = true;
    tail_ = data.right(keptTail);
}

bool FillerComponent::waitFor(const std::function<bool()> &done, int timeoutMs)
{
    return waitUntil(done, QDeadlineTimer(timeoutMs), 5);
}
