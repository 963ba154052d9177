#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace xbnc {

// Sits between the socket and gloox's parser and keeps any element of the upstream stream from
// nesting deeper than a limit, before gloox builds a tree of it. gloox's parser is iterative,
// but its Tag destructor and Tag::xml() recurse once per level: measured with gloox 1.0.24 and
// an 8 MiB stack, 200,000 nested elements crash the process when the tree is freed, even when
// the stanza is never finished because the connection closes in its middle.
//
// When a stanza would nest deeper than maxDepth (the stanza itself is depth 1), the filter hands
// gloox the end tags that close it at that depth, marked as a cut, and skips everything else of
// that stanza; the owner refuses the cut stanza when gloox hands it over. Only tokens are
// recognised (tags, quoted attribute values, text); well-formedness stays gloox's job.
class UpstreamNestingFilter
{
public:
    // bytes: what gloox may parse, in order; cut: these bytes end a stanza that was cut short.
    using Sink = std::function<void(std::string_view bytes, bool cut)>;

    explicit UpstreamNestingFilter(int maxDepth) : maxDepth_(maxDepth) {}

    void feed(std::string_view data, const Sink &sink);
    int maxDepth() const { return maxDepth_; }
    // Whether the bytes so far end inside a stanza, and how many of them belong to it: what a
    // connection that closes now leaves unfinished.
    bool insideStanza() const
    {
        return depth_ > 0 || (token_ == Token::StartTag && name_ != "stream:stream");
    }
    long long unfinishedBytes() const { return insideStanza() ? fed_ - stanzaStart_ : 0; }

private:
    enum class Token
    {
        Text,
        Open,     // '<' seen, held back until the next byte says what it starts
        StartTag, // <name ...> or <name .../>
        EndTag,   // </name>
        Other,    // <?...> or <!...>
        CData,    // <![CDATA[...]]>: text to gloox, whatever it holds
    };

    void openToken(char c, std::string &out, const Sink &sink);
    void finishStartTag();
    void finishEndTag();
    void cut(std::string &out, const Sink &sink);

    int maxDepth_;
    Token token_ = Token::Text;
    std::string name_; // qualified name of the tag being read
    bool readingName_ = false;
    bool slashBeforeEnd_ = false;   // "/>" closes an empty element
    char quote_ = 0;                // inside an attribute value quoted with this character
    std::string markup_;            // the start of a <!...> token, to recognise <![CDATA[
    int depth_ = 0;                 // open elements below the stream element
    std::vector<std::string> open_; // their names, while not skipping
    bool skipping_ = false;         // inside the rest of a cut stanza
    long long fed_ = 0;             // bytes seen so far
    long long stanzaStart_ = 0;     // where the latest top-level element began
};

} // namespace xbnc
