#include "resumable_sessions.h"

#include "downstream.h"

#include <QRandomGenerator>

namespace xbnc {

QString ResumableSessions::add(Downstream *session)
{
    QString id;
    do {
        quint64 bits[2];
        QRandomGenerator::system()->fillRange(bits);
        id = QString::number(bits[0], 16).rightJustified(16, u'0') +
             QString::number(bits[1], 16).rightJustified(16, u'0');
    } while (sessions_.contains(id));
    sessions_.insert(id, session);
    return id;
}

Downstream *ResumableSessions::find(const QString &resumeId) const
{
    return sessions_.value(resumeId).data();
}

void ResumableSessions::replace(const QString &resumeId, Downstream *session)
{
    sessions_.insert(resumeId, session);
}

std::vector<Downstream *> ResumableSessions::all() const
{
    std::vector<Downstream *> sessions;
    for (const QPointer<Downstream> &session : sessions_)
        if (session)
            sessions.push_back(session.data());
    return sessions;
}

void ResumableSessions::remove(const QString &resumeId)
{
    sessions_.remove(resumeId);
}

} // namespace xbnc
