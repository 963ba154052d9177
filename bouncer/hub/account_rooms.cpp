#include "account.h"

#include "room_archive.h"
#include "stanza_error.h"
#include "xmpp_ns.h"

#include <QLoggingCategory>
#include <QRandomGenerator>

Q_DECLARE_LOGGING_CATEGORY(lcAccount)

// The account's side of group chats: which Room a stanza belongs to, bookmarks that make the
// account join or leave, the rooms' health checks, and rooms restored after a restart.

namespace xbnc {

Room *Account::existingRoom(const Jid &jid) const
{
    if (!jid.isValid() || jid.local().isEmpty())
        return nullptr;
    auto it = rooms_.find(jid.bareString());
    return it == rooms_.end() ? nullptr : it->second.get();
}

bool Account::answerFromRoomLog(SessionId id, const Element &iq)
{
    const Jid to(iq.attribute(u"to"));
    Room *room = to.isBare() ? existingRoom(to) : nullptr;
    if (!room || room->archive() != Room::Archive::Log || !room->isAccountIn())
        return false;
    if (RoomArchive::isFormRequest(iq)) {
        sendToSession(id, RoomArchive::form(iq));
        return true;
    }
    if (!RoomArchive::isQuery(iq))
        return false;
    // The log is what the account saw while in the room, and the room shows its archive only
    // to whom it lets in (Prosody's mod_muc_mam: forbidden for outcasts and non-members):
    // xbnc shows it to the sessions that joined.
    if (!room->isJoined(id)) {
        sendToSession(id, stanza::error(iq, stanza::ErrorType::Auth, QStringLiteral("forbidden")));
        return true;
    }
    for (const Element &stanza :
         RoomArchive::answer(room->log(), iq, room->jid(), boundJid().toString()))
        sendToSession(id, stanza);
    return true;
}

void Account::roomJoinCompleted(const Room &room)
{
    // Whether the room keeps an archive decides where MAM queries go and whose stanza-ids the
    // sessions see; clients do not always ask (docs/ROOMS.md "Room archive"). Asked on every
    // join: a room's configuration may have changed while the account was out. Mostly asked
    // with the join already (roomToUpstream); here when the join went up without it.
    if (!roomInfoAsked_.remove(room.jid()))
        askRoomInfo(room.jid());
}

void Account::askRoomInfo(const QString &roomJid)
{
    Element info(QStringLiteral("iq"), xmlns::client);
    info.setAttribute(QStringLiteral("type"), QStringLiteral("get"));
    info.setAttribute(QStringLiteral("to"), roomJid);
    info.addChild(Element(QStringLiteral("query"), xmlns::discoInfo));
    request(std::move(info), IqRouter::Purpose::RoomInfo, roomJid);
}

QString Account::joinedRoomOf(const Element &stanza) const
{
    if (stanza.name() != u"presence" || stanza.hasAttribute(u"type") ||
        !stanza.firstChild(u"x", Room::mucNs))
        return {};
    const Room *room = existingRoom(Jid(stanza.attribute(u"to")));
    if (!room || (room->phase() != Room::Phase::Joining && room->phase() != Room::Phase::Rejoining))
        return {};
    return room->jid();
}

void Account::roomInfoAnswered(const QString &roomJid, const Element &reply)
{
    if (reply.attribute(u"type") != u"result") {
        qCInfo(lcAccount) << "the room" << roomJid
                          << "did not say whether it has an archive; asking again on the next join";
        return;
    }
    Element answer = reply; // roomDiscoAnswered adds xbnc's features for a session to see
    roomDiscoAnswered(roomJid, answer);
}

void Account::roomsTick()
{
    if (!upstreamOnline_)
        return;
    const QDateTime now = now_();
    for (auto &[jid, room] : rooms_) {
        room->tick(now);
        if (std::optional<Element> ping = room->selfPingIfDue(now))
            request(std::move(*ping), IqRouter::Purpose::SelfPing, jid);
    }
}

void Account::selfPingAnswered(const QString &roomJid, const Element *reply)
{
    // IqRouter checked that the answer comes from the occupant JID that was pinged; no reply
    // means the request's deadline passed.
    Room *room = existingRoom(Jid(roomJid));
    if (!room)
        return;
    if (reply)
        room->selfPingAnswered(*reply);
    else
        room->selfPingTimedOut();
}

void Account::setRoomTiming(const Room::Timing &timing)
{
    roomTiming_ = timing;
    for (auto &[jid, room] : rooms_)
        room->setTiming(timing);
}

void Account::followBookmarkChange(const Element &pubsub)
{
    // The server only notifies resources whose caps ask for bookmarks, and xbnc's presence
    // carries a session's caps: a change made through xbnc is followed as it goes by.
    const QString &pubsubNs = xmlns::pubsub;
    if (pubsub.name() != u"pubsub" || pubsub.xmlns() != pubsubNs)
        return;
    for (const Element &action : pubsub.children()) {
        if (action.attribute(u"node") != bookmarks::node)
            continue;
        if (action.name() == u"publish") {
            Element items(QStringLiteral("items"), pubsubNs);
            for (const Element &item : action.children())
                if (item.name() == u"item")
                    items.addChild(item);
            applyBookmarks(items, BookmarkSource::SessionPublish);
        } else if (action.name() == u"retract") {
            Element items(QStringLiteral("items"), pubsubNs);
            for (const Element &item : action.children()) {
                Element retract(QStringLiteral("retract"), pubsubNs);
                retract.setAttribute(QStringLiteral("id"), item.attribute(u"id"));
                items.addChild(std::move(retract));
            }
            applyBookmarks(items, BookmarkSource::SessionPublish);
        }
    }
}

void Account::applyBookmarks(const Element &items, BookmarkSource source)
{
    const bool changed = source != BookmarkSource::List;
    for (const Element &c : items.children()) {
        if (c.name() == u"item") {
            if (const std::optional<Bookmark> bookmark = bookmarks::fromItem(c))
                applyBookmark(*bookmark, source);
        } else if (c.name() == u"retract" && changed) {
            if (Room *room = existingRoom(Jid(c.attribute(u"id")))) {
                room->setPersistent(allRoomsPersistent_);
                room->leaveAsAccount();
            }
        }
    }
}

void Account::applyBookmark(const Bookmark &bookmark, BookmarkSource source)
{
    const bool changed = source != BookmarkSource::List;
    Room *existing = existingRoom(Jid(bookmark.roomJid));
    if (!bookmark.autojoin && !existing)
        return;
    Room &room = existing ? *existing : roomFor(bookmark.roomJid);
    if (source == BookmarkSource::SessionPublish)
        room.forgetRemoval(); // the user looked at the bookmark again
    if (!bookmark.password.isEmpty())
        room.setPassword(bookmark.password);
    if (!bookmark.autojoin) {
        room.setPersistent(allRoomsPersistent_);
        // Only a change leaves: a room a session joined without autojoin stays at start.
        if (changed)
            room.leaveAsAccount();
        return;
    }
    room.setPersistent(true); // an autojoin bookmark keeps the account in the room
    // A kick, ban or destroyed room is not undone by the bookmark the user had before.
    if (upstreamOnline_ && !room.isAccountIn() && room.removal().isEmpty())
        room.joinAsAccount(bookmark.nick.isEmpty() ? account_.local() : bookmark.nick);
}

Room &Account::roomFor(const QString &roomJid)
{
    std::unique_ptr<Room> &room = rooms_[roomJid];
    if (!room) {
        Room::Output &output = *this;
        room = std::make_unique<Room>(
            roomJid, output, [this] { return now_(); }, roomLogSize_);
        room->setPersistent(allRoomsPersistent_);
        room->setTiming(roomTiming_);
        room->setRandom([] { return QRandomGenerator::global()->generateDouble(); });
        room->setArchive(roomArchives_.value(roomJid, Room::Archive::Unknown));
    }
    return *room;
}

const Room *Account::room(const QString &roomJid) const
{
    auto it = rooms_.find(Jid(roomJid).bareString());
    return it == rooms_.end() ? nullptr : it->second.get();
}

void Account::setRoomPersistent(const QString &roomJid, bool persistent)
{
    roomFor(Jid(roomJid).bareString()).setPersistent(persistent);
}

void Account::restoreRoom(const QString &roomJid, const QString &nick, const QString &password,
                          bool persistent, std::vector<RoomLog::Entry> log, Room::Archive archive)
{
    Room &room = roomFor(Jid(roomJid).bareString());
    if (archive != Room::Archive::Unknown) {
        roomArchives_.insert(room.jid(), archive);
        room.setArchive(archive);
    }
    room.setPersistent(room.isPersistent() || persistent || allRoomsPersistent_);
    room.restore(nick, password, std::move(log));
}

void Account::restoreRoomRemoval(const QString &roomJid, const QString &removal)
{
    roomFor(Jid(roomJid).bareString()).restoreRemoval(removal);
}

} // namespace xbnc
