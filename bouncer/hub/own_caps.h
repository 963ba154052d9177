#pragma once

#include "caps.h"
#include "session_id.h"

#include <QHash>
#include <QSet>

#include <optional>

namespace xbnc {

// The XEP-0115 caps xbnc shows upstream for the account. The server and the contacts see one
// client, so it claims what any connected session can do (learnt from the sessions' own caps),
// what xbnc answers itself, and every +notify a session ever asked for: PEP keeps sending those
// (bookmarks, OMEMO device lists) while no session is connected, and they are delivered later.
class OwnCaps
{
public:
    // xbnc has no public home yet; an .invalid URI cannot collide with another software's node.
    static inline const QString node = QStringLiteral("https://xbnc.invalid");

    // A session's broadcast presence. Returns the node#ver to ask it about with disco#info when
    // its caps are new (sha-1 only: another hash cannot be checked, so it is not trusted).
    std::optional<QString> sessionPresence(SessionId session, const Element &presence);
    void sessionGone(SessionId session);
    // A session's disco#info <query/> for the ver it announced: kept (under that ver) only when
    // it hashes to it, as a wrong hash would poison the cache. True when it was kept.
    bool answered(const QString &ver, const Element &query);

    // What to advertise now; the leading session's client identity stands for the account.
    // Remembers the result, so a node#ver request for it can be answered.
    Element advertise(std::optional<SessionId> leader);
    // The disco#info <query/> for node#ver of an advertised caps, if it is one.
    std::optional<Element> discoInfo(const QString &nodeVer) const;

    static QStringList ownFeatures();

private:
    caps::Caps current(std::optional<SessionId> leader) const;

    QHash<QString, caps::Caps> known_;      // verified caps by ver
    QHash<SessionId, QString> sessionVers_; // what each session announced
    QSet<QString> notify_;                  // +notify features ever asked for
    QHash<QString, caps::Caps> advertised_; // recent own caps by ver, for late disco#info
    QStringList advertisedOrder_;
};

} // namespace xbnc
