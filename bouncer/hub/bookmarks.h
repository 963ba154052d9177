#pragma once

#include "element.h"

#include <QString>

#include <optional>
#include <vector>

namespace xbnc {

// XEP-0402 PEP native bookmarks: which rooms the user wants the account in. xbnc reads them at
// start and follows their notifications, so that an autojoin bookmark set on any client joins the
// room, and its retraction leaves it.
struct Bookmark
{
    QString roomJid;
    QString name;
    bool autojoin = false;
    QString nick;
    QString password;
};

namespace bookmarks {
inline const QString node = QStringLiteral("urn:xmpp:bookmarks:1");

// <iq type='get'> for every bookmark item of the account.
Element request(const QString &id);
// One <item id=ROOMJID><conference xmlns='urn:xmpp:bookmarks:1' …/></item>; nothing when it is
// not a bookmark.
std::optional<Bookmark> fromItem(const Element &item);
// The <items node='urn:xmpp:bookmarks:1'> of a pubsub result or of a pubsub event message.
const Element *itemsOf(const Element &stanza);

// XEP-0048 bookmarks in XEP-0049 private storage, for servers without XEP-0402.
Element legacyRequest(const QString &id);
std::vector<Bookmark> fromLegacyStorage(const Element &result);
} // namespace bookmarks

} // namespace xbnc
