#pragma once

#include <QString>

namespace xbnc {

// Text a peer chose (a refused comment, an unknown element's namespace…), made fit for one log
// line: cut to maxChars characters with a marker saying how much was left out, and control
// characters written as escapes so that no peer can forge or break up log lines.
QString logExcerpt(QStringView peerText, qsizetype maxChars = 200);

} // namespace xbnc
