#pragma once

#include "element.h"
#include "session_id.h"

#include <QDeadlineTimer>
#include <QHash>
#include <QString>

#include <optional>

namespace xbnc {

// XEP-0313 result messages belong to the session whose query they answer, and only to it.
// Every session's query goes upstream with a queryid of xbnc's making (unique across sessions,
// so two sessions may both use "f27"); a result message finds its session by that queryid and
// gets the session's own queryid back.
class MamQueries
{
public:
    // A session's IQ: when it is a MAM query, its queryid is replaced and the query remembered
    // until its answer; returns the token to hand to finished(), empty for any other IQ.
    QString track(SessionId session, Element &iq, const QString &archive);
    // A message from upstream: the session it is for when it is a result of a pending query
    // from the archive that was asked (the queryid put back); nullopt for every other message.
    std::optional<SessionId> route(Element &message);
    // The query's IQ answer arrived (or failed): no more results will come.
    void finished(const QString &token, Element *reply);
    // The session closed: results still on their way belong to nobody else, so its queries
    // are kept, routed to the closed session (nowhere), until `linger` has passed.
    void dropSession(SessionId session, std::chrono::milliseconds linger);
    void expire();
    qsizetype size() const { return queries_.size(); }

    static bool isMamNamespace(QStringView xmlns);

private:
    struct Query
    {
        SessionId session = 0;
        QString originalQueryId; // empty: the session sent none, and gets none back
        QString archive;         // the bare JID results must come from
        QDeadlineTimer forgetAt = QDeadlineTimer(QDeadlineTimer::Forever);
    };
    QHash<QString, Query> queries_;
};

} // namespace xbnc
