#pragma once

#include <QString>
#include <QStringView>

namespace xbnc {

// A JID split into its parts (RFC 7622), without stringprep: xbnc compares what servers and
// clients already normalised, case-folding only the local and domain parts.
class Jid
{
public:
    Jid() = default;
    explicit Jid(QStringView jid);
    Jid(QString local, QString domain, QString resource = {});

    bool isValid() const { return !domain_.isEmpty(); }
    const QString &local() const { return local_; }
    const QString &domain() const { return domain_; }
    const QString &resource() const { return resource_; }

    Jid bare() const { return Jid(local_, domain_); }
    Jid withResource(const QString &resource) const { return Jid(local_, domain_, resource); }
    bool isBare() const { return resource_.isEmpty(); }
    bool isDomain() const { return local_.isEmpty() && resource_.isEmpty(); }
    QString toString() const;
    QString bareString() const;

    bool operator==(const Jid &other) const;
    bool sameBare(const Jid &other) const;

private:
    QString local_;
    QString domain_;
    QString resource_;
};

} // namespace xbnc
