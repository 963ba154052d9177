// The byte filter in front of gloox's parser: what gloox gets to parse from the upstream stream.

#include "upstream_nesting_filter.h"

#include <QTest>

#include <string>
#include <vector>

using xbnc::UpstreamNestingFilter;

namespace {

const std::string header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                           "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

struct Passed
{
    std::string bytes;             // everything handed on, in order
    std::vector<std::string> cuts; // the pieces that ended a cut stanza
};

// Feeds `input` in pieces of `step` bytes (0: all at once).
Passed filter(int maxDepth, const std::string &input, std::size_t step = 0)
{
    UpstreamNestingFilter nesting(maxDepth);
    Passed passed;
    const auto sink = [&](std::string_view bytes, bool cut) {
        passed.bytes += bytes;
        if (cut)
            passed.cuts.emplace_back(bytes);
    };
    if (step == 0)
        step = input.size();
    for (std::size_t at = 0; at < input.size(); at += step)
        nesting.feed(std::string_view(input).substr(at, step), sink);
    return passed;
}

std::string nested(int depth)
{
    std::string xml = "<message from='eve@evil.example/x' id='m1'>";
    for (int level = 1; level < depth; ++level)
        xml += "<a>";
    for (int level = 1; level < depth; ++level)
        xml += "</a>";
    return xml + "</message>";
}

} // namespace

class TestUpstreamNestingFilter : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void shallowStreamPassesUnchanged_data();
    void shallowStreamPassesUnchanged();
    void tooDeepStanzaIsCutAndTheRestSkipped_data();
    void tooDeepStanzaIsCutAndTheRestSkipped();
    void unterminatedMillionLevelsStayBounded();
    void streamRestartStartsAtTheTopAgain();
    void cdataIsTextWhateverItHolds();
    void spaceAfterTheAngleBracketStillOpensATag();
};

void TestUpstreamNestingFilter::shallowStreamPassesUnchanged_data()
{
    QTest::addColumn<std::size_t>("step");
    QTest::newRow("at once") << std::size_t(0);
    QTest::newRow("byte by byte") << std::size_t(1);
    QTest::newRow("seven bytes at a time") << std::size_t(7);
}

void TestUpstreamNestingFilter::shallowStreamPassesUnchanged()
{
    QFETCH(std::size_t, step);
    const std::string input =
        header +
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>"
        "<message to='a@b' note='1 > 0 &amp; \"/>\"'><body>x &lt; y</body><x:e xmlns:x='u'/>"
        "<p:q xmlns:p='v'><r/></p:q></message>" +
        nested(3) + "<presence/></stream:stream>";
    const Passed passed = filter(3, input, step);
    QCOMPARE(passed.bytes, input);
    QVERIFY(passed.cuts.empty());
}

void TestUpstreamNestingFilter::tooDeepStanzaIsCutAndTheRestSkipped_data()
{
    QTest::addColumn<std::size_t>("step");
    QTest::newRow("at once") << std::size_t(0);
    QTest::newRow("byte by byte") << std::size_t(1);
}

void TestUpstreamNestingFilter::tooDeepStanzaIsCutAndTheRestSkipped()
{
    QFETCH(std::size_t, step);
    const std::string input = header + "<message id='before'/>" +
                              "<iq type='get' id='q1'><x:a xmlns:x='u' k='>'><b>text<c><d/>"
                              "</c></b></x:a></iq>" +
                              "<message id='after'><body>still here</body></message>";
    const Passed passed = filter(3, input, step);
    // <c> would be depth 4: gloox gets <iq> closed where <c> began, then the next stanza.
    QCOMPARE(passed.bytes, header + "<message id='before'/>" +
                               "<iq type='get' id='q1'><x:a xmlns:x='u' k='>'><b>text"
                               "</b></x:a></iq>" +
                               "<message id='after'><body>still here</body></message>");
    QCOMPARE(passed.cuts, std::vector<std::string>{"</b></x:a></iq>"});
}

void TestUpstreamNestingFilter::unterminatedMillionLevelsStayBounded()
{
    // The upstream connection closing in the middle of this must leave gloox a shallow tree.
    std::string input = header + "<message>";
    for (int level = 0; level < 1000000; ++level)
        input += "<a>";
    const Passed passed = filter(64, input);
    QCOMPARE(passed.cuts.size(), std::size_t(1));
    QCOMPARE(passed.bytes.size(), header.size() + std::string("<message>").size() + 63 * 3 +
                                      63 * 4 + std::string("</message>").size());
}

void TestUpstreamNestingFilter::streamRestartStartsAtTheTopAgain()
{
    // After STARTTLS the server opens a new stream without closing the first.
    const std::string input = header + "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" +
                              header + nested(2) + header + nested(2);
    const Passed passed = filter(2, input);
    QCOMPARE(passed.bytes, input);
    QVERIFY(passed.cuts.empty());
}

void TestUpstreamNestingFilter::cdataIsTextWhateverItHolds()
{
    // gloox reads a CDATA section as text: tags in it open nothing, a '>' does not end it.
    const std::string input = header + "<message><body><![CDATA[<a><a><a> > ]]]></body></message>";
    const Passed passed = filter(2, input, 1);
    QCOMPARE(passed.bytes, input);
    QVERIFY(passed.cuts.empty());
}

void TestUpstreamNestingFilter::spaceAfterTheAngleBracketStillOpensATag()
{
    // gloox skips whitespace after '<', so "< a>" counts as a tag and is closed as "</a>".
    const std::string input = header + "<message>< a><b/></a></message>";
    const Passed passed = filter(2, input);
    QCOMPARE(passed.bytes, header + "<message>< a></a></message>");
    QCOMPARE(passed.cuts, std::vector<std::string>{"</a></message>"});
}

QTEST_GUILESS_MAIN(TestUpstreamNestingFilter)
#include "tst_upstream_nesting_filter.moc"
