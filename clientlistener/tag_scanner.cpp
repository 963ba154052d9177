#include "tag_scanner.h"

#include <cstring>

namespace xbnc {

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

constexpr char kCdataOpen[] = "[CDATA[";

} // namespace

void TagScanner::reset()
{
    state_ = State::Text;
    finding_ = Finding::None;
    terminator_ = nullptr;
    matched_ = nameBytes_ = attributes_ = 0;
    quote_ = 0;
}

qsizetype TagScanner::scan(QByteArrayView data)
{
    if (finding_ != Finding::None)
        return data.isEmpty() ? -1 : 0;
    const char *const begin = data.data();
    const char *const end = begin + data.size();
    for (const char *p = begin; p < end; ++p) {
        // Text and attribute values are most of a stream: jump over them to where they end.
        if (state_ == State::Text || state_ == State::Value) {
            const char *stop = static_cast<const char *>(
                std::memchr(p, state_ == State::Text ? '<' : quote_, size_t(end - p)));
            if (!stop)
                return -1;
            p = stop;
        }
        if (!step(*p))
            return p - begin;
    }
    return -1;
}

void TagScanner::skipUntil(const char *terminator)
{
    state_ = State::Skip;
    terminator_ = terminator;
    matched_ = 0;
}

bool TagScanner::countNameByte()
{
    if (++nameBytes_ <= limits_.maxNameBytes)
        return true;
    finding_ = Finding::NameTooLong;
    return false;
}

bool TagScanner::step(char c)
{
    switch (state_) {
    case State::Text:
        if (c == '<')
            state_ = State::Open;
        return true;
    case State::Open:
        nameBytes_ = 0;
        if (c == '/') {
            state_ = State::EndTag;
        } else if (c == '!') {
            state_ = State::Bang;
            matched_ = 0;
        } else if (c == '?') {
            skipUntil("?>");
        } else {
            state_ = State::ElementName;
            attributes_ = 0;
            return step(c);
        }
        return true;
    case State::Bang:
        if (c == kCdataOpen[matched_]) {
            if (++matched_ == int(sizeof(kCdataOpen) - 1))
                skipUntil("]]>");
            return true;
        }
        skipUntil(">"); // a comment or DTD: Qt refuses it, any end will do
        return step(c);
    case State::Skip: {
        // Every byte of a terminator but the last is the same, so a mismatch that repeats it
        // keeps the run ("]]]>", "??>").
        const int length = int(std::strlen(terminator_));
        if (c == terminator_[matched_]) {
            if (++matched_ == length)
                state_ = State::Text;
        } else if (c != terminator_[0]) {
            matched_ = 0;
        }
        return true;
    }
    case State::ElementName:
    case State::AttributeName:
        if (isSpace(c) || c == '=' || c == '/') {
            state_ = State::InTag;
        } else if (c == '>') {
            state_ = State::Text;
        } else if (c == '\'' || c == '"') {
            state_ = State::InTag; // malformed: Qt reports it
            return step(c);
        } else {
            return countNameByte();
        }
        return true;
    case State::InTag:
        if (c == '>') {
            state_ = State::Text;
        } else if (c == '\'' || c == '"') {
            state_ = State::Value;
            quote_ = c;
        } else if (!isSpace(c) && c != '/' && c != '=') {
            if (++attributes_ > limits_.maxAttributes) {
                finding_ = Finding::TooManyAttributes;
                return false;
            }
            state_ = State::AttributeName;
            nameBytes_ = 0;
            return countNameByte();
        }
        return true;
    case State::Value:
        if (c == quote_)
            state_ = State::InTag;
        return true;
    case State::EndTag:
        if (c == '>') {
            state_ = State::Text;
            return true;
        }
        return isSpace(c) || countNameByte();
    }
    return true;
}

} // namespace xbnc
