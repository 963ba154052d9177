#pragma once

#include "session_id.h"

#include <QDeadlineTimer>
#include <QHash>
#include <QString>

#include <optional>
#include <vector>

namespace xbnc {

// Pending IQs in both directions across the one upstream connection.
//
// Outbound: every get/set a session sends upstream gets a fresh id, so two sessions may use the
// same id and each receives exactly one reply. Inbound: a get/set from the outside world that a
// session answers gets a fresh id too, so the reply can be sent back under the original one.
class IqRouter
{
public:
    enum class Purpose
    {
        Relay,
        DomainDisco,
        SessionCaps // xbnc asks a session disco#info for the caps it announced
    };

    struct Outbound
    {
        SessionId session = 0;
        QString originalId;
        QString originalTo; // the 'from' an error reply made up by xbnc must carry
        Purpose purpose = Purpose::Relay;
        QDeadlineTimer deadline;
    };
    struct Inbound
    {
        SessionId session = 0;
        QString originalId;
        QString requester; // the 'from' of the request, the 'to' of the reply
        QDeadlineTimer deadline;
        Purpose purpose = Purpose::Relay;
        QString context; // SessionCaps: the ver asked about
    };

    explicit IqRouter(std::chrono::milliseconds timeout = std::chrono::seconds(60));

    QString trackOutbound(SessionId session, const QString &originalId,
                          const QString &originalTo = {}, Purpose purpose = Purpose::Relay);
    std::optional<Outbound> takeOutbound(const QString &id);

    QString trackInbound(SessionId session, const QString &originalId, const QString &requester);
    std::optional<Inbound> takeInbound(const QString &id);
    // A request of xbnc's own to a session; its reply stays in the hub.
    QString trackToSession(SessionId session, Purpose purpose, const QString &context);

    // A closed session's replies can no longer be delivered; its entries go.
    void dropSession(SessionId session);
    // Entries past their deadline, removed; the caller answers the sessions with an error.
    std::vector<Outbound> takeExpiredOutbound();
    void dropExpiredInbound();
    // Upstream went away: every outbound entry is answered with an error by the caller.
    std::vector<Outbound> takeAllOutbound();
    // Upstream went away: requests from there can no longer be answered.
    void clearInbound();

    qsizetype outboundCount() const { return outbound_.size(); }
    qsizetype inboundCount() const { return inbound_.size(); }

private:
    std::chrono::milliseconds timeout_;
    quint64 counter_ = 0;
    QHash<QString, Outbound> outbound_;
    QHash<QString, Inbound> inbound_;
};

} // namespace xbnc
