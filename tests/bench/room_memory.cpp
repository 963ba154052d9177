#include "room_memory.h"

#include "bouncer_fixture.h"
#include "filler_component.h"
#include "muc_helpers.h"
#include "stanza_match.h"

#include <QSet>

#include <cstdio>

namespace {

constexpr int stepTimeoutMs = 300000;

} // namespace

RoomMemory::RoomMemory(BouncerFixture &fixture, FillerComponent &fillers)
    : fixture_(fixture), fillers_(fillers)
{
}

QString RoomMemory::room(int index) const
{
    return QStringLiteral("b4-%1@conference.localhost").arg(index);
}

qint64 RoomMemory::settledResidentKiB()
{
    // A round trip through xbnc and Prosody: xbnc has handled everything before the pong.
    session_->roundTrip(QDeadlineTimer(stepTimeoutMs));
    session_->takeBuffered();
    return residentKiB(fixture_.xbnc().processId());
}

std::optional<qint64> RoomMemory::joinRooms(TestClient &client, const QString &nick, int from,
                                            int to, QString *error)
{
    QElapsedTimer clock;
    clock.start();
    QByteArray joins;
    for (int i = from; i < to; ++i)
        joins += muc::joinPresence(room(i) + u'/' + nick);
    client.send(joins);
    // A join ends with the room's subject; they need not come in the order of the joins. Each
    // stanza is read once: searching the buffer per room would cost the client quadratic time.
    QSet<QString> waiting;
    for (int i = from; i < to; ++i)
        waiting.insert(room(i));
    const QDeadlineTimer deadline(stepTimeoutMs);
    while (!waiting.isEmpty()) {
        const std::optional<XmlNode> stanza = client.readStanza(deadline);
        if (!stanza) {
            *error = QStringLiteral("%1 joins without a subject: %2")
                         .arg(waiting.size())
                         .arg(client.errorString());
            return std::nullopt;
        }
        if (muc::isSubjectMessage(*stanza))
            waiting.remove(stanza->attribute(u"from"));
    }
    // Until the server has handled everything the joins caused: what xbnc asks of each room
    // with its join is part of the cost.
    if (!client.roundTrip(deadline)) {
        *error = QStringLiteral("no round trip after the joins: ") + client.errorString();
        return std::nullopt;
    }
    return clock.elapsed();
}

std::optional<qint64> RoomMemory::timeDirectJoins(int rooms, QString *error)
{
    TestClient *direct = fixture_.direct(QStringLiteral("carol"));
    if (!direct) {
        *error = fixture_.errorString();
        return std::nullopt;
    }
    const std::optional<qint64> ms = joinRooms(*direct, QStringLiteral("carol"), 0, rooms, error);
    if (!ms)
        return std::nullopt;
    // Out again, so that xbnc's rooms hold only the fillers; Prosody handles the leaves in
    // order, so the last one's answer means all are done.
    QByteArray leaves;
    for (int i = 0; i < rooms; ++i)
        leaves += muc::leavePresence(room(i) + QStringLiteral("/carol"));
    direct->send(leaves);
    const QString last = room(rooms - 1) + QStringLiteral("/carol");
    if (!direct->readUntil(muc::presenceFrom(last, QStringLiteral("unavailable")),
                           QDeadlineTimer(stepTimeoutMs))) {
        *error = QStringLiteral("no leave from %1: %2").arg(last, direct->errorString());
        return std::nullopt;
    }
    direct->takeBuffered();
    return ms;
}

bool RoomMemory::measure(int rooms, int perRoom, QList<BenchRow> *rows, QString *error)
{
    for (int i = 0; i < rooms; ++i)
        fillers_.createRoom(room(i), 1);
    if (!fillers_.barrier(error))
        return false;
    session_ = fixture_.session(QStringLiteral("rooms"));
    if (!session_) {
        *error = fixture_.errorString();
        return false;
    }
    clock_.start();
    const std::optional<qint64> directMs = timeDirectJoins(rooms, error);
    if (!directMs)
        return false;
    std::fprintf(stderr, "B4 direct client joined %d rooms in %lld ms\n", rooms, *directMs);
    const qint64 base = settledResidentKiB();
    std::fprintf(stderr, "B4 xbnc RSS with no rooms: %lld KiB\n", base);
    int joined = 0;
    qint64 xbncMs = 0;
    for (int stage : {1, std::min(100, rooms), rooms}) {
        if (stage <= joined)
            continue;
        const std::optional<qint64> ms =
            joinRooms(*session_, QStringLiteral("alice"), joined, stage, error);
        if (!ms)
            return false;
        xbncMs += *ms;
        joined = stage;
        const qint64 rss = settledResidentKiB();
        std::fprintf(stderr, "B4 xbnc RSS in %d rooms: %lld KiB (at %.1f s)\n", joined, rss,
                     double(clock_.elapsed()) / 1000);
        rows->append(
            {QStringLiteral("B4"),
             QStringLiteral("xbnc RSS, account in %1 rooms of 2 occupants").arg(joined),
             QStringLiteral("KiB"),
             std::nullopt,
             double(rss),
             {},
             std::nullopt,
             QStringLiteral("%1 KiB with no room; xbnc alone (no direct counterpart)").arg(base)});
    }

    std::fprintf(stderr, "B4 xbnc's account joined %d rooms in %lld ms\n", rooms, xbncMs);
    rows->append({QStringLiteral("B4"),
                  QStringLiteral("time for the account to join %1 rooms (until the server is idle)")
                      .arg(rooms),
                  QStringLiteral("ms"),
                  double(*directMs),
                  double(xbncMs),
                  {},
                  std::nullopt,
                  QStringLiteral("one client sends all joins at once; xbnc's in batches of 1, "
                                 "99 and the rest, the sum of the three")});

    const qint64 before = settledResidentKiB();
    for (int i = 0; i < rooms; ++i)
        fillers_.addOccupants(room(i), 1, perRoom - 1);
    if (!fillers_.barrier(error))
        return false;
    // xbnc handles upstream stanzas in order and fans each one out to the session at once: the
    // last filler's presence in the last room means it has cached them all.
    const QString last = room(rooms - 1) + QStringLiteral("/f%1").arg(perRoom - 1);
    if (!session_->readUntil(muc::presenceFrom(last), QDeadlineTimer(stepTimeoutMs))) {
        *error = QStringLiteral("no presence of %1: %2").arg(last, session_->errorString());
        return false;
    }
    const qint64 after = settledResidentKiB();
    const qint64 added = qint64(rooms) * (perRoom - 1);
    const double bytesEach = double(after - before) * 1024 / double(added);
    std::fprintf(stderr, "B4 xbnc RSS %lld → %lld KiB for %lld more occupants: %.0f B each\n",
                 before, after, added, bytesEach);
    rows->append({QStringLiteral("B4"),
                  QStringLiteral("bytes per cached occupant (%1 occupants in %2 rooms)")
                      .arg(qint64(rooms) * perRoom)
                      .arg(rooms),
                  QStringLiteral("bytes"), std::nullopt, bytesEach, QStringLiteral("≤ 1024 B"),
                  bytesEach <= 1024,
                  QStringLiteral("xbnc's RSS growth %1 → %2 KiB over %3 occupants joining")
                      .arg(before)
                      .arg(after)
                      .arg(added)});
    return true;
}
