#include "caps.h"

#include "xmpp_ns.h"

#include <QCryptographicHash>
#include <QSet>

#include <algorithm>

namespace xbnc::caps {

namespace {

// XEP-0115 sorts with i;octet: by UTF-8 bytes, which differs from UTF-16 order past U+D7FF.
bool octetLess(const QString &a, const QString &b)
{
    return a.toUtf8() < b.toUtf8();
}

const Element *fieldOf(const Element &form, QStringView var)
{
    for (const Element &c : form.children())
        if (c.name() == u"field" && c.attribute(u"var") == var)
            return &c;
    return nullptr;
}

QStringList valuesOf(const Element &field)
{
    QStringList values;
    for (const Element &c : field.children())
        if (c.name() == u"value")
            values.append(c.text());
    return values;
}

QString formType(const Element &form)
{
    const Element *field = fieldOf(form, u"FORM_TYPE");
    if (!field)
        return {};
    const QStringList values = valuesOf(*field);
    return values.isEmpty() ? QString() : values.first();
}

void appendForm(QByteArray &s, const Element &form)
{
    s += formType(form).toUtf8() + '<';
    std::vector<const Element *> fields;
    for (const Element &c : form.children())
        if (c.name() == u"field" && c.attribute(u"var") != u"FORM_TYPE")
            fields.push_back(&c);
    std::sort(fields.begin(), fields.end(), [](const Element *a, const Element *b) {
        return octetLess(a->attribute(u"var"), b->attribute(u"var"));
    });
    for (const Element *field : fields) {
        s += field->attribute(u"var").toUtf8() + '<';
        QStringList values = valuesOf(*field);
        std::sort(values.begin(), values.end(), octetLess);
        for (const QString &value : values)
            s += value.toUtf8() + '<';
    }
}

// §5.4: a form counts only when its FORM_TYPE is hidden and has one value.
bool isExtendedForm(const Element &form)
{
    const Element *field = fieldOf(form, u"FORM_TYPE");
    if (!field || field->attribute(u"type") != u"hidden")
        return false;
    const QStringList values = valuesOf(*field);
    return !values.isEmpty() && values.count(values.first()) == values.size();
}

} // namespace

QByteArray verificationString(const Caps &caps)
{
    std::vector<Identity> identities = caps.identities;
    std::sort(identities.begin(), identities.end(), [](const Identity &a, const Identity &b) {
        if (a.category != b.category)
            return octetLess(a.category, b.category);
        if (a.type != b.type)
            return octetLess(a.type, b.type);
        return octetLess(a.lang, b.lang);
    });
    QByteArray s;
    for (const Identity &i : identities)
        s += (i.category + u'/' + i.type + u'/' + i.lang + u'/' + i.name).toUtf8() + '<';
    QStringList features = caps.features;
    std::sort(features.begin(), features.end(), octetLess);
    for (const QString &feature : features)
        s += feature.toUtf8() + '<';
    std::vector<const Element *> forms;
    for (const Element &form : caps.forms)
        forms.push_back(&form);
    std::sort(forms.begin(), forms.end(), [](const Element *a, const Element *b) {
        return octetLess(formType(*a), formType(*b));
    });
    for (const Element *form : forms)
        appendForm(s, *form);
    return s;
}

QString ver(const Caps &caps)
{
    return QString::fromLatin1(
        QCryptographicHash::hash(verificationString(caps), QCryptographicHash::Sha1).toBase64());
}

std::optional<Caps> fromDiscoInfo(const Element &query)
{
    Caps caps;
    QSet<QString> features, formTypes;
    for (const Element &c : query.children()) {
        if (c.name() == u"identity" && c.xmlns() == xmlns::discoInfo) {
            Identity identity{c.attribute(u"category"), c.attribute(u"type"),
                              c.attribute(u"xml:lang"), c.attribute(u"name")};
            if (std::find(caps.identities.begin(), caps.identities.end(), identity) !=
                caps.identities.end())
                return std::nullopt;
            caps.identities.push_back(std::move(identity));
        } else if (c.name() == u"feature" && c.xmlns() == xmlns::discoInfo) {
            const QString var = c.attribute(u"var");
            if (features.contains(var))
                return std::nullopt;
            features.insert(var);
            caps.features.append(var);
        } else if (c.name() == u"x" && c.xmlns() == dataForms && isExtendedForm(c)) {
            if (formTypes.contains(formType(c)))
                return std::nullopt;
            formTypes.insert(formType(c));
            caps.forms.push_back(c);
        }
    }
    return caps;
}

bool hasFeature(const Element &query, const QString &feature)
{
    const std::vector<Element> &children = query.children();
    return std::any_of(children.begin(), children.end(), [&](const Element &c) {
        return c.name() == u"feature" && c.attribute(u"var") == feature;
    });
}

Element toDiscoInfo(const Caps &caps, const QString &node)
{
    Element query(QStringLiteral("query"), xmlns::discoInfo);
    if (!node.isEmpty())
        query.setAttribute(QStringLiteral("node"), node);
    for (const Identity &i : caps.identities) {
        Element identity(QStringLiteral("identity"), xmlns::discoInfo);
        identity.setAttribute(QStringLiteral("category"), i.category);
        identity.setAttribute(QStringLiteral("type"), i.type);
        if (!i.lang.isEmpty())
            identity.setAttribute(QStringLiteral("xml:lang"), i.lang);
        if (!i.name.isEmpty())
            identity.setAttribute(QStringLiteral("name"), i.name);
        query.addChild(std::move(identity));
    }
    for (const QString &feature : caps.features) {
        Element f(QStringLiteral("feature"), xmlns::discoInfo);
        f.setAttribute(QStringLiteral("var"), feature);
        query.addChild(std::move(f));
    }
    for (const Element &form : caps.forms)
        query.addChild(form);
    return query;
}

Element element(const QString &node, const QString &ver)
{
    Element c(QStringLiteral("c"), ns);
    c.setAttribute(QStringLiteral("hash"), QStringLiteral("sha-1"));
    c.setAttribute(QStringLiteral("node"), node);
    c.setAttribute(QStringLiteral("ver"), ver);
    return c;
}

} // namespace xbnc::caps
