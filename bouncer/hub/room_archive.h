#pragma once

#include "element.h"
#include "room_log.h"

#include <QString>

#include <vector>

namespace xbnc {

// XEP-0313 for a room that keeps no archive of its own: xbnc answers a session's queries to the
// room's JID from the room's RoomLog, paged with XEP-0059, as a room with MAM would. Pure: the
// log and the query in, the stanzas to send out (docs/ROOMS.md "Room archive").
//
// The ids are the XEP-0359 stanza-ids xbnc stamps on the room's messages as it logs them
// (withOwnStanzaId), so the id a client saw live, in a join's history and in a MAM result is one.
class RoomArchive
{
public:
    // A query without <max/> gets as many as Prosody's mod_muc_mam gives; a larger <max/> is
    // cut to maxPage (the answer then says complete='false').
    static constexpr int defaultPage = 20;
    static constexpr int maxPage = 250;

    // <iq type='set'><query xmlns='urn:xmpp:mam:2'/></iq>
    static bool isQuery(const Element &iq);
    // <iq type='get'><query xmlns='urn:xmpp:mam:2'/></iq>: which form fields a query may use.
    static bool isFormRequest(const Element &iq);

    // The answer to a query, every stanza addressed to `sessionJid`: the <result/> messages
    // (from the room's bare JID) oldest first, then the IQ result with <fin/> and its RSM
    // <set/>; or only an IQ error: bad-request for a malformed form or <max/>, item-not-found
    // for an <after/> or <before/> id that is not (or no longer) in the log.
    static std::vector<Element> answer(const RoomLog &log, const Element &query,
                                       const QString &roomJid, const QString &sessionJid);
    // The result to a form request (XEP-0313 §5.1).
    static Element form(const Element &request);

    // `message` with any <stanza-id by=room/> removed (the room keeps no archive, so such an id
    // is made up by whoever sent it) and a fresh one of xbnc's added, by the room's bare JID.
    static Element withOwnStanzaId(const Element &message, const QString &roomJid);
};

} // namespace xbnc
