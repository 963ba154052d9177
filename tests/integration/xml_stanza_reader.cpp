#include "xml_stanza_reader.h"

namespace {

XmlNode elementFrom(const QXmlStreamReader &reader)
{
    XmlNode node;
    node.name = reader.name().toString();
    node.xmlns = reader.namespaceUri().toString();
    for (const QXmlStreamAttribute &a : reader.attributes())
        node.attributes.append({a.qualifiedName().toString(), a.value().toString()});
    return node;
}

} // namespace

void XmlStanzaReader::reset()
{
    reader_.clear();
    root_ = {};
    open_.clear();
    errorString_.clear();
    opened_ = false;
    closed_ = false;
    // Stanzas already complete stay: they were received before the restart.
}

void XmlStanzaReader::feed(const QByteArray &bytes)
{
    if (failed() || closed_)
        return;
    reader_.addData(bytes);
    while (!reader_.atEnd()) {
        switch (reader_.readNext()) {
        case QXmlStreamReader::StartElement:
            startElement();
            break;
        case QXmlStreamReader::EndElement:
            endElement();
            break;
        case QXmlStreamReader::Characters:
            characters();
            break;
        default:
            break;
        }
        if (closed_)
            return;
    }
    // Running out of input mid-token is normal for a stream; anything else is malformed XML.
    if (reader_.hasError() && reader_.error() != QXmlStreamReader::PrematureEndOfDocumentError)
        errorString_ = reader_.errorString();
}

void XmlStanzaReader::startElement()
{
    if (!opened_) {
        opened_ = true;
        root_ = elementFrom(reader_);
        return;
    }
    open_.push_back(elementFrom(reader_));
}

void XmlStanzaReader::endElement()
{
    if (open_.empty()) {
        closed_ = true; // the stream root itself ended
        return;
    }
    XmlNode done = std::move(open_.back());
    open_.pop_back();
    if (open_.empty())
        stanzas_.push_back(std::move(done));
    else
        open_.back().children.push_back(std::move(done));
}

void XmlStanzaReader::characters()
{
    if (open_.empty())
        return; // whitespace keepalives between stanzas
    std::vector<XmlNode> &siblings = open_.back().children;
    if (!siblings.empty() && siblings.back().isText()) {
        siblings.back().textValue += reader_.text();
        return;
    }
    XmlNode text;
    text.textValue = reader_.text().toString();
    if (text.textValue.isNull())
        text.textValue = QLatin1String("");
    siblings.push_back(std::move(text));
}
