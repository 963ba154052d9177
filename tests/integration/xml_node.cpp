#include "xml_node.h"

#include "xml_stanza_reader.h"

namespace {

QByteArray escaped(const QString &text, bool inAttribute)
{
    QString out = text.toHtmlEscaped(); // & < > "
    if (inAttribute)
        out.replace(QLatin1Char('\''), QLatin1String("&apos;"));
    return out.toUtf8();
}

} // namespace

QString XmlNode::attribute(QStringView attributeName) const
{
    for (const Attribute &a : attributes) {
        if (a.name == attributeName)
            return a.value;
    }
    return {};
}

bool XmlNode::hasAttribute(QStringView attributeName) const
{
    for (const Attribute &a : attributes) {
        if (a.name == attributeName)
            return true;
    }
    return false;
}

const XmlNode *XmlNode::child(QStringView childName, QStringView childXmlns) const
{
    for (const XmlNode &c : children) {
        if (!c.isText() && c.name == childName && (childXmlns.isEmpty() || c.xmlns == childXmlns))
            return &c;
    }
    return nullptr;
}

QString XmlNode::text() const
{
    if (isText())
        return textValue;
    QString out;
    for (const XmlNode &c : children) {
        if (c.isText())
            out += c.textValue;
    }
    return out;
}

QByteArray XmlNode::toXml(QStringView inheritedXmlns) const
{
    if (isText())
        return escaped(textValue, false);
    QByteArray out = '<' + name.toUtf8();
    if (xmlns != inheritedXmlns)
        out += " xmlns='" + escaped(xmlns, true) + '\'';
    for (const Attribute &a : attributes)
        out += ' ' + a.name.toUtf8() + "='" + escaped(a.value, true) + '\'';
    if (children.empty())
        return out + "/>";
    out += '>';
    for (const XmlNode &c : children)
        out += c.toXml(xmlns);
    return out + "</" + name.toUtf8() + '>';
}

XmlNode XmlNode::parse(const QByteArray &xml, const QString &defaultXmlns)
{
    // Wrap in a stream element so the reader sees exactly the situation of a received stanza.
    XmlStanzaReader reader;
    reader.feed("<wrapper xmlns='" + defaultXmlns.toUtf8() + "'>" + xml + "</wrapper>");
    if (reader.failed() || reader.stanzas().size() != 1)
        return {};
    return reader.stanzas().front();
}
