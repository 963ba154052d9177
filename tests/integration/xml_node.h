#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringView>

#include <vector>

// A received stanza as a small tree, independent of the code under test so that a bug in xbnc's
// own element type cannot hide in the tests. A text node has an empty name. Namespaces are
// resolved (prefixes dropped), so two trees compare equal when they mean the same XML.
class XmlNode
{
public:
    struct Attribute
    {
        QString name; // qualified name as written; xmlns declarations are not kept
        QString value;
        bool operator==(const Attribute &) const = default;
    };

    QString name; // local name
    QString xmlns;
    QList<Attribute> attributes;
    std::vector<XmlNode> children;
    QString textValue; // only for text nodes

    bool isText() const { return name.isEmpty(); }
    bool isNull() const { return name.isEmpty() && textValue.isNull(); }
    QString attribute(QStringView attributeName) const; // empty when absent
    bool hasAttribute(QStringView attributeName) const;
    // First child element with that name (and namespace, when given), or nullptr.
    const XmlNode *child(QStringView childName, QStringView childXmlns = {}) const;
    QString text() const; // text children concatenated

    // Canonical form: attributes in document order, xmlns written where it changes, text
    // escaped. Used for exact comparisons and for readable failure messages.
    QByteArray toXml(QStringView inheritedXmlns = u"jabber:client") const;

    // Parses one complete element (a stanza written by a test); a null node on error.
    static XmlNode parse(const QByteArray &xml, const QString &defaultXmlns = "jabber:client");

    bool operator==(const XmlNode &) const = default;
};
