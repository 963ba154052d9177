#include "upstream_nesting_filter.h"

namespace xbnc {

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

constexpr std::string_view cdataOpening = "![CDATA[";

std::string_view localName(std::string_view qualified)
{
    const auto colon = qualified.rfind(':');
    return colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
}

} // namespace

void UpstreamNestingFilter::feed(std::string_view data, const Sink &sink)
{
    std::string out;
    out.reserve(data.size());
    for (const char c : data) {
        ++fed_;
        if (token_ == Token::Open) {
            openToken(c, out, sink);
            continue;
        }
        if (token_ == Token::Text && c == '<') {
            token_ = Token::Open; // not passed on yet: it may start a tag that is one too deep
            continue;
        }
        if (!skipping_)
            out += c;
        switch (token_) {
        case Token::Text:
        case Token::Open:
            break;
        case Token::StartTag:
            if (quote_ != 0) {
                if (c == quote_)
                    quote_ = 0;
            } else if (c == '\'' || c == '"') {
                quote_ = c;
                readingName_ = false;
                slashBeforeEnd_ = false;
            } else if (c == '>') {
                finishStartTag();
            } else if (c == '/') {
                readingName_ = false;
                slashBeforeEnd_ = true;
            } else {
                slashBeforeEnd_ = false;
                if (isSpace(c))
                    readingName_ = readingName_ && name_.empty(); // gloox allows "< name"
                else if (readingName_)
                    name_ += c;
            }
            break;
        case Token::EndTag:
            if (c == '>')
                finishEndTag();
            break;
        case Token::Other:
            if (markup_.size() < cdataOpening.size())
                markup_ += c;
            if (markup_ == cdataOpening)
                token_ = Token::CData; // gloox reads it as text, and so must the count
            else if (c == '>')
                token_ = Token::Text;
            break;
        case Token::CData:
            markup_ += c;
            if (markup_.ends_with("]]>"))
                token_ = Token::Text;
            else if (markup_.size() > 3)
                markup_.erase(0, markup_.size() - 3);
            break;
        }
    }
    if (!out.empty())
        sink(out, false);
}

void UpstreamNestingFilter::openToken(char c, std::string &out, const Sink &sink)
{
    if (c == '/') {
        token_ = Token::EndTag;
    } else if (c == '?' || c == '!') {
        token_ = Token::Other;
        markup_.assign(1, c);
    } else {
        token_ = Token::StartTag;
        if (depth_ == 0)
            stanzaStart_ = fed_ - 2; // from its '<'
        name_.assign(isSpace(c) ? 0 : 1, c);
        readingName_ = true;
        slashBeforeEnd_ = false;
        quote_ = 0;
        if (!skipping_ && depth_ >= maxDepth_)
            cut(out, sink);
    }
    if (!skipping_) {
        out += '<';
        out += c;
    }
}

void UpstreamNestingFilter::finishStartTag()
{
    token_ = Token::Text;
    if (slashBeforeEnd_)
        return; // an empty element opens nothing
    if (depth_ == 0 && localName(name_) == "stream") {
        open_.clear(); // a stream header, also the restart after STARTTLS and SASL
        return;
    }
    ++depth_;
    if (!skipping_)
        open_.push_back(std::move(name_));
}

void UpstreamNestingFilter::finishEndTag()
{
    token_ = Token::Text;
    if (depth_ == 0)
        return; // </stream:stream>
    --depth_;
    if (skipping_)
        skipping_ = depth_ > 0; // the cut stanza's own end tag ends the skip
    else
        open_.pop_back();
}

void UpstreamNestingFilter::cut(std::string &out, const Sink &sink)
{
    if (!out.empty())
        sink(out, false);
    out.clear();
    std::string closing;
    for (auto name = open_.rbegin(); name != open_.rend(); ++name) {
        closing += "</";
        closing += *name;
        closing += '>';
    }
    open_.clear();
    skipping_ = true;
    sink(closing, true);
}

} // namespace xbnc
