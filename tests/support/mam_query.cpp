#include "mam_query.h"

namespace mam {

QString query(const QString &id, const QString &to, const QString &queryId, const QString &rsm)
{
    QString xml = QStringLiteral("<iq type='set' id='%1'").arg(id);
    if (!to.isEmpty())
        xml += QStringLiteral(" to='%1'").arg(to);
    xml += QStringLiteral("><query xmlns='urn:xmpp:mam:2'");
    if (!queryId.isEmpty())
        xml += QStringLiteral(" queryid='%1'").arg(queryId);
    xml += u'>';
    if (!rsm.isEmpty())
        xml += QStringLiteral("<set xmlns='http://jabber.org/protocol/rsm'>%1</set>").arg(rsm);
    return xml + QStringLiteral("</query></iq>");
}

} // namespace mam
