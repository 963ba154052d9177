#include "xml_stream_parser.h"

namespace xbnc {

namespace {
constexpr QStringView kStreamsNs = u"http://etherx.jabber.org/streams";
constexpr QStringView kClientNs = u"jabber:client";
} // namespace

XmlStreamParser::XmlStreamParser(Limits limits)
    : limits_(limits), reader_(std::make_unique<QXmlStreamReader>()),
      scanner_({limits.maxAttributes, limits.maxNameBytes})
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
    // The reader gets the bytes before the one that breaks a limit: the stanzas before it still
    // come out, then the error.
    if (const qsizetype breaking = scanner_.scan(data); breaking >= 0) {
        held_.append(data.sliced(breaking));
        data = data.first(breaking);
    }
    pending_.append(data);
}

void XmlStreamParser::restart(bool keepUnread)
{
    QByteArray unread;
    if (keepUnread && reader_) {
        byteOffsetAt(reader_->characterOffset());
        unread = window_ + pending_ + held_;
    }
    reader_ = std::make_unique<QXmlStreamReader>();
    builder_.clear();
    utf8_.reset();
    scanner_.reset();
    pending_.clear();
    held_.clear();
    window_.clear();
    windowStart_ = windowStartChar_ = totalFed_ = 0;
    stanzaStart_ = lastTokenEndChar_ = 0;
    streamOpen_ = streamClosed_ = failed_ = afterElement_ = false;
    headerPrefixes_.clear();
    streamPrefix_.clear();
    error_ = Event();
    feed(unread);
}

XmlStreamParser::Event XmlStreamParser::fail(QString condition, QString text, QString detail)
{
    failed_ = true;
    error_.kind = Event::Kind::Error;
    error_.errorCondition = std::move(condition);
    error_.errorText = std::move(text);
    error_.errorDetail = std::move(detail);
    return error_;
}

bool XmlStreamParser::topUp()
{
    if (pending_.isEmpty())
        return false;
    // The reader holds at most the limit from where the current stanza (or header) began, so it
    // never parses more of one than the limit allows.
    const qsizetype limit = streamOpen_ ? limits_.maxStanzaBytes : limits_.maxHeaderBytes;
    const qint64 start = builder_.depth() > 0 ? stanzaStart_ : byteOffsetAt(lastTokenEndChar_);
    const qint64 room = start + limit - totalFed_;
    if (room <= 0)
        return false;
    const qsizetype size = qsizetype(qMin<qint64>(room, pending_.size()));
    reader_->addData(pending_.first(size));
    window_.append(pending_.constData(), size);
    totalFed_ += size;
    pending_.remove(0, size);
    return true;
}

XmlStreamParser::Event XmlStreamParser::failOnLimit()
{
    const QString violation = QStringLiteral("policy-violation");
    if (!pending_.isEmpty())
        return fail(violation, streamOpen_ ? QStringLiteral("stanza too large")
                                           : QStringLiteral("stream header too large"));
    switch (scanner_.finding()) {
    case TagScanner::Finding::TooManyAttributes:
        return fail(violation, QStringLiteral("too many attributes on one element"));
    case TagScanner::Finding::NameTooLong:
        return fail(violation, QStringLiteral("name too long"));
    case TagScanner::Finding::None:
        break;
    }
    return {};
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
    const QString seen = QStringLiteral("%1 %2").arg(r.qualifiedName(), r.namespaceUri());
    if (r.name() != u"stream" || r.namespaceUri() != kStreamsNs)
        return fail(QStringLiteral("invalid-namespace"), QStringLiteral("not a stream header"),
                    seen);
    bool clientNs = false;
    for (const QXmlStreamNamespaceDeclaration &d : r.namespaceDeclarations()) {
        if (d.prefix().isEmpty())
            clientNs = d.namespaceUri() == kClientNs;
        else
            headerPrefixes_.append({d.prefix().toString(), d.namespaceUri().toString()});
    }
    if (!clientNs)
        return fail(QStringLiteral("invalid-namespace"), QStringLiteral("not jabber:client"), seen);

    Event event;
    event.kind = Event::Kind::StreamOpen;
    event.element = Element(QStringLiteral("stream"), kStreamsNs.toString());
    streamPrefix_ = r.prefix().toString();
    event.element.setPrefix(streamPrefix_);
    for (const QXmlStreamAttribute &a : r.attributes())
        event.element.setAttribute(a.qualifiedName().toString(), a.value().toString());
    streamOpen_ = afterElement_ = true;
    lastTokenEndChar_ = r.characterOffset();
    byteOffsetAt(lastTokenEndChar_);
    return event;
}

