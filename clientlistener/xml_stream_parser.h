#pragma once

#include "element.h"
#include "tag_scanner.h"
#include "utf8_validator.h"
#include "xml_tree_builder.h"

#include <QByteArray>
#include <QXmlStreamReader>

#include <memory>

namespace xbnc {

// Incremental parser of one client-to-server XML stream (RFC 6120 §4): feed it whatever the
// socket delivered, then call next() until it answers NeedMoreData. Each top-level child of the
// stream comes out as a whole Element. The limits protect the process from one client: bytes
// reach Qt's reader only as far as the current limit allows, so an oversized stanza or start tag
// is refused before Qt parses it whole.
class XmlStreamParser
{
public:
    struct Limits
    {
        // Per stanza. Downstream starts with the small pre-login limit and raises it once the
        // session is bound (setMaxStanzaBytes).
        qsizetype maxStanzaBytes = 256 * 1024;
        int maxDepth = 64;                   // the stanza itself is depth 1
        qsizetype maxHeaderBytes = 4 * 1024; // the stream header, and an XML declaration before it
        int maxAttributes = 64;              // per element, namespace declarations included
        int maxNameBytes = 256;              // element and attribute names, prefix included
    };

    struct Event
    {
        enum class Kind
        {
            NeedMoreData,
            StreamOpen,
            Stanza,
            StreamClose,
            Error
        };
        Kind kind = Kind::NeedMoreData;
        // StreamOpen: the stream header (attributes only). Stanza: the stanza.
        Element element;
        // Error: an RFC 6120 §4.9.3 condition, e.g. "not-well-formed", "policy-violation".
        QString errorCondition;
        QString errorText;   // fixed words of ours, fit for the peer's <text/>
        QString errorDetail; // for the log only: may hold the peer's own text, of any length
    };

    explicit XmlStreamParser(Limits limits);
    ~XmlStreamParser();

    void feed(QByteArrayView data);
    Event next();

    // Applies from the next stanza on, and to one already fed but not yet parsed.
    void setMaxStanzaBytes(qsizetype bytes) { limits_.maxStanzaBytes = bytes; }

    // A new stream begins on the same connection (after STARTTLS or SASL success).
    // keepUnread: bytes fed but not yet parsed belong to the new stream (a pipelining client);
    // false drops them.
    void restart(bool keepUnread);

    bool hasFailed() const { return failed_; }
    // Between stanzas, with nothing fed that is still to be parsed, the parser holds no Qt
    // reader (its buffers are most of an idle session's parser memory); the next bytes fed get
    // a new one.
    bool holdsReader() const { return reader_ != nullptr; }

private:
    Event fail(QString condition, QString text, QString detail = {});
    // Hands the reader as many pending bytes as the current limit allows; false if none moved.
    bool topUp();
    Event failOnLimit();
    // Absolute byte offset of a character offset of the reader; forgets the bytes before it.
    qint64 byteOffsetAt(qint64 characterOffset);
    Event readStreamHeader();
    void releaseReaderIfIdle();
    // A new reader for the open stream, primed with a header that declares what the client's
    // did, so the stanzas that follow see the same namespaces. False when nothing is pending.
    bool resumeReader();
    // A stanza may use prefixes the client declared on its stream header; the stanza travels
    // alone (upstream, to other sessions), so it carries those declarations itself.
    void declareHeaderPrefixes(Element &stanza) const;

    Limits limits_;
    std::unique_ptr<QXmlStreamReader> reader_;
    XmlTreeBuilder builder_;
    Utf8Validator utf8_;
    TagScanner scanner_;
    // Fed, but not yet given to the reader: waits for room under the current limit.
    QByteArray pending_;
    // Fed after a byte that breaks a TagScanner limit: never given to this reader, only kept for
    // a restart that keeps unread bytes.
    QByteArray held_;
    // Bytes given to the current reader from byte offset windowStart_ (= character offset
    // windowStartChar_) on: kept so that character offsets can be mapped back to bytes.
    QByteArray window_;
    qint64 windowStart_ = 0;
    qint64 windowStartChar_ = 0;
    qint64 totalFed_ = 0;                      // bytes given to the current reader
    qint64 stanzaStart_ = 0;                   // byte offset where the current stanza began
    qint64 lastTokenEndChar_ = 0;              // character offset after the previous token
    QList<Element::Attribute> headerPrefixes_; // prefix → namespace, from the stream header
    QString streamPrefix_;                     // the header's own prefix, usually "stream"
    // The last token was the stream header or a stanza's end tag. After whitespace the reader
    // may have consumed the '<' that ended it, so only these leave no partial token behind.
    bool afterElement_ = false;
    bool streamOpen_ = false;
    bool streamClosed_ = false;
    bool failed_ = false;
    Event error_;
};

} // namespace xbnc
