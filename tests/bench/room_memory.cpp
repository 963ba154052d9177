#include "room_memory.h"

#include "bouncer_fixture.h"
#include "filler_component.h"
#include "muc_helpers.h"
#include "stanza_match.h"

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

bool RoomMemory::joinRooms(int from, int to, QString *error)
{
    QByteArray joins;
    for (int i = from; i < to; ++i)
        joins += muc::joinPresence(room(i) + QStringLiteral("/alice"));
    session_->send(joins);
    // xbnc answers each join when the room's subject came: the last room's subject may come
    // before another's, so every one is waited for.
    const QDeadlineTimer deadline(stepTimeoutMs);
    for (int i = from; i < to; ++i) {
        if (!session_->readUntil(muc::subjectOf(room(i)), deadline)) {
            *error = QStringLiteral("no subject from %1: %2").arg(room(i), session_->errorString());
            return false;
        }
    }
    session_->takeBuffered();
    return true;
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
    const qint64 base = settledResidentKiB();
    std::fprintf(stderr, "B4 xbnc RSS with no rooms: %lld KiB\n", base);
    int joined = 0;
    for (int stage : {1, std::min(100, rooms), rooms}) {
        if (stage <= joined)
            continue;
        if (!joinRooms(joined, stage, error))
            return false;
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
