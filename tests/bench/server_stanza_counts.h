#pragma once

#include <QString>
#include <QStringView>

#include <map>
#include <optional>

class ProsodyFixture;
class TestClient;

// What Prosody's client sessions exchanged with it, as counted on the server by
// mod_bench_stanza_count (tests/bench/prosody): per bound full JID, the top-level elements in
// each direction by kind. Keys are "in message", "out iq", and for presence "in presence
// available conference.localhost" (type or <show/>, then the host it is addressed to or comes
// from, "-" for none). Counting on the server means neither side grades itself and TLS stays as it
// is.
class ServerStanzaCounts
{
public:
    // Loads the counting module into `prosody`; call before it starts.
    static void enableOn(ProsodyFixture &prosody);
    // Asks the server through `asker`, a client logged in straight to it, whose own stanzas are
    // left out; nullopt (with *error) when there was no answer.
    static std::optional<ServerStanzaCounts> read(TestClient &asker, QString *error);

    // Summed over every full JID starting with `jidPrefix` ("bob@localhost/" for all of bob's
    // resources) and every key starting with `keyPrefix` ("out message").
    qint64 sum(QStringView jidPrefix, QStringView keyPrefix) const;
    // The same, split by key: for telling what a count is made of.
    std::map<QString, qint64> byKey(QStringView jidPrefix, QStringView keyPrefix) const;

    bool operator==(const ServerStanzaCounts &) const = default;

private:
    std::map<QString, std::map<QString, qint64>> counts_; // full JID → key → count
};

// after.byKey − before.byKey, without the keys that did not change.
std::map<QString, qint64> countsAdded(const ServerStanzaCounts &before,
                                      const ServerStanzaCounts &after, QStringView jidPrefix,
                                      QStringView keyPrefix);
