#pragma once

#include "account_harness.h"

#include <QDateTime>

#include <map>
#include <vector>

namespace xbnc::test {

// An AccountHarness that also records what the Account asks the wiring to persist, and runs
// on a clock the test moves.
class PersistenceHarness : public AccountHarness
{
public:
    PersistenceHarness()
    {
        account.setNow([this] { return now; });
    }

    QDateTime now = QDateTime(QDate(2026, 12, 1), QTime(12, 0), Qt::UTC);
    std::vector<OutboundQueue::Entry> queued;
    quint64 queueDoneThrough = 0;
    std::vector<OfflineMessages::Entry> stored;
    quint64 offlineDoneThrough = 0;

    void stanzaQueued(const OutboundQueue::Entry &entry) override { queued.push_back(entry); }
    void queuedStanzasDone(quint64 throughSeq) override { queueDoneThrough = throughSeq; }
    void offlineMessageStored(const OfflineMessages::Entry &entry) override
    {
        stored.push_back(entry);
    }
    void offlineMessagesDone(quint64 throughSeq) override { offlineDoneThrough = throughSeq; }

    std::map<QString, DeviceCursors::Device> devices; // as last stored
    std::vector<QString> forgotten;
    quint64 deliveredThrough = 0;

    void deviceCursorChanged(const QString &device, const DeviceCursors::Device &state) override
    {
        devices[device] = state;
    }
    void deviceForgotten(const QString &device) override
    {
        devices.erase(device);
        forgotten.push_back(device);
    }
    void deliveredThroughChanged(quint64 seq) override { deliveredThrough = seq; }
};

} // namespace xbnc::test
