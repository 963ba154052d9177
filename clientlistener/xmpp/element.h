#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>
#include <QStringView>

#include <vector>

namespace xbnc {

// One XML element with its whole subtree, kept losslessly so that payloads xbnc does not
// understand (OMEMO, reactions, anything) pass through byte-for-byte equivalent. Both sides of
// the bouncer speak this type: the downstream parser builds it, the upstream edge converts
// gloox tags into it, and the hub rewrites addressing on it.
//
// A text node is an Element whose name is empty; its content is text().
class Element
{
public:
    struct Attribute
    {
        QString name; // qualified as written, e.g. "type" or "xml:lang"
        QString value;
        bool operator==(const Attribute &) const = default;
    };

    Element() = default;
    explicit Element(QString name, QString xmlns = {});
    static Element textNode(QString text);

    bool isNull() const { return name_.isEmpty() && !isText_; }
    bool isText() const { return isText_; }

    const QString &name() const { return name_; } // local name
    const QString &prefix() const { return prefix_; }
    const QString &xmlns() const { return xmlns_; } // namespace URI of this element
    void setName(QString name) { name_ = std::move(name); }
    void setPrefix(QString prefix) { prefix_ = std::move(prefix); }
    void setXmlns(QString xmlns) { xmlns_ = std::move(xmlns); }

    // Attributes other than namespace declarations, in document order.
    const QList<Attribute> &attributes() const { return attributes_; }
    QString attribute(QStringView name) const; // empty when absent
    bool hasAttribute(QStringView name) const;
    void setAttribute(const QString &name, const QString &value); // keeps position if present
    void removeAttribute(QStringView name);

    // Prefixed namespace declarations (xmlns:p="uri") made on this element, kept for output.
    const QList<Attribute> &prefixDeclarations() const { return prefixDeclarations_; }
    void addPrefixDeclaration(const QString &prefix, const QString &uri);

    const std::vector<Element> &children() const { return children_; }
    std::vector<Element> &children() { return children_; }
    Element &addChild(Element child); // returns the stored child
    // First child element with that local name (and namespace when given), or nullptr.
    const Element *firstChild(QStringView name, QStringView xmlns = {}) const;
    Element *firstChild(QStringView name, QStringView xmlns = {});
    // First child element in that namespace, any name.
    const Element *firstChildNs(QStringView xmlns) const;
    void removeChildren(QStringView name, QStringView xmlns = {});

    // For an element: its text children concatenated. For a text node: its text.
    QString text() const;
    void setText(const QString &text); // replaces all children with one text node

    // Serialise. inheritedXmlns is the default namespace in scope where this element is
    // written: "jabber:client" for a stanza inside a client stream, which then carries no xmlns.
    QByteArray toXml(QStringView inheritedXmlns = u"jabber:client") const;
    void appendXml(QByteArray &out, QStringView inheritedXmlns = u"jabber:client") const;

    // Parse exactly one element from a complete document fragment; defaultXmlns is the namespace
    // in scope (a stanza from a client stream inherits "jabber:client"). On failure returns a null
    // Element and sets *error when given. Nesting deeper than maxDepth (the element itself is
    // depth 1) is a failure, found while reading, before any tree of that depth exists: that
    // bound is what makes the recursive functions here (appendXml, ==, the destructor) safe.
    static Element fromXml(QByteArrayView xml, QStringView defaultXmlns = u"jabber:client",
                           QString *error = nullptr, int maxDepth = 64);

    bool operator==(const Element &) const = default;

private:
    QString name_;
    QString prefix_;
    QString xmlns_;
    QList<Attribute> attributes_;
    QList<Attribute> prefixDeclarations_;
    std::vector<Element> children_;
    QString text_;
    bool isText_ = false;
};

} // namespace xbnc
