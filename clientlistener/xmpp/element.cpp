#include "element.h"

#include "xml_tree_builder.h"

#include <QXmlStreamReader>

namespace xbnc {

namespace {

// What a character becomes in character data or, with inAttribute, in an attribute value;
// nullptr when it is written as is. Values are written in single quotes (the XMPP habit); both
// quote kinds are escaped so the output stays valid whichever quote a later writer picks.
// Whitespace characters in values become references because attribute-value normalisation
// would turn them into spaces; a carriage return is one in text too, or end-of-line handling
// would read it back as a line feed. '>' is escaped in text to keep "]]>" out of character data.
const char *replacement(char c, bool inAttribute)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return inAttribute ? nullptr : "&gt;";
    case '"':
        return inAttribute ? "&quot;" : nullptr;
    case '\'':
        return inAttribute ? "&apos;" : nullptr;
    case '\t':
        return inAttribute ? "&#9;" : nullptr;
    case '\n':
        return inAttribute ? "&#10;" : nullptr;
    case '\r':
        return "&#13;";
    default:
        return nullptr;
    }
}

// Escapes UTF-8 bytes, copying runs of plain bytes at once.
void appendEscapedUtf8(QByteArray &out, const QByteArray &utf8, bool inAttribute)
{
    const char *run = utf8.constData();
    const char *const end = run + utf8.size();
    for (const char *p = run; p != end; ++p) {
        if (const char *escaped = replacement(*p, inAttribute)) {
            out.append(run, p - run);
            out.append(escaped);
            run = p + 1;
        }
    }
    out.append(run, end - run);
}

// This is the fan-out path, and names and values are mostly plain ASCII: such characters go
// straight into `out`, without a UTF-8 copy of the string first. Stops at the first character
// that is not ASCII or that `special` picks out, and returns how many were written.
template <typename Special>
qsizetype appendAscii(QByteArray &out, QStringView text, Special special)
{
    const qsizetype at = out.size();
    out.resize(at + text.size());
    char *plain = out.data() + at;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t c = text[i].unicode();
        if (c >= 0x80 || special(char(c))) {
            out.truncate(at + i);
            return i;
        }
        plain[i] = char(c);
    }
    return text.size();
}

void appendEscaped(QByteArray &out, QStringView value, bool inAttribute)
{
    const qsizetype plain =
        appendAscii(out, value, [inAttribute](char c) { return replacement(c, inAttribute); });
    if (plain < value.size())
        appendEscapedUtf8(out, value.mid(plain).toUtf8(), inAttribute);
}

void appendEscapedText(QByteArray &out, QStringView text)
{
    appendEscaped(out, text, false);
}

void appendEscapedAttribute(QByteArray &out, QStringView value)
{
    appendEscaped(out, value, true);
}

// Names are written as they are: they come from a parser or from xbnc itself.
void appendUnescaped(QByteArray &out, QStringView text)
{
    const qsizetype plain = appendAscii(out, text, [](char) { return false; });
    if (plain < text.size())
        out += text.mid(plain).toUtf8();
}

void appendName(QByteArray &out, QStringView prefix, QStringView name)
{
    if (!prefix.isEmpty()) {
        appendUnescaped(out, prefix);
        out += ':';
    }
    appendUnescaped(out, name);
}

void appendAttribute(QByteArray &out, QStringView prefix, QStringView name, QStringView value)
{
    out += ' ';
    appendName(out, prefix, name);
    out += "='";
    appendEscapedAttribute(out, value);
    out += '\'';
}

} // namespace

Element::Element(QString name, QString xmlns) : name_(std::move(name)), xmlns_(std::move(xmlns))
{
}

Element Element::textNode(QString text)
{
    Element node;
    node.isText_ = true;
    node.text_ = std::move(text);
    return node;
}

QString Element::attribute(QStringView name) const
{
    for (const Attribute &a : attributes_) {
        if (a.name == name)
            return a.value;
    }
    return {};
}

bool Element::hasAttribute(QStringView name) const
{
    for (const Attribute &a : attributes_) {
        if (a.name == name)
            return true;
    }
    return false;
}

void Element::setAttribute(const QString &name, const QString &value)
{
    for (Attribute &a : attributes_) {
        if (a.name == name) {
            a.value = value;
            return;
        }
    }
    attributes_.append(Attribute{name, value});
}

void Element::removeAttribute(QStringView name)
{
    attributes_.removeIf([name](const Attribute &a) { return a.name == name; });
}

void Element::addPrefixDeclaration(const QString &prefix, const QString &uri)
{
    for (Attribute &d : prefixDeclarations_) {
        if (d.name == prefix) {
            d.value = uri;
            return;
        }
    }
    prefixDeclarations_.append(Attribute{prefix, uri});
}

