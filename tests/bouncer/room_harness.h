#pragma once

#include "account_harness.h"
#include "room.h"

#include <QDateTime>
#include <QList>
#include <QString>

#include <chrono>
#include <deque>

namespace xbnc::test {

// Drives one Room directly, without an Account (QXmpp's TestClient idea): stanzas in as the
// server or a session sends them, outputs compared as canonical XML. Addresses stay as the
// room wrote them: no session JIDs, 'to' is the account's upstream JID or absent.
class RoomHarness : public Room::Output
{
public:
    static const QString jid; // room@conference.example.org

    RoomHarness();

    QDateTime now = QDateTime::fromSecsSinceEpoch(1800000000, Qt::UTC);
    Room room;

    // Stanzas from the server (addressed to alice@example.org/xbnc).
    void fromUpstream(const QString &xml);
    // From a session: presences and groupchat messages to the room, self-pings to the account's
    // occupant JID (answered by the room; the answer is an output to that session).
    void fromSession(SessionId session, const QString &xml);
    // The clock moves on and the room's timers run, as Account::roomsTick does.
    void advance(std::chrono::seconds by);

    QString expectUpstream(const QString &xml);
    QString expectToSession(SessionId session, const QString &xml);
    // One stanza to each of these sessions, in any order.
    QString expectToSessions(const QList<SessionId> &sessions, const QString &xml);
    QString expectNothing();
    void clear() { sent_.clear(); }

    void roomToUpstream(const Element &stanza) override;
    void roomToSession(SessionId session, const Element &stanza) override;
    void roomToSessions(const std::set<SessionId> &sessions, const Element &stanza) override;
    // Also kept as they came, for tests of the bytes; each stanza is expected as any other.
    void roomToSessionSerialized(SessionId session, const QList<QByteArray> &stanzas) override;
    // The cached occupants' replays to sessions, one entry per call: the bytes joined.
    QList<std::pair<SessionId, QByteArray>> serializedReplays;

private:
    struct Sent
    {
        bool upstream = false;
        SessionId session = 0;
        Element stanza;
    };
    QString describe(const Sent &sent) const;
    std::deque<Sent> sent_;
};

// The short room most RoomHarness tests start from: bob is there, the account is 'alice', one
// history message from the room (stamped 2027-01-15T07:00:00Z), a subject.
namespace smallRoom {
QString bob();
QString self(const QString &nick = QStringLiteral("alice"), const QString &codes = {});
QString history();
QString subject();
QString join(const QString &nick = QStringLiteral("alice"), const QString &payload = {});
} // namespace smallRoom

// The sessions join (the first upstream, the others by replay) and the room answers with
// smallRoom; outputs are cleared. Returns a problem, empty when all went as expected.
QString joinedRoom(RoomHarness &h, const QList<SessionId> &sessions);

} // namespace xbnc::test
