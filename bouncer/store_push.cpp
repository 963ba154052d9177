// The push_registrations table: each device's XEP-0357 registrations as one document, rewritten
// whenever the device enables or disables push (rare), read back at start.
#include "store.h"

#include <QSqlQuery>
#include <QVariant>

namespace xbnc {

bool Store::savePushRegistrations(const QString &device,
                                  const std::vector<PushRegistration> &registrations)
{
    QSqlQuery query(db_);
    if (registrations.empty()) {
        query.prepare(QStringLiteral("DELETE FROM push_registrations WHERE device = ?"));
        query.addBindValue(device);
        return exec(query);
    }
    query.prepare(QStringLiteral("INSERT INTO push_registrations (device, xml) VALUES (?, ?)"
                                 " ON CONFLICT(device) DO UPDATE SET xml = excluded.xml"));
    query.addBindValue(device);
    query.addBindValue(PushRegistrations::toElement(registrations).toXml());
    return exec(query);
}

PushRegistrations::Devices Store::pushRegistrations() const
{
    PushRegistrations::Devices devices;
    QSqlQuery query(db_);
    if (!query.exec(QStringLiteral("SELECT device, xml FROM push_registrations")))
        return devices;
    while (query.next()) {
        std::vector<PushRegistration> registrations =
            PushRegistrations::fromElement(Element::fromXml(query.value(1).toByteArray()));
        if (!registrations.empty())
            devices[query.value(0).toString()] = std::move(registrations);
    }
    return devices;
}

} // namespace xbnc
