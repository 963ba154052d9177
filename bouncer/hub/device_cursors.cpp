#include "device_cursors.h"

namespace xbnc {

quint64 DeviceCursors::cursorOf(const QString &device) const
{
    const auto it = devices_.find(device);
    return it == devices_.end() ? deliveredThrough_ : it->second.cursor;
}

const DeviceCursors::Device *DeviceCursors::find(const QString &device) const
{
    const auto it = devices_.find(device);
    return it == devices_.end() ? nullptr : &it->second;
}

void DeviceCursors::touch(const QString &device, const QDateTime &now)
{
    devices_.try_emplace(device, Device{deliveredThrough_, now}).first->second.seen = now;
}

bool DeviceCursors::advance(const QString &device, quint64 seq, const QDateTime &now)
{
    noteDelivered(seq);
    Device &entry = devices_.try_emplace(device, Device{0, now}).first->second;
    entry.seen = now;
    if (seq <= entry.cursor)
        return false;
    entry.cursor = seq;
    return true;
}

bool DeviceCursors::rewind(const QString &device, quint64 seq)
{
    const auto it = devices_.find(device);
    if (it == devices_.end() || seq == 0 || it->second.cursor < seq)
        return false;
    it->second.cursor = seq - 1;
    return true;
}

bool DeviceCursors::noteDelivered(quint64 seq)
{
    if (seq <= deliveredThrough_)
        return false;
    deliveredThrough_ = seq;
    return true;
}

std::vector<QString>
DeviceCursors::forgetIdle(const QDateTime &now, std::chrono::seconds idle,
                          const std::function<bool(const QString &)> &connected)
{
    std::vector<QString> forgotten;
    const QDateTime oldest = now.addSecs(-idle.count());
    for (auto it = devices_.begin(); it != devices_.end();) {
        if (it->second.seen < oldest && !connected(it->first)) {
            forgotten.push_back(it->first);
            it = devices_.erase(it);
        } else {
            ++it;
        }
    }
    return forgotten;
}

void DeviceCursors::restore(std::map<QString, Device> devices, quint64 deliveredThrough)
{
    devices_ = std::move(devices);
    deliveredThrough_ = std::max(deliveredThrough_, deliveredThrough);
}

} // namespace xbnc
