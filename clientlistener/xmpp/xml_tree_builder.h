#pragma once

#include "element.h"

#include <vector>

class QXmlStreamReader;

namespace xbnc {

// Turns the tokens of one element (and its subtree) read by a QXmlStreamReader into an Element.
// Shared by Element::fromXml and the client stream parser so both keep the same details:
// prefixes, prefixed namespace declarations, attribute order, merged text.
class XmlTreeBuilder
{
public:
    void startElement(const QXmlStreamReader &reader);
    void characters(QStringView text);
    // True when this closed the root element; takeRoot() then hands it over.
    bool endElement();
    Element takeRoot();
    int depth() const { return int(open_.size()); }
    void clear();

private:
    Element root_;
    // Path from the root to the innermost open element. Only the innermost one gains children,
    // so the pointers to its ancestors stay valid.
    std::vector<Element *> open_;
};

} // namespace xbnc
