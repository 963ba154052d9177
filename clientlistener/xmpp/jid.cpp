#include "jid.h"

namespace xbnc {

Jid::Jid(QStringView jid)
{
    // RFC 7622 §3.1: the resource starts at the first '/', the local part ends at the first '@'
    // before it.
    const qsizetype slash = jid.indexOf(u'/');
    const QStringView head = slash < 0 ? jid : jid.left(slash);
    if (slash >= 0)
        resource_ = jid.mid(slash + 1).toString();
    const qsizetype at = head.indexOf(u'@');
    if (at >= 0) {
        local_ = head.left(at).toString().toLower();
        domain_ = head.mid(at + 1).toString().toLower();
    } else {
        domain_ = head.toString().toLower();
    }
    if (domain_.endsWith(u'.'))
        domain_.chop(1);
    if ((at >= 0 && local_.isEmpty()) || (slash >= 0 && resource_.isEmpty()))
        *this = Jid();
}

Jid::Jid(QString local, QString domain, QString resource)
    : local_(std::move(local).toLower()), domain_(std::move(domain).toLower()),
      resource_(std::move(resource))
{
}

QString Jid::bareString() const
{
    return local_.isEmpty() ? domain_ : local_ + u'@' + domain_;
}

QString Jid::toString() const
{
    return resource_.isEmpty() ? bareString() : bareString() + u'/' + resource_;
}

bool Jid::operator==(const Jid &other) const
{
    return sameBare(other) && resource_ == other.resource_;
}

bool Jid::sameBare(const Jid &other) const
{
    return local_ == other.local_ && domain_ == other.domain_;
}

} // namespace xbnc
