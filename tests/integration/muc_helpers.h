#pragma once

#include "xml_node.h"

#include <QDeadlineTimer>
#include <QList>
#include <QPair>
#include <QSet>
#include <QString>

#include <functional>
#include <optional>

class TestClient;

// XEP-0045 vocabulary for integration tests: building MUC stanzas as a client writes them and
// recognising what a room sends. Independent of xbnc's own room code.
namespace mucns {
inline constexpr char16_t muc[] = u"http://jabber.org/protocol/muc";
inline constexpr char16_t user[] = u"http://jabber.org/protocol/muc#user";
inline constexpr char16_t admin[] = u"http://jabber.org/protocol/muc#admin";
inline constexpr char16_t owner[] = u"http://jabber.org/protocol/muc#owner";
inline constexpr char16_t delay[] = u"urn:xmpp:delay";
inline constexpr char16_t sid[] = u"urn:xmpp:sid:0";
inline constexpr char16_t stanzas[] = u"urn:ietf:params:xml:ns:xmpp-stanzas";
} // namespace mucns

namespace muc {

using Predicate = std::function<bool(const XmlNode &)>;

// Available presence to room/nick with <x xmlns=muc>; `insideX` goes into the <x/> (e.g.
// "<history maxstanzas='2'/>").
QByteArray joinPresence(const QString &occupantJid, const QByteArray &insideX = {});
QByteArray leavePresence(const QString &occupantJid);
// A groupchat message to the room with that id and body.
QByteArray groupchat(const QString &room, const QString &id, const QString &body);

// The status codes of the stanza's <x xmlns=muc#user/>.
QSet<int> statusCodes(const XmlNode &stanza);
// The first <item/> of the stanza's <x xmlns=muc#user/>, or nullptr.
const XmlNode *userItem(const XmlNode &stanza);
// The defined condition of a stanza's <error/> ("conflict", …), empty when there is none.
QString errorCondition(const XmlNode &stanza);

bool isFromRoom(const XmlNode &stanza, const QString &room); // the room or one of its occupants
bool isSubjectMessage(const XmlNode &stanza);                // groupchat, <subject/>, no body

// A presence from exactly that occupant JID with that type ("" = available).
Predicate presenceFrom(const QString &occupantJid, const QString &type = {});
// A presence from exactly that occupant JID, whatever its type.
Predicate anyPresenceFrom(const QString &occupantJid);
// The subject message of that room (the last stanza of a join).
Predicate subjectOf(const QString &room);
// A groupchat message from the room whose body is `body`.
Predicate groupchatWithBody(const QString &room, const QString &body);
// Any stanza from the room or one of its occupants.
Predicate fromRoom(const QString &room);

// Reads the stanzas of a join, from the first room stanza up to and including the subject
// message, in arrival order (stanzas from elsewhere stay buffered). nullopt on timeout.
std::optional<QList<XmlNode>> readJoin(TestClient &client, const QString &room,
                                       QDeadlineTimer deadline = QDeadlineTimer(10000));

// Sends a join and reads it to the end (see readJoin); on failure *error says why.
std::optional<QList<XmlNode>> join(TestClient &client, const QString &occupantJid, QString *error,
                                   const QByteArray &insideX = {});

// `owner` (logged in straight to the server) creates the room with that nick and submits the
// configuration form: the instant room when `config` is empty, otherwise a
// muc#roomconfig form with those fields (var, value). The room is unlocked on success.
bool createRoom(TestClient &owner, const QString &room, const QString &nick,
                const QList<QPair<QString, QString>> &config, QString *error);

// Sends an IQ and waits for its reply; nullopt (with *error) on timeout.
std::optional<XmlNode> request(TestClient &client, const QString &id, const QByteArray &iq,
                               QString *error);

// Human-readable list of stanzas for failure messages.
QString describe(const QList<XmlNode> &stanzas);

// XEP-0402: publishes an autojoin bookmark for the room with that nick (persisted, private,
// as clients do); false with *error unless the server answered with a result.
bool publishAutojoinBookmark(TestClient &client, const QString &room, const QString &nick,
                             QString *error);

} // namespace muc
