#include "utf8_validator.h"

namespace xbnc {

bool Utf8Validator::feed(QByteArrayView bytes)
{
    for (qsizetype i = 0; valid_ && i < bytes.size(); ++i) {
        const auto b = uchar(bytes[i]);
        if (pending_ > 0) {
            if (b < low_ || b > high_) {
                valid_ = false;
                break;
            }
            --pending_;
            low_ = 0x80;
            high_ = 0xBF;
            continue;
        }
        if (b < 0x80)
            continue;
        // The first continuation byte's range is what excludes overlongs and surrogates.
        if (b >= 0xC2 && b <= 0xDF) {
            pending_ = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            pending_ = 2;
            if (b == 0xE0)
                low_ = 0xA0;
            else if (b == 0xED)
                high_ = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            pending_ = 3;
            if (b == 0xF0)
                low_ = 0x90;
            else if (b == 0xF4)
                high_ = 0x8F;
        } else {
            valid_ = false;
        }
    }
    return valid_;
}

} // namespace xbnc
