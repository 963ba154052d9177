#pragma once

#include <QByteArrayView>

namespace xbnc {

// Checks a byte stream for well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF) across arbitrary chunk boundaries. QXmlStreamReader quietly turns a sequence
// split between two reads into U+FFFD, so the client stream is checked before it gets there.
class Utf8Validator
{
public:
    bool feed(QByteArrayView bytes); // false once anything invalid was seen
    void reset() { *this = Utf8Validator(); }

private:
    int pending_ = 0; // continuation bytes still expected
    uchar low_ = 0x80;
    uchar high_ = 0xBF;
    bool valid_ = true;
};

} // namespace xbnc
