#include "mam_queries.h"

#include "jid.h"

#include <QLoggingCategory>
#include <QRandomGenerator>

Q_LOGGING_CATEGORY(lcMam, "xbnc.mam")

namespace xbnc {

bool MamQueries::isMamNamespace(QStringView xmlns)
{
    return xmlns == u"urn:xmpp:mam:2" || xmlns == u"urn:xmpp:mam:1";
}

QString MamQueries::track(SessionId session, Element &iq, const QString &archive)
{
    if (iq.attribute(u"type") != u"set")
        return {};
    Element *query = iq.firstChild(u"query");
    if (!query || !isMamNamespace(query->xmlns()))
        return {};
    QString token;
    do {
        token =
            QStringLiteral("xq") + QString::number(QRandomGenerator::global()->generate64(), 36);
    } while (queries_.contains(token));
    queries_.insert(token, Query{session, query->attribute(u"queryid"), archive});
    query->setAttribute(QStringLiteral("queryid"), token);
    return token;
}

std::optional<SessionId> MamQueries::route(Element &message)
{
    Element *result = nullptr;
    for (Element &c : message.children())
        if (c.name() == u"result" && isMamNamespace(c.xmlns()))
            result = &c;
    if (!result)
        return std::nullopt;
    auto it = queries_.find(result->attribute(u"queryid"));
    if (it == queries_.end())
        return std::nullopt;
    // Only the archive that was asked answers the query; anything else is an ordinary message
    // (delivered as a server would, and ignored by clients as a result nobody asked for).
    const Jid from(message.attribute(u"from"));
    if (from.isValid() && !from.sameBare(Jid(it->archive))) {
        qCWarning(lcMam) << "a MAM result for a pending query came from" << from.toString()
                         << "instead of" << it->archive;
        return std::nullopt;
    }
    if (it->originalQueryId.isEmpty())
        result->removeAttribute(u"queryid");
    else
        result->setAttribute(QStringLiteral("queryid"), it->originalQueryId);
    return it->session;
}

void MamQueries::finished(const QString &token, Element *reply)
{
    auto it = queries_.find(token);
    if (it == queries_.end())
        return;
    // urn:xmpp:mam:1 repeats the queryid on <fin/>.
    if (reply)
        if (Element *fin = reply->firstChild(u"fin"); fin && fin->hasAttribute(u"queryid")) {
            if (it->originalQueryId.isEmpty())
                fin->removeAttribute(u"queryid");
            else
                fin->setAttribute(QStringLiteral("queryid"), it->originalQueryId);
        }
    queries_.erase(it);
}

void MamQueries::dropSession(SessionId session, std::chrono::milliseconds linger)
{
    for (Query &query : queries_)
        if (query.session == session)
            query.forgetAt = QDeadlineTimer(linger);
}

void MamQueries::expire()
{
    queries_.removeIf([](const auto &it) { return it.value().forgetAt.hasExpired(); });
}

} // namespace xbnc
