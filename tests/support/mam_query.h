#pragma once

#include <QString>

namespace mam {

// A XEP-0313 query as a client sends it, for the unit and the integration tests alike. An empty
// `to` asks the account's own archive, an empty `queryId` leaves the attribute out (it is
// optional), and `rsm` is the content of the RSM <set/> (none when empty).
QString query(const QString &id, const QString &to, const QString &queryId,
              const QString &rsm = {});

} // namespace mam