namespace {

// What a refused comment, DTD or processing instruction said, for the log.
QString restrictedDetail(const QXmlStreamReader &reader)
{
    QString detail = reader.tokenString() + u' ';
    if (reader.tokenType() == QXmlStreamReader::ProcessingInstruction)
        detail += QStringLiteral("%1 %2").arg(reader.processingInstructionTarget(),
                                              reader.processingInstructionData());
    else if (reader.tokenType() == QXmlStreamReader::EntityReference)
        detail += reader.name();
    else
        detail += reader.text();
    return detail;
}

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

void XmlStreamParser::releaseReaderIfIdle()
{
    if (!afterElement_ || !streamOpen_ || streamClosed_ || !pending_.isEmpty() || !held_.isEmpty())
        return;
    // What the reader was given past its last token must be whitespace between stanzas: a
    // partial tag would have to be given to the next reader again.
    byteOffsetAt(lastTokenEndChar_);
    for (const char c : std::as_const(window_))
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return;
    reader_.reset();
    window_.clear();
}

namespace {

// Tab, CR and LF as references: a literal one would be normalised to a space.
QString escapedAttributeValue(QString value)
{
    return value.replace(u'&', QStringLiteral("&amp;"))
        .replace(u'<', QStringLiteral("&lt;"))
        .replace(u'\'', QStringLiteral("&apos;"))
        .replace(u'\t', QStringLiteral("&#9;"))
        .replace(u'\n', QStringLiteral("&#10;"))
        .replace(u'\r', QStringLiteral("&#13;"));
}

} // namespace

bool XmlStreamParser::resumeReader()
{
    if (pending_.isEmpty())
        return false;
    // The client's header declared jabber:client as the default namespace (readStreamHeader
    // refuses any other) and the prefixes in headerPrefixes_, its own among them.
    QString header = QStringLiteral("<%1:stream xmlns='%2'").arg(streamPrefix_, kClientNs);
    for (const Element::Attribute &d : std::as_const(headerPrefixes_))
        header += QStringLiteral(" xmlns:%1='%2'").arg(d.name, escapedAttributeValue(d.value));
    header += u'>';
    reader_ = std::make_unique<QXmlStreamReader>();
    reader_->addData(header);
    const QXmlStreamReader::TokenType document = reader_->readNext();
    const QXmlStreamReader::TokenType stream = reader_->readNext();
    Q_ASSERT(document == QXmlStreamReader::StartDocument &&
             stream == QXmlStreamReader::StartElement);
    Q_UNUSED(document);
    Q_UNUSED(stream);
    // Offsets count from here: the primer is no part of what the client sent.
    window_.clear();
    windowStart_ = totalFed_ = stanzaStart_ = 0;
    windowStartChar_ = lastTokenEndChar_ = reader_->characterOffset();
    afterElement_ = true;
    return true;
}

XmlStreamParser::Event XmlStreamParser::next()
{
    if (failed_)
        return error_;
    if (streamClosed_)
        return {};
    if (!reader_ && !resumeReader())
        return failOnLimit();
    for (;;) {
        const QXmlStreamReader::TokenType token = reader_->readNext();
        const qint64 offset = reader_->characterOffset();
        const int depth = builder_.depth();
        if (token != QXmlStreamReader::Invalid)
            afterElement_ = false;

        switch (token) {
        case QXmlStreamReader::Invalid:
            if (reader_->error() != QXmlStreamReader::PrematureEndOfDocumentError)
                return fail(QStringLiteral("not-well-formed"), QStringLiteral("invalid XML"),
                            reader_->errorString());
            if (topUp())
                continue;
            if (Event event = failOnLimit(); event.kind != Event::Kind::NeedMoreData)
                return event;
            releaseReaderIfIdle();
            return {};
        case QXmlStreamReader::StartDocument: {
            const QStringView encoding = reader_->documentEncoding();
            if (!encoding.isEmpty() && encoding.compare(u"UTF-8", Qt::CaseInsensitive) != 0)
                return fail(QStringLiteral("unsupported-encoding"),
                            QStringLiteral("only UTF-8 is supported"), encoding.toString());
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
                afterElement_ = true;
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
                return fail(QStringLiteral("not-well-formed"),
                            QStringLiteral("text between stanzas"));
            break;
        case QXmlStreamReader::Comment:
        case QXmlStreamReader::DTD:
        case QXmlStreamReader::EntityReference:
        case QXmlStreamReader::ProcessingInstruction:
            // RFC 6120 §11.1
            return fail(QStringLiteral("restricted-xml"),
                        QStringLiteral("comments, processing instructions, DTDs and entity "
                                       "references are not allowed"),
                        restrictedDetail(*reader_));
        case QXmlStreamReader::EndDocument:
        case QXmlStreamReader::NoToken:
            break;
        }
        if (builder_.depth() == 0)
            lastTokenEndChar_ = offset;
    }
}

} // namespace xbnc
