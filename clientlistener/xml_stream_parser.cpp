#include "xml_stream_parser.h"

namespace xbnc {

namespace {
constexpr QStringView kStreamsNs = u"http://etherx.jabber.org/streams";
constexpr QStringView kClientNs = u"jabber:client";
} // namespace

XmlStreamParser::XmlStreamParser(Limits limits)
    : limits_(limits), reader_(std::make_unique<QXmlStreamReader>())
{
}

XmlStreamParser::~XmlStreamParser() = default;

void XmlStreamParser::feed(QByteArrayView data)
{
    if (failed_ || data.isEmpty())
        return;
    if (!utf8_.feed(data)) {
        fail(QStringLiteral("not-well-formed"), QStringLiteral("invalid UTF-8"));
        return;
    }
    reader_->addData(data.toByteArray());
    window_.append(data.data(), data.size());
    totalFed_ += data.size();
}

void XmlStreamParser::restart(bool keepUnread)
{
    QByteArray unread;
    if (keepUnread) {
        byteOffsetAt(reader_->characterOffset());
        unread = window_;
    }
    reader_ = std::make_unique<QXmlStreamReader>();
    builder_.clear();
    utf8_.reset();
    window_.clear();
    windowStart_ = windowStartChar_ = totalFed_ = 0;
    stanzaStart_ = lastTokenEndChar_ = 0;
    streamOpen_ = streamClosed_ = failed_ = false;
    error_ = Event();
    feed(unread);
}

XmlStreamParser::Event XmlStreamParser::fail(QString condition, QString text)
{
    failed_ = true;
    error_.kind = Event::Kind::Error;
    error_.errorCondition = std::move(condition);
    error_.errorText = std::move(text);
    return error_;
}

qint64 XmlStreamParser::byteOffsetAt(qint64 characterOffset)
{
    // The reader counts UTF-16 code units: one per UTF-8 sequence, two for a 4-byte one.
    qsizetype i = 0;
    qint64 chars = windowStartChar_;
    const qsizetype size = window_.size();
    while (chars < characterOffset && i < size) {
        const auto lead = uchar(window_.at(i));
        chars += lead >= 0xF0 ? 2 : 1;
        ++i;
        while (i < size && (uchar(window_.at(i)) & 0xC0) == 0x80)
            ++i;
    }
    window_.remove(0, i);
    windowStart_ += i;
    windowStartChar_ = chars;
    return windowStart_;
}

XmlStreamParser::Event XmlStreamParser::readStreamHeader()
{
    const QXmlStreamReader &r = *reader_;
    if (r.name() != u"stream" || r.namespaceUri() != kStreamsNs)
        return fail(QStringLiteral("invalid-namespace"), QStringLiteral("not a stream header"));
    bool clientNs = false;
    for (const QXmlStreamNamespaceDeclaration &d : r.namespaceDeclarations()) {
        if (d.prefix().isEmpty())
            clientNs = d.namespaceUri() == kClientNs;
        else
            headerPrefixes_.append({d.prefix().toString(), d.namespaceUri().toString()});
    }
    if (!clientNs)
        return fail(QStringLiteral("invalid-namespace"), QStringLiteral("not jabber:client"));

    Event event;
    event.kind = Event::Kind::StreamOpen;
    event.element = Element(QStringLiteral("stream"), kStreamsNs.toString());
    event.element.setPrefix(r.prefix().toString());
    for (const QXmlStreamAttribute &a : r.attributes())
        event.element.setAttribute(a.qualifiedName().toString(), a.value().toString());
    streamOpen_ = true;
    lastTokenEndChar_ = r.characterOffset();
    byteOffsetAt(lastTokenEndChar_);
    return event;
}

namespace {

// The prefixes a subtree uses on elements and attributes without declaring them itself.
void collectUndeclaredPrefixes(const Element &element, QStringList &declared, QStringList &out)
{
    if (element.isText())
        return;
    const qsizetype scope = declared.size();
    for (const Element::Attribute &d : element.prefixDeclarations())
        declared.append(d.name);
    auto use = [&](QStringView prefix) {
        if (!prefix.isEmpty() && prefix != u"xml" && !declared.contains(prefix) &&
            !out.contains(prefix))
            out.append(prefix.toString());
    };
    use(element.prefix());
    for (const Element::Attribute &a : element.attributes())
        if (const qsizetype colon = a.name.indexOf(u':'); colon > 0)
            use(QStringView(a.name).left(colon));
    for (const Element &child : element.children())
        collectUndeclaredPrefixes(child, declared, out);
    declared.resize(scope);
}

} // namespace

void XmlStreamParser::declareHeaderPrefixes(Element &stanza) const
{
    // Stream-level elements (<stream:features/>, <stream:error/>) never leave the stream.
    if (headerPrefixes_.isEmpty() || stanza.xmlns() == kStreamsNs)
        return;
    QStringList declared;
    QStringList undeclared;
    collectUndeclaredPrefixes(stanza, declared, undeclared);
    for (const Element::Attribute &d : headerPrefixes_)
        if (undeclared.contains(d.name))
            stanza.addPrefixDeclaration(d.name, d.value);
}

XmlStreamParser::Event XmlStreamParser::next()
{
    if (failed_)
        return error_;
    if (streamClosed_)
        return {};
    for (;;) {
        const QXmlStreamReader::TokenType token = reader_->readNext();
        const qint64 offset = reader_->characterOffset();
        const int depth = builder_.depth();
        // Characters are never more than bytes: an early, cheap bound while a stanza grows.
        if (depth > 0 && offset - lastTokenEndChar_ > limits_.maxStanzaBytes)
            return fail(QStringLiteral("policy-violation"), QStringLiteral("stanza too large"));

        switch (token) {
        case QXmlStreamReader::Invalid:
            if (reader_->error() != QXmlStreamReader::PrematureEndOfDocumentError)
                return fail(QStringLiteral("not-well-formed"), reader_->errorString());
            // Everything fed so far is consumed: what the reader holds belongs to this stanza.
            if (depth > 0 && totalFed_ - stanzaStart_ > limits_.maxStanzaBytes)
                return fail(QStringLiteral("policy-violation"), QStringLiteral("stanza too large"));
            if (depth == 0 && totalFed_ - byteOffsetAt(lastTokenEndChar_) > limits_.maxStanzaBytes)
                return fail(QStringLiteral("policy-violation"), QStringLiteral("header too large"));
            return {};
        case QXmlStreamReader::StartDocument: {
            const QStringView encoding = reader_->documentEncoding();
            if (!encoding.isEmpty() && encoding.compare(u"UTF-8", Qt::CaseInsensitive) != 0)
                return fail(QStringLiteral("unsupported-encoding"), encoding.toString());
            break;
        }
        case QXmlStreamReader::StartElement:
            if (!streamOpen_)
                return readStreamHeader();
            if (depth == 0)
                stanzaStart_ = byteOffsetAt(lastTokenEndChar_);
            if (depth + 1 > limits_.maxDepth)
                return fail(QStringLiteral("policy-violation"), QStringLiteral("too deep"));
            builder_.startElement(*reader_);
            break;
        case QXmlStreamReader::EndElement:
            if (depth == 0) {
                streamClosed_ = true;
                Event event;
                event.kind = Event::Kind::StreamClose;
                return event;
            }
            if (builder_.endElement()) {
                lastTokenEndChar_ = offset;
                if (byteOffsetAt(offset) - stanzaStart_ > limits_.maxStanzaBytes)
                    return fail(QStringLiteral("policy-violation"),
                                QStringLiteral("stanza too large"));
                Event event;
                event.kind = Event::Kind::Stanza;
                event.element = builder_.takeRoot();
                declareHeaderPrefixes(event.element);
                return event;
            }
            break;
        case QXmlStreamReader::Characters:
            if (depth > 0)
                builder_.characters(reader_->text());
            else if (!reader_->isWhitespace())
                return fail(QStringLiteral("not-well-formed"), QStringLiteral("text in stream"));
            break;
        case QXmlStreamReader::Comment:
        case QXmlStreamReader::DTD:
        case QXmlStreamReader::EntityReference:
        case QXmlStreamReader::ProcessingInstruction:
            // RFC 6120 §11.1
            return fail(QStringLiteral("restricted-xml"), reader_->tokenString());
        case QXmlStreamReader::EndDocument:
        case QXmlStreamReader::NoToken:
            break;
        }
        if (builder_.depth() == 0)
            lastTokenEndChar_ = offset;
    }
}

} // namespace xbnc
