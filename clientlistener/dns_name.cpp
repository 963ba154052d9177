#include "dns_name.h"

#include <QUrl>

namespace xbnc {

QString certificateDnsName(const QString &name)
{
    const QString ace = QString::fromLatin1(QUrl::toAce(name)).toLower();
    if (ace.isEmpty() || ace.startsWith(u'.') || ace.endsWith(u'.') || ace.contains(u".."))
        return {};
    bool allDigitsAndDots = true;
    for (const QChar c : ace) {
        if (!(c.isDigit() || (c >= u'a' && c <= u'z') || c == u'-' || c == u'.'))
            return {};
        allDigitsAndDots = allDigitsAndDots && (c.isDigit() || c == u'.');
    }
    // An IPv4 address would need an IP SAN, which xbnc's CA is constrained never to sign.
    return allDigitsAndDots ? QString() : ace;
}

} // namespace xbnc
