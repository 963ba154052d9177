#pragma once

#include <QByteArrayView>

namespace xbnc {

// Reads the raw bytes of a client stream ahead of QXmlStreamReader. Qt parses a whole start tag
// at once and checks its attributes for duplicates in quadratic time, and its own name limits
// depend on how it was built: a tag with too many attributes, or with a name that is too long,
// is found here before Qt sees it.
class TagScanner
{
public:
    struct Limits
    {
        int maxAttributes = 64; // per element, namespace declarations included
        int maxNameBytes = 256; // element or attribute name, prefix and colon included
    };

    enum class Finding
    {
        None,
        TooManyAttributes,
        NameTooLong
    };

    explicit TagScanner(Limits limits) : limits_(limits) {}

    // Scans the next bytes of the stream. Returns the index in data of the byte that breaks a
    // limit (finding() says which), or -1. Once a limit is broken, later bytes are not scanned.
    qsizetype scan(QByteArrayView data);
    Finding finding() const { return finding_; }
    void reset();

private:
    enum class State
    {
        Text,
        Open, // after '<'
        Bang, // after "<!": a CDATA section or markup Qt refuses
        Skip, // until terminator_: "<?…?>", "<!…>", "<![CDATA[…]]>"
        ElementName,
        InTag,
        AttributeName,
        Value,
        EndTag
    };

    bool step(char c); // false: a limit is broken at c
    void skipUntil(const char *terminator);
    bool countNameByte();

    Limits limits_;
    State state_ = State::Text;
    Finding finding_ = Finding::None;
    const char *terminator_ = nullptr;
    int matched_ = 0; // bytes of "[CDATA[" or of terminator_ seen so far
    int nameBytes_ = 0;
    int attributes_ = 0;
    char quote_ = 0;
};

} // namespace xbnc
