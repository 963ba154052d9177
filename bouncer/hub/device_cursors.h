#pragma once

#include <QDateTime>
#include <QString>

#include <chrono>
#include <functional>
#include <map>
#include <vector>

namespace xbnc {

// Where each of the account's devices is in the catch-up log (OfflineMessages): the number of
// the last entry it has had. A device is the resource its client asks to bind, which stays the
// same across its reconnects and xbnc's restarts (every session is bound to the same JID, so
// that cannot tell devices apart). soju keeps the same per-client cursors for IRC.
class DeviceCursors
{
public:
    struct Device
    {
        quint64 cursor = 0;
        QDateTime seen; // UTC; the last time a session of it was connected
    };

    // The cursor of a device. One never seen before starts after everything some device has had,
    // so that it gets what no device got (a server's offline storage), not the whole log.
    quint64 cursorOf(const QString &device) const;
    // A session of the device is connected or ends: it becomes known (starting as cursorOf()
    // says) and is seen now.
    void touch(const QString &device, const QDateTime &now);
    // The device has had everything up to `seq` (live, or by catching up). True if it moved.
    bool advance(const QString &device, quint64 seq, const QDateTime &now);
    // The device did not acknowledge `seq` and what followed: it gets them again. True if moved.
    bool rewind(const QString &device, quint64 seq);
    // The highest number any device has had: where a new device starts.
    quint64 deliveredThrough() const { return deliveredThrough_; }
    bool noteDelivered(quint64 seq);

    // Devices not seen for longer than `idle`, unless `connected` says a session is on; removed.
    std::vector<QString> forgetIdle(const QDateTime &now, std::chrono::seconds idle,
                                    const std::function<bool(const QString &)> &connected);

    void restore(std::map<QString, Device> devices, quint64 deliveredThrough);
    const std::map<QString, Device> &devices() const { return devices_; }
    const Device *find(const QString &device) const;

private:
    std::map<QString, Device> devices_;
    quint64 deliveredThrough_ = 0;
};

} // namespace xbnc
