#pragma once

#include "bench_rows.h"

#include <QElapsedTimer>
#include <QList>
#include <QString>

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
    // A session joins rooms [from, to) and reads every join to its subject.
    bool joinRooms(int from, int to, QString *error);
    qint64 settledResidentKiB();
    QString room(int index) const;

    BouncerFixture &fixture_;
    FillerComponent &fillers_;
    TestClient *session_ = nullptr;
    QElapsedTimer clock_; // for the progress lines on stderr
};