Element &Element::addChild(Element child)
{
    // Adjacent text merges so that a parsed tree and a built tree compare equal.
    if (child.isText_ && !children_.empty() && children_.back().isText_) {
        children_.back().text_ += child.text_;
        return children_.back();
    }
    children_.push_back(std::move(child));
    return children_.back();
}

const Element *Element::firstChild(QStringView name, QStringView xmlns) const
{
    for (const Element &c : children_) {
        if (!c.isText_ && c.name_ == name && (xmlns.isEmpty() || c.xmlns_ == xmlns))
            return &c;
    }
    return nullptr;
}

Element *Element::firstChild(QStringView name, QStringView xmlns)
{
    return const_cast<Element *>(std::as_const(*this).firstChild(name, xmlns));
}

const Element *Element::firstChildNs(QStringView xmlns) const
{
    for (const Element &c : children_) {
        if (!c.isText_ && c.xmlns_ == xmlns)
            return &c;
    }
    return nullptr;
}

void Element::removeChildren(QStringView name, QStringView xmlns)
{
    std::erase_if(children_, [&](const Element &c) {
        return !c.isText_ && c.name_ == name && (xmlns.isEmpty() || c.xmlns_ == xmlns);
    });
}

QString Element::text() const
{
    if (isText_)
        return text_;
    QString all;
    for (const Element &c : children_) {
        if (c.isText_)
            all += c.text_;
    }
    return all;
}

void Element::setText(const QString &text)
{
    if (isText_) {
        text_ = text;
        return;
    }
    children_.clear();
    if (!text.isEmpty())
        children_.push_back(textNode(text));
}

QByteArray Element::toXml(QStringView inheritedXmlns) const
{
    QByteArray out;
    appendXml(out, inheritedXmlns);
    return out;
}

void Element::appendXml(QByteArray &out, QStringView inheritedXmlns) const
{
    if (isText_) {
        appendEscapedText(out, text_);
        return;
    }
    if (name_.isEmpty())
        return;

    out += '<';
    appendName(out, prefix_, name_);
    // A prefixed element leaves the default namespace untouched for its children.
    const QStringView childXmlns = prefix_.isEmpty() ? QStringView(xmlns_) : inheritedXmlns;
    if (prefix_.isEmpty() && xmlns_ != inheritedXmlns)
        appendAttribute(out, {}, u"xmlns", xmlns_);
    for (const Attribute &d : prefixDeclarations_)
        appendAttribute(out, u"xmlns", d.name, d.value);
    for (const Attribute &a : attributes_)
        appendAttribute(out, {}, a.name, a.value);
    if (children_.empty()) {
        out += "/>";
        return;
    }
    out += '>';
    for (const Element &c : children_)
        c.appendXml(out, childXmlns);
    out += "</";
    appendName(out, prefix_, name_);
    out += '>';
}

Element Element::fromXml(QByteArrayView xml, QStringView defaultXmlns, QString *error, int maxDepth)
{
    // The wrapper puts the caller's default namespace in scope, as a stream header would.
    QByteArray document = "<w xmlns='";
    appendEscapedAttribute(document, defaultXmlns);
    document += "'>";
    document += xml;
    document += "</w>";

    QXmlStreamReader reader(document);
    XmlTreeBuilder builder;
    Element result;
    int depth = 0;
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return Element();
    };
    while (!reader.atEnd()) {
        switch (reader.readNext()) {
        case QXmlStreamReader::StartElement:
            ++depth;
            if (depth - 1 > maxDepth) // the wrapper is depth 1
                return fail(QStringLiteral("elements nested deeper than %1").arg(maxDepth));
            if (depth == 2 && !result.isNull())
                return fail(QStringLiteral("more than one element"));
            if (depth >= 2)
                builder.startElement(reader);
            break;
        case QXmlStreamReader::EndElement:
            if (depth >= 2 && builder.endElement())
                result = builder.takeRoot();
            --depth;
            break;
        case QXmlStreamReader::Characters:
            if (depth >= 2)
                builder.characters(reader.text());
            else if (!reader.isWhitespace())
                return fail(QStringLiteral("text outside the element"));
            break;
        case QXmlStreamReader::DTD:
        case QXmlStreamReader::EntityReference:
        case QXmlStreamReader::ProcessingInstruction:
            return fail(QStringLiteral("restricted XML"));
        default:
            break;
        }
    }
    if (reader.hasError())
        return fail(reader.errorString());
    if (result.isNull())
        return fail(QStringLiteral("no element"));
    return result;
}

} // namespace xbnc
