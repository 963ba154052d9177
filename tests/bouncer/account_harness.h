#pragma once

#include "account.h"

#include <QHash>
#include <QString>
#include <QStringList>

#include <deque>
#include <map>
#include <vector>

// The harness's expect…() calls return a problem description, empty when all is well.
#define EXPECT(expr)                                                                               \
    do {                                                                                           \
        const QString problem_ = (expr);                                                           \
        QVERIFY2(problem_.isEmpty(), qPrintable(problem_));                                        \
    } while (false)

namespace xbnc::test {

// Canonical XML of an element: attributes sorted, so tests compare structure, not attribute
// order; XEP-0203 delay stamps compared as instants (2026-01-01T00:00:00Z equals
// 2026-01-01T00:00:00.000Z and 2026-01-01T01:00:00+01:00).
QString canonical(const Element &element);
QString canonical(const QString &xml);

// What the tests' Account is bound to upstream (AccountHarness::online), and the requests it
// makes upstream on every connect, with the names the harness gives their ids.
inline const QString boundJid = QStringLiteral("alice@example.org/xbnc");
inline const QString carbonsEnable =
    QStringLiteral("<iq type='set' id='xbnc-carbons'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
inline const QString bookmarksRequest = QStringLiteral(
    "<iq type='get' id='xbnc-bookmarks'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items "
    "node='urn:xmpp:bookmarks:1'/></pubsub></iq>");

// Feeds an Account stanzas and records what it sends where (QXmpp's TestClient idea).
class AccountHarness : public Account::Output
{
public:
    struct Sent
    {
        enum Target
        {
            Upstream,
            Session,
            Close
        } target;
        SessionId session = 0;
        Element stanza;
    };

    explicit AccountHarness(std::chrono::milliseconds iqTimeout = std::chrono::seconds(60),
                            PresenceAggregate::Idle idle = {});

    Account account;
    std::deque<Sent> sent;

    void fromUpstream(const QString &xml);
    void fromSession(SessionId session, const QString &xml);
    void bind(SessionId session, const QString &resource, bool withPresence = true);
    // Upstream comes online as alice@example.org/xbnc; what the account sends then is cleared.
    void online();
    QString resourceOf(SessionId session) const { return resources_.value(session); }

    // Take the next output; a mismatch fails the calling test through the returned message.
    // Empty string: it matched.
    QString expectUpstream(const QString &xml);
    QString expectToSession(SessionId session, const QString &xml);
    QString expectClose(SessionId session);
    QString expectNothing();
    // What xbnc asks the server last when it comes online: the domain's disco#info (for the
    // server's caps) and the roster (for its cache).
    QString expectServerInfoAndRoster();
    // Several outputs in a row, each to that session; the stanzas are written as the server sent
    // them to xbnc (to='alice@example.org/xbnc'), and that address becomes the session's JID.
    QString expectRelayed(SessionId session, const QStringList &fromServer);
    QString expectRelayed(SessionId session, const QString &fromServer)
    {
        return expectRelayed(session, QStringList{fromServer});
    }
    // One stanza the server sent, fanned out: the next outputs are one copy per session, in any
    // order, each with that session's JID as 'to'.
    QString expectFanOut(const QList<SessionId> &sessions, const QString &fromServer);
    // xbnc's own disco#info of a room whose join completed, next / anywhere among the outputs
    // (taken out); its id is named xbnc-roominfo-ROOM for fromUpstream.
    QString expectRoomInfo(const QString &roomJid);
    QString takeRoomInfo(const QString &roomJid);
    // The next output, whatever it is (for ids the hub made up).
    Sent take();
    void clear() { sent.clear(); }

    void toUpstream(const Element &stanza) override;
    void toSession(SessionId session, const Element &stanza) override;
    // Hands back what the test put in unacknowledged[session], as the edge does with what the
    // replaced session's client never acknowledged (XEP-0198).
    std::vector<Element> sessionReplaced(SessionId session) override;
    std::map<SessionId, std::vector<Element>> unacknowledged;

    // The rooms' clock (Account::roomsTick); self-ping ids are named xbnc-selfping-ROOM.
    // The harness sets no silence before a self-ping, so every joined room is pinged.
    void roomsTick();
    void selfPingRooms() { roomsTick(); }

private:
    static QString ownRequestName(const Element &iq);
    QString describe(const Sent &s) const;
    QHash<SessionId, QString> resources_;
    // Names tests use for xbnc's own request ids (xbnc-bookmarks…) → the ids xbnc made up.
    QHash<QString, QString> ownIds_;
    bool roomPings_ = false;
};

// `presence` as xbnc sends it upstream: with xbnc's own XEP-0115 <c/> last, for its own features
// plus sessionFeatures, and the client type of the leading session.
QString withOwnCaps(const QString &presence, const QStringList &sessionFeatures = {},
                    const QString &clientType = QStringLiteral("pc"));
// The idle presence the tests' Account sends upstream with no session.
QString idlePresence();

// What a session receives of a stanza the server addressed to xbnc (alice@example.org/xbnc):
// the same stanza to the session's JID. Only the 'to' attribute is rewritten.
QString relayedTo(const QString &fromServer, const QString &resource);

// room@conference.example.org as the room introduces it to a joining client (XEP-0045 §7.1):
// the shared prefix of the room tests (biboumi's joined-channel scenarios). Every stanza is
// written as the server sends it to xbnc.
struct RoomScript
{
    static const QString jid; // room@conference.example.org
    QString nick = QStringLiteral("alice");
    QStringList occupants; // the other occupants' presences
    QString self;          // the account's own presence
    QStringList history;   // discussion history, with the room's <delay/>
    QString subject;

    QStringList all() const; // in the order the room sends them
    // The occupant JID of a nick.
    static QString occupant(const QString &nick) { return jid + u'/' + nick; }
};

// Two occupants (bob: owner and moderator, with caps; carol: away member), the account as
// 'alice' in a non-anonymous logged room (100, 110, 170), two history messages, a subject.
RoomScript standardRoom();
// The join a session sends: <presence to='room/nick'><x xmlns=muc>payload</x></presence>.
QString joinPresence(const QString &nick = QStringLiteral("alice"), const QString &payload = {});
// xbnc's own disco#info of a room whose join completed, with the id tests name it by.
QString roomInfoRequest(const QString &roomJid);
// A session, already bound, joins as the first one; the room answers with the script; the
// output is checked to be exactly that (the join upstream, the script to the session) and
// cleared.
QString joinFirst(AccountHarness &h, SessionId session, const RoomScript &script = standardRoom());

} // namespace xbnc::test
