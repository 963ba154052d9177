#pragma once

#include "server_stanza_counts.h"
#include "test_client.h"

#include <QString>

#include <map>
#include <optional>

// Issue #11 B5: what a user's sessions coming and going cost in presence, counted on the server
// (ServerStanzaCounts). N sessions log in one after another, each sending initial presence and
// joining a room; then all of them go, by closing the stream or by dropping the TCP connection.
// Counted: the presence the user's connections to the server carried to it (through xbnc: its one
// upstream connection; direct: the N clients' own), and the presence a peer connected straight to
// the server received (a roster contact of the user who is also in the room).
struct PresenceChurnSide
{
    QString name;              // "direct" or "xbnc"
    TestClientOptions session; // how a session logs in; the resource is set per session
    QString occupantJid;       // room/nick every session joins
    QString upstreamJidPrefix; // the server-side JIDs that carry the sessions' presence
};

enum class SessionLeave
{
    CloseStream,   // </stream:stream>, no unavailable presence first
    DropConnection // TCP gone, as a phone losing its network
};

// Presence counts added during each phase, by ServerStanzaCounts key.
struct PresenceChurnCounts
{
    std::map<QString, qint64> upstreamOnConnect;
    std::map<QString, qint64> upstreamOnLeave;
    std::map<QString, qint64> peerOnConnect;
    std::map<QString, qint64> peerOnLeave;
};

// One round of n sessions. `counter` is a client straight on the server that asks for the counts;
// `peerJid` the full JID of the watching peer. Each phase ends once the counts stop changing
// for a while (what xbnc sends because of a session is not announced to anyone the benchmark
// can wait on). nullopt with *error when a login or join failed.
std::optional<PresenceChurnCounts> runPresenceChurn(const PresenceChurnSide &side, int n,
                                                    SessionLeave leave, TestClient &counter,
                                                    const QString &peerJid, QString *error);

// "2 (in presence available conference.localhost: 1, …)": a total and what it is made of.
QString describeCounts(const std::map<QString, qint64> &counts);
qint64 total(const std::map<QString, qint64> &counts);
