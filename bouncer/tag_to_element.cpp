#include "tag_to_element.h"

#include <gloox/tag.h>

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace xbnc {

namespace {

const QString xmlPrefixNs = QStringLiteral("http://www.w3.org/XML/1998/namespace");

// The namespaces in scope at one element: the default one, and the prefixes declared on it and
// its ancestors inside the stanza, innermost last.
struct NamespaceScope
{
    QString defaultXmlns;
    std::vector<std::pair<std::string, QString>> prefixes;

    const QString *uriOf(const std::string &prefix) const
    {
        if (prefix == "xml")
            return &xmlPrefixNs;
        for (auto it = prefixes.rbegin(); it != prefixes.rend(); ++it) {
            if (it->first == prefix)
                return &it->second;
        }
        return nullptr;
    }
};

// Names and namespace URIs repeat in every stanza ("message", "to", "urn:xmpp:sid:0"): one
// shared QString each saves an allocation per use here and memory wherever the Element is kept
// (room logs hold thousands). The names come from any remote JID, so the cache is bounded in
// count and in the length of what it keeps; past that a name gets a string of its own.
class SharedNames
{
public:
    QString get(const std::string &name)
    {
        const auto it = names_.find(name);
        if (it != names_.end())
            return it->second;
        QString fresh = QString::fromStdString(name);
        if (names_.size() < maxNames && name.size() <= maxLength)
            names_.emplace(name, fresh);
        return fresh;
    }

private:
    static constexpr std::size_t maxNames = 1024;
    static constexpr std::size_t maxLength = 100; // bytes; namespace URIs are shorter
    std::unordered_map<std::string, QString> names_;
};

SharedNames &sharedNames()
{
    static SharedNames names; // the upstream edge runs on one thread
    return names;
}

bool isAsciiLetter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The names every XMPP extension uses. Anything else (non-ASCII letters, a leading digit) is
// for the parser to judge, so that what it refuses stays refused.
bool isPlainName(const std::string &name)
{
    if (name.empty() || !(isAsciiLetter(name.front()) || name.front() == '_'))
        return false;
    for (const char c : name) {
        if (!(isAsciiLetter(c) || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

// Whether UTF-8 decoding gave characters a parser refuses: U+FFFD stands for bytes that were
// not UTF-8 (gloox lets some through), U+FFFE and U+FFFF are not XML characters. A U+FFFD the
// peer really sent is left to the parser too, which accepts it.
bool hasRefusedCharacters(const QString &decoded)
{
    for (const QChar c : decoded)
        if (c.unicode() >= 0xFFFD)
            return true;
    return false;
}

// What a parser reads back from gloox's xml() for text or an attribute value: gloox writes
// CR, LF and tab raw, so end-of-line handling turns CR LF and CR into LF, and in a value each
// of them becomes a space. Other control characters and bytes that are not UTF-8 are not XML:
// nothing is returned, and the parser path refuses the stanza as it always did.
std::optional<QString> asParsed(const std::string &raw, bool inAttribute)
{
    bool plain = true;
    bool ascii = true;
    for (const char c : raw) {
        const auto byte = static_cast<unsigned char>(c);
        ascii = ascii && byte < 0x80;
        if (byte >= 0x20)
            continue;
        if (c != '\t' && c != '\n' && c != '\r')
            return std::nullopt;
        if (c == '\r' || inAttribute)
            plain = false;
    }
    std::string read;
    if (!plain) {
        read.reserve(raw.size());
        for (std::size_t i = 0; i < raw.size(); ++i) {
            char c = raw[i];
            if (c == '\r') {
                c = '\n';
                if (i + 1 < raw.size() && raw[i + 1] == '\n')
                    ++i;
            }
            read += (inAttribute && (c == '\n' || c == '\t')) ? ' ' : c;
        }
    }
    QString decoded = QString::fromStdString(plain ? raw : read);
    if (!ascii && hasRefusedCharacters(decoded))
        return std::nullopt;
    return decoded;
}

// A namespace URI as the parser path would keep it: printable ASCII only, else it decides.
bool isPlainUri(const std::string &uri)
{
    for (const char c : uri) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte >= 0x80)
            return false;
    }
    return true;
}

bool isDeclaration(const gloox::Tag::Attribute &a)
{
    return (a.prefix().empty() && a.name() == "xmlns") || a.prefix() == "xmlns";
}

// Declarations first: they apply to the element's own name and attributes wherever written.
bool takeDeclarations(const gloox::Tag &tag, NamespaceScope &scope, Element &element)
{
    bool defaultSeen = false;
    for (const gloox::Tag::Attribute *a : tag.attributes()) {
        if (isDeclaration(*a) && !isPlainUri(a->value()))
            return false;
        if (a->prefix().empty() && a->name() == "xmlns") {
            if (defaultSeen)
                return false;
            defaultSeen = true;
            scope.defaultXmlns = sharedNames().get(a->value());
        } else if (a->prefix() == "xmlns") {
            const std::string &prefix = a->name();
            if (!isPlainName(prefix) || prefix == "xml" || prefix == "xmlns" || a->value().empty())
                return false;
            const QString uri = sharedNames().get(a->value());
            const qsizetype before = element.prefixDeclarations().size();
            element.addPrefixDeclaration(sharedNames().get(prefix), uri);
            if (element.prefixDeclarations().size() == before)
                return false; // declared twice on one element
            scope.prefixes.emplace_back(prefix, uri);
        }
    }
    return true;
}

// Whether an attribute before `a` has the same expanded name (namespace, local name): two
// prefixes bound to one namespace still clash. Attributes are few; nothing is allocated here.
bool repeatsAnEarlier(const gloox::Tag::AttributeList &all,
                      gloox::Tag::AttributeList::const_iterator a, const QString *uri,
                      const NamespaceScope &scope)
{
    for (auto b = all.begin(); b != a; ++b) {
        if (isDeclaration(**b) || (*b)->name() != (*a)->name())
            continue;
        const QString *otherUri = (*b)->prefix().empty() ? nullptr : scope.uriOf((*b)->prefix());
        if (otherUri == uri || (otherUri && uri && *otherUri == *uri))
            return true;
    }
    return false;
}

bool takeAttributes(const gloox::Tag &tag, const NamespaceScope &scope, Element &element)
{
    const gloox::Tag::AttributeList &all = tag.attributes();
    for (auto it = all.begin(); it != all.end(); ++it) {
        const gloox::Tag::Attribute &a = **it;
        if (isDeclaration(a))
            continue;
        const std::string &prefix = a.prefix();
        if (!isPlainName(a.name()) || (!prefix.empty() && !isPlainName(prefix)))
            return false;
        const QString *uri = prefix.empty() ? nullptr : scope.uriOf(prefix);
        if ((!prefix.empty() && !uri) || repeatsAnEarlier(all, it, uri, scope))
            return false; // an undeclared prefix, or the same attribute twice
        const std::optional<QString> value = asParsed(a.value(), true);
        if (!value)
            return false;
        element.setAttribute(sharedNames().get(prefix.empty() ? a.name() : prefix + ':' + a.name()),
                             *value);
    }
    return true;
}

bool convert(const gloox::Tag &tag, NamespaceScope &scope, int depth, int maxDepth, Element &out)
{
    if (depth > maxDepth || !isPlainName(tag.name()))
        return false;
    const std::size_t outerPrefixes = scope.prefixes.size();
    const QString outerDefault = scope.defaultXmlns;
    if (!takeDeclarations(tag, scope, out))
        return false;
    const std::string &prefix = tag.prefix();
    if (prefix.empty()) {
        out.setXmlns(scope.defaultXmlns);
    } else {
        const QString *uri = prefix == "xml" ? nullptr : scope.uriOf(prefix);
        if (!uri || !isPlainName(prefix))
            return false;
        out.setXmlns(*uri);
        out.setPrefix(sharedNames().get(prefix));
    }
    out.setName(sharedNames().get(tag.name()));
    if (!takeAttributes(tag, scope, out))
        return false;

    const std::string text = tag.cdata();
    const gloox::TagList &children = tag.children();
    if (!text.empty() && !children.empty())
        return false; // mixed content: gloox does not say where the text goes
    if (!text.empty()) {
        const std::optional<QString> parsed = asParsed(text, false);
        if (!parsed)
            return false;
        out.setText(*parsed);
    }
    out.children().reserve(children.size());
    for (const gloox::Tag *child : children) {
        Element converted;
        if (!convert(*child, scope, depth + 1, maxDepth, converted))
            return false;
        out.children().push_back(std::move(converted));
    }
    scope.prefixes.resize(outerPrefixes);
    scope.defaultXmlns = outerDefault;
    return true;
}

} // namespace

std::optional<Element> elementFromTag(const gloox::Tag &tag, QStringView inheritedXmlns,
                                      int maxDepth)
{
    NamespaceScope scope;
    scope.defaultXmlns = inheritedXmlns.toString();
    Element element;
    if (!convert(tag, scope, 1, maxDepth, element))
        return std::nullopt;
    return element;
}

} // namespace xbnc
