#include "log_excerpt.h"

namespace xbnc {

QString logExcerpt(QStringView peerText, qsizetype maxChars)
{
    QStringView kept = peerText.left(maxChars);
    if (!kept.isEmpty() && kept.back().isHighSurrogate())
        kept.chop(1); // never half a character
    QString out;
    out.reserve(kept.size() + 32);
    for (const QChar c : kept) {
        if (c.isPrint() || c.isSurrogate() || c == u' ')
            out += c;
        else
            out += QStringLiteral("\\u%1").arg(c.unicode(), 4, 16, QLatin1Char('0'));
    }
    if (kept.size() < peerText.size())
        out += QStringLiteral("… (%1 more characters)").arg(peerText.size() - kept.size());
    return out;
}

} // namespace xbnc
