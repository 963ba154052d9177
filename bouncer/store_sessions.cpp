// The saved_sessions tables: resumable sessions kept across a restart (SessionSaver writes them,
// Bouncer restores them).
#include "store.h"

#include <QSqlQuery>
#include <QVariant>

namespace xbnc {

namespace {

// Columns are NOT NULL; Qt binds a null QString as NULL.
QString notNull(const QString &value)
{
    return value.isNull() ? QStringLiteral("") : value;
}

} // namespace

bool Store::writeSessions(const SessionWrites &writes)
{
    const bool own = db_.transaction();
    bool ok = true;
    QSqlQuery query(db_);
    query.prepare(QStringLiteral("DELETE FROM saved_sessions WHERE resume_id = ?"));
    for (const QString &resumeId : writes.ended) {
        query.bindValue(0, resumeId);
        ok = ok && exec(query);
    }
    query.prepare(QStringLiteral("DELETE FROM saved_session_stanzas WHERE resume_id = ?"));
    for (const std::vector<QString> *emptied : {&writes.ended, &writes.rewrite}) {
        for (const QString &resumeId : *emptied) {
            query.bindValue(0, resumeId);
            ok = ok && exec(query);
        }
    }
    query.prepare(
        QStringLiteral("INSERT OR REPLACE INTO saved_sessions (resume_id, resource, bound_resource,"
                       " resume_timeout, hibernating_since, handled, sent, acked, serial, hub)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (const SessionWrites::Row &row : writes.rows) {
        const SavedSession &session = *row.session;
        query.bindValue(0, notNull(session.sm.resumeId));
        query.bindValue(1, notNull(session.resource));
        query.bindValue(2, notNull(session.boundResource));
        query.bindValue(3, qint64(session.resumeTimeout.count()));
        query.bindValue(4, session.hibernatingSince
                               ? session.hibernatingSince->toUTC().toString(Qt::ISODateWithMs)
                               : QStringLiteral(""));
        query.bindValue(5, qint64(session.sm.handled));
        query.bindValue(6, qint64(session.sm.sent));
        query.bindValue(7, qint64(session.sm.acked));
        query.bindValue(8, qint64(session.sm.serial));
        query.bindValue(9, row.hub);
        ok = ok && exec(query);
    }
    query.prepare(
        QStringLiteral("INSERT OR REPLACE INTO saved_session_stanzas (resume_id, serial, xml)"
                       " VALUES (?, ?, ?)"));
    for (const SessionWrites::Stanza &stanza : writes.stanzas) {
        query.bindValue(0, stanza.resumeId);
        query.bindValue(1, qint64(stanza.serial));
        query.bindValue(2, stanza.xml);
        ok = ok && exec(query);
    }
    query.prepare(
        QStringLiteral("DELETE FROM saved_session_stanzas WHERE resume_id = ? AND serial <= ?"));
    for (const auto &[resumeId, serial] : writes.ackedThrough) {
        query.bindValue(0, resumeId);
        query.bindValue(1, qint64(serial));
        ok = ok && exec(query);
    }
    return finish(own, ok);
}

std::vector<StoredSession> Store::savedSessions() const
{
    std::vector<StoredSession> result;
    QSqlQuery query(db_);
    if (!query.exec(QStringLiteral(
            "SELECT resume_id, resource, bound_resource, resume_timeout, hibernating_since,"
            " handled, sent, acked, serial, hub FROM saved_sessions ORDER BY rowid")))
        return result;
    QSqlQuery stanzas(db_);
    stanzas.prepare(QStringLiteral("SELECT serial, xml FROM saved_session_stanzas"
                                   " WHERE resume_id = ? AND serial > ? ORDER BY serial"));
    while (query.next()) {
        StoredSession stored;
        SavedSession &session = stored.session;
        StreamManagement::State &sm = session.sm;
        sm.enabled = true;
        sm.resumeId = query.value(0).toString();
        session.resource = query.value(1).toString();
        session.boundResource = query.value(2).toString();
        session.resumeTimeout = std::chrono::seconds(query.value(3).toLongLong());
        if (const QString since = query.value(4).toString(); !since.isEmpty())
            session.hibernatingSince = QDateTime::fromString(since, Qt::ISODateWithMs);
        sm.handled = quint32(query.value(5).toLongLong());
        sm.sent = quint32(query.value(6).toLongLong());
        sm.acked = quint32(query.value(7).toLongLong());
        sm.serial = quint64(query.value(8).toLongLong());
        stored.hub = Element::fromXml(query.value(9).toByteArray());
        const quint32 outstanding = sm.sent - sm.acked;
        stanzas.bindValue(0, sm.resumeId);
        stanzas.bindValue(1, qint64(sm.serial - std::min<quint64>(outstanding, sm.serial)));
        if (stanzas.exec()) {
            while (stanzas.next()) {
                const QByteArray xml = stanzas.value(1).toByteArray();
                sm.unackedBytes += xml.size();
                sm.unacked.push_back(xml);
            }
        }
        // The counters and the stanzas are written together; should a stanza be missing all the
        // same, the client's acknowledgements must still line up with what is kept.
        sm.acked = sm.sent - quint32(sm.unacked.size());
        result.push_back(std::move(stored));
    }
    return result;
}

} // namespace xbnc
