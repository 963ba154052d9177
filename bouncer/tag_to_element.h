#pragma once

#include "element.h"

#include <QStringView>

#include <optional>

namespace gloox {
class Tag;
}

namespace xbnc {

// Builds the Element that Element::fromXml(tag.xml()) would give, straight from gloox's parsed
// tree: the upstream hot path used to serialise every stanza and parse it a second time.
//
// gloox keeps an element's text apart from its children and exposes no order between them, so
// an element holding both (whitespace between children, XHTML-IM) has no direct conversion;
// neither has a tree that only a parser can judge (an undeclared prefix, a repeated attribute,
// a name or namespace outside plain ASCII, bytes that are not UTF-8, which gloox lets through).
// For those this returns nothing and the caller takes the serialise-and-parse path, which
// accepts or refuses them exactly as before.
//
// Text and attribute values come out as that path gives them: gloox stores them decoded and
// its xml() writes carriage returns, tabs and line feeds raw, so the parser's end-of-line and
// attribute-value normalisation applies to them; this does the same.
//
// `inheritedXmlns` is the default namespace in scope (the stream's). The tree is at most
// `maxDepth` deep (the caller checked): the conversion recurses once per level.
std::optional<Element> elementFromTag(const gloox::Tag &tag, QStringView inheritedXmlns,
                                      int maxDepth);

} // namespace xbnc
