#pragma once

#include "element.h"

#include <QHash>
#include <QString>

#include <vector>

namespace xbnc {

// What the server has told the account about its contacts: their current presence per full
// JID and subscription requests not yet answered. A session that sends its initial presence
// later gets these at once, as it would from a server.
class ContactPresences
{
public:
    // An available/unavailable/error presence from a contact.
    void update(const Element &presence);
    void addSubscriptionRequest(const Element &presence);
    // The user answered (subscribed/unsubscribed to that JID): the request is settled.
    void settleSubscriptionRequest(const QString &bareJid);

    std::vector<Element> available() const;
    std::vector<Element> pendingRequests() const;
    // Unavailable presences for every cached contact, then forgets them (upstream went away).
    std::vector<Element> takeAllAsUnavailable();
    qsizetype size() const { return presences_.size(); }

private:
    QHash<QString, Element> presences_; // full JID → last available presence
    QHash<QString, Element> requests_;  // bare JID → subscribe presence
    std::vector<QString> order_;        // first-seen order of presences_ keys
};

} // namespace xbnc
