#pragma once

#include "xml_node.h"

#include <QByteArray>
#include <QXmlStreamReader>

#include <deque>
#include <vector>

// Incremental reader of one XML stream as a client sees it: the stream root, then complete
// top-level children (stanzas, features, stream errors) as XmlNode trees, in arrival order.
// Bytes may arrive split anywhere; a stream restart (after STARTTLS or SASL) needs reset().
class XmlStanzaReader
{
public:
    void feed(const QByteArray &bytes);
    void reset();

    bool streamOpened() const { return opened_; }
    const XmlNode &streamRoot() const { return root_; } // attributes of <stream:stream>
    bool streamClosed() const { return closed_; }       // the peer sent </stream:stream>
    bool failed() const { return !errorString_.isEmpty(); }
    const QString &errorString() const { return errorString_; }

    std::deque<XmlNode> &stanzas() { return stanzas_; }
    const std::deque<XmlNode> &stanzas() const { return stanzas_; }

private:
    void startElement();
    void endElement();
    void characters();

    QXmlStreamReader reader_;
    XmlNode root_;
    std::vector<XmlNode> open_; // the stanza being built, outermost first
    std::deque<XmlNode> stanzas_;
    QString errorString_;
    bool opened_ = false;
    bool closed_ = false;
};
