#pragma once

#include "bench_rows.h"

#include <QElapsedTimer>
#include <QList>
#include <QString>

#include <optional>

class BouncerFixture;
class FillerComponent;
class TestClient;

// B4 rooms (issue #11): xbnc's resident set with the account in 1, 100 and `rooms` rooms of one
// filler each, then the growth when `perRoom` - 1 more fillers join every room, divided by the
// occupants added: what one cached occupant costs. xbnc alone: a direct client's rooms live in
// Prosody's memory, mixed with the room state Prosody keeps in any case.
class RoomMemory
{
public:
    RoomMemory(BouncerFixture &fixture, FillerComponent &fillers);

    bool measure(int rooms, int perRoom, QList<BenchRow> *rows, QString *error);

private:
    // The client joins rooms [from, to) as `nick` and reads every join to its subject: the time
    // that took, in ms.
    std::optional<qint64> joinRooms(TestClient &client, const QString &nick, int from, int to,
                                    QString *error);
    // A client straight on Prosody joins all the rooms, then leaves them: the joins' time.
    std::optional<qint64> timeDirectJoins(int rooms, QString *error);
    qint64 settledResidentKiB();
    QString room(int index) const;

    BouncerFixture &fixture_;
    FillerComponent &fillers_;
    TestClient *session_ = nullptr;
    QElapsedTimer clock_; // for the progress lines on stderr
};
