#include "session_saver.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcSessionSaver, "xbnc.sessions")

namespace xbnc {

SessionSaver::Written SessionSaver::summary(const SavedSession &session, QByteArray hub)
{
    return Written{session.sm.handled,
                   session.sm.sent,
                   session.sm.acked,
                   session.sm.serial,
                   qint64(session.resumeTimeout.count()),
                   session.hibernatingSince,
                   std::move(hub)};
}

namespace {

QString sessionResource(const std::vector<SessionSaver::Live> &sessions, const QString &resumeId)
{
    for (const SessionSaver::Live &live : sessions)
        if (live.session.sm.resumeId == resumeId)
            return live.session.resource;
    return {};
}

} // namespace

bool SessionSaver::save(const std::vector<Live> &sessions)
{
    SessionWrites writes;
    std::map<QString, Written> written;
    for (const Live &live : sessions)
        writeChanges(live, live.hub.toXml(), writes, written);
    for (const auto &[resumeId, before] : written_)
        if (!written.count(resumeId))
            writes.ended.push_back(resumeId);
    const bool nothing = writes.rows.empty() && writes.stanzas.empty() &&
                         writes.ackedThrough.empty() && writes.ended.empty() &&
                         writes.rewrite.empty();
    if (nothing)
        return true;
    if (!store_.writeSessions(writes)) {
        // Nothing of it was written: the next save starts over for each session.
        for (const Live &live : sessions)
            written_.erase(live.session.sm.resumeId);
        return false;
    }
    for (const QString &resumeId : writes.rewrite)
        if (!written_.count(resumeId))
            qCInfo(lcSessionSaver)
                << "resumable session of resource" << sessionResource(sessions, resumeId)
                << "saved: it survives a restart";
    written_ = std::move(written);
    return true;
}

void SessionSaver::writeChanges(const Live &live, QByteArray hub, SessionWrites &writes,
                                std::map<QString, Written> &written) const
{
    const SavedSession &session = live.session;
    const StreamManagement::State &sm = session.sm;
    const quint64 kept = sm.unacked.size();
    const quint64 ackedSerial = sm.serial - kept; // the unacked are numbered after it
    Written now = summary(session, std::move(hub));
    const auto before = written_.find(sm.resumeId);
    quint64 newStanzas = kept;
    if (before == written_.end()) {
        writes.rewrite.push_back(sm.resumeId);
    } else {
        newStanzas = std::min(kept, sm.serial - before->second.serial);
        if (ackedSerial > before->second.serial - (before->second.sent - before->second.acked))
            writes.ackedThrough.emplace_back(sm.resumeId, ackedSerial);
    }
    for (quint64 i = kept - newStanzas; i < kept; ++i)
        writes.stanzas.push_back({sm.resumeId, ackedSerial + i + 1, sm.unacked[i]});
    if (before == written_.end() || !(before->second == now))
        writes.rows.push_back({&session, now.hub});
    written.emplace(sm.resumeId, std::move(now));
}

std::vector<StoredSession> SessionSaver::load()
{
    std::vector<StoredSession> stored = store_.savedSessions();
    written_.clear();
    for (const StoredSession &one : stored)
        written_.emplace(one.session.sm.resumeId, summary(one.session, one.hub.toXml()));
    return stored;
}

} // namespace xbnc
