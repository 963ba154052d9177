#pragma once

#include <QHash>
#include <QPointer>
#include <QString>

#include <vector>

namespace xbnc {

class Downstream;

// The sessions a client may resume (XEP-0198 §5), by the id given in <enabled id=…/>: connected
// ones and hibernating ones alike. One per listener, shared with its sessions; a session adds
// itself when it enables resumption and leaves when it ends for good.
class ResumableSessions
{
public:
    // A fresh id that names `session` from now on (128 random bits, hex).
    QString add(Downstream *session);
    // nullptr for an unknown id, or one whose session is gone.
    Downstream *find(const QString &resumeId) const;
    // The session now answering to `resumeId` (a resumed connection takes the name over).
    void replace(const QString &resumeId, Downstream *session);
    void remove(const QString &resumeId);
    qsizetype size() const { return sessions_.size(); }
    std::vector<Downstream *> all() const;

private:
    QHash<QString, QPointer<Downstream>> sessions_;
};

} // namespace xbnc
