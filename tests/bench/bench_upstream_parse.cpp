// What the upstream edge pays per stanza from the server: gloox parses it, then it becomes the
// hub's Element, either straight from gloox's tree (elementFromTag, today) or by serialising
// the tree and parsing it again (Element::fromXml(tag.xml()), before). Each path runs as a
// whole process, alternating, and the ratio is taken within one run.
//
//   bench_upstream_parse [--stanzas N] [--rounds R]      compares, prints a table
//   bench_upstream_parse --path gloox|xml|direct N       one timed child
// With --keep a child keeps every Element, as a room log keeps its messages, and prints its
// peak resident set: what a kept stanza costs in memory on each path.

#include "tag_to_element.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QTextStream>

#include <gloox/parser.h>
#include <gloox/tag.h>
#include <gloox/taghandler.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <sys/resource.h>
#include <vector>

using xbnc::Element;

namespace {

constexpr int maxDepth = 64;

// Shaped like Prosody's output for an account in busy rooms: mostly room messages, then room
// presence, OMEMO chat and carbons.
std::string stanza(int i)
{
    const std::string n = std::to_string(i);
    switch (i % 20) {
    case 0:
    case 1:
    case 2:
        return "<presence from='room@muc.localhost/user" + n +
               "' to='acc@localhost/xbnc'><c xmlns='http://jabber.org/protocol/caps' "
               "hash='sha-1' node='https://gajim.org' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/>"
               "<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
               "role='participant'/></x><occupant-id xmlns='urn:xmpp:occupant-id:0' "
               "id='dGhpcyBpcyBhbiBvY2N1cGFudA=='/></presence>";
    case 3:
    case 4:
        return "<message from='bob@localhost/phone' to='acc@localhost' type='chat' id='o" + n +
               "'><encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='12345'>"
               "<key rid='678' prekey='true'>MwgBEiEFb3Wn+Y/MbOaKXm2dLa0hJjYTn6z4y9fQ==</key>"
               "<key rid='91'>MwohBR0xuf4kEvKd4P6YpL8e3vFuZQ==</key><iv>AAECAwQFBgcICQoL</iv>"
               "</header><payload>c2VjcmV0IHRleHQgb2YgYSBtZXNzYWdl</payload></encrypted>"
               "<store xmlns='urn:xmpp:hints'/><encryption xmlns='urn:xmpp:eme:0' "
               "namespace='eu.siacs.conversations.axolotl' name='OMEMO'/>"
               "<body>I sent you an OMEMO encrypted message.</body></message>";
    case 5:
        return "<message from='acc@localhost' to='acc@localhost/xbnc' type='chat'>"
               "<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
               "<message xmlns='jabber:client' from='bob@localhost/phone' "
               "to='acc@localhost/other' type='chat' id='c" +
               n +
               "'><body>see you at 5 &amp; bring the &lt;cake&gt;</body>"
               "<active xmlns='http://jabber.org/protocol/chatstates'/></message></forwarded>"
               "</received></message>";
    default:
        return "<message from='room@muc.localhost/user" + std::to_string(i % 50) +
               "' to='acc@localhost/xbnc' type='groupchat' id='m" + n +
               "' xml:lang='en'><body>Message number " + n +
               " in a busy room, about as long as a line of chat usually is.</body>"
               "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='dGhpcyBpcyBhbiBvY2N1cGFudA=='/>"
               "<stanza-id xmlns='urn:xmpp:sid:0' id='5f3e2c1a-" +
               n + "' by='room@muc.localhost'/></message>";
    }
}

enum class Path
{
    Gloox, // gloox's parse alone: the floor both paths stand on
    Xml,
    Direct,
};

class Converter : public gloox::TagHandler
{
public:
    Converter(Path path, bool keep) : path_(path), keep_(keep) {}

    void handleTag(gloox::Tag *tag) override
    {
        if (tag->name() == "stream")
            return;
        ++stanzas_;
        if (path_ == Path::Gloox)
            return;
        Element element;
        if (path_ == Path::Direct) {
            if (std::optional<Element> direct =
                    xbnc::elementFromTag(*tag, u"jabber:client", maxDepth))
                element = std::move(*direct);
        } else {
            const std::string xml = tag->xml();
            element = Element::fromXml(QByteArrayView(xml.data(), qsizetype(xml.size())),
                                       u"jabber:client", nullptr, maxDepth);
        }
        if (element.isNull())
            return;
        ++converted_;
        if (keep_)
            kept_.push_back(std::move(element));
    }

    long stanzas_ = 0;
    long converted_ = 0;

private:
    Path path_;
    bool keep_;
    std::vector<Element> kept_;
};

int runOnePath(Path path, int count, bool keep)
{
    std::string stream = "<stream:stream xmlns='jabber:client' "
                         "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
    for (int i = 0; i < count; ++i)
        stream += stanza(i);
    Converter converter(path, keep);
    gloox::Parser parser(&converter);
    constexpr std::size_t chunk = 4096; // about what one TLS record gives gloox
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
        std::string piece = stream.substr(at, chunk);
        if (parser.feed(piece) >= 0) {
            std::fprintf(stderr, "gloox refused the stream\n");
            return 1;
        }
    }
    const bool complete =
        converter.stanzas_ == count && (path == Path::Gloox || converter.converted_ == count);
    if (!complete) {
        std::fprintf(stderr, "%ld of %d stanzas parsed, %ld converted\n", converter.stanzas_, count,
                     converter.converted_);
        return 1;
    }
    if (keep) {
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        std::printf("%ld\n", usage.ru_maxrss);
    }
    return 0;
}

struct ChildRun
{
    double ms = -1;
    double peakKiB = 0; // with --keep
};

ChildRun runChild(const QString &path, int count, bool keep)
{
    QProcess child;
    QElapsedTimer timer;
    timer.start();
    QStringList arguments{QStringLiteral("--path"), path, QString::number(count)};
    if (keep)
        arguments << QStringLiteral("--keep");
    child.start(QCoreApplication::applicationFilePath(), arguments);
    if (!child.waitForFinished(600'000) || child.exitCode() != 0) {
        std::fprintf(stderr, "the %s run failed: %s\n", qPrintable(path),
                     child.readAllStandardError().constData());
        return {};
    }
    return {double(timer.nsecsElapsed()) / 1e6, child.readAllStandardOutput().trimmed().toDouble()};
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

int compare(int count, int rounds)
{
    const QStringList paths{QStringLiteral("gloox"), QStringLiteral("xml"),
                            QStringLiteral("direct")};
    std::vector<std::vector<double>> times(paths.size());
    for (int round = 0; round < rounds; ++round) {
        for (int p = 0; p < paths.size(); ++p) {
            const double ms = runChild(paths[p], count, false).ms;
            if (ms < 0)
                return 1;
            times[p].push_back(ms);
        }
    }
    std::vector<double> peaks;
    for (const QString &path : paths)
        peaks.push_back(runChild(path, count, true).peakKiB);
    const double gloox = median(times[0]);
    const double xml = median(times[1]);
    const double direct = median(times[2]);
    QTextStream out(stdout);
    out << "stanzas " << count << ", rounds " << rounds << ", medians of whole processes\n";
    out << "| path | ms | µs per stanza over gloox's parse | bytes per kept stanza |\n"
           "|---|---|---|---|\n";
    for (int p = 0; p < paths.size(); ++p) {
        const double ms = median(times[p]);
        out << "| " << paths[p] << " | " << QString::number(ms, 'f', 0) << " | "
            << QString::number((ms - gloox) * 1000.0 / count, 'f', 2) << " | "
            << QString::number((peaks[p] - peaks[0]) * 1024.0 / count, 'f', 0) << " |\n";
    }
    out << "whole process direct/xml: " << QString::number(direct / xml, 'f', 2)
        << "; conversion alone (over gloox) direct/xml: "
        << QString::number((direct - gloox) / (xml - gloox), 'f', 2) << "\n";
    return 0;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser options;
    options.addHelpOption();
    options.addOption({QStringLiteral("path"), QStringLiteral("Run one path: gloox, xml, direct."),
                       QStringLiteral("path")});
    options.addOption({QStringLiteral("keep"), QStringLiteral("Keep every Element (one path).")});
    options.addOption({QStringLiteral("stanzas"), QStringLiteral("Stanzas per run."),
                       QStringLiteral("n"), QStringLiteral("100000")});
    options.addOption({QStringLiteral("rounds"), QStringLiteral("Runs of each path."),
                       QStringLiteral("r"), QStringLiteral("5")});
    options.process(app);
    if (options.isSet(QStringLiteral("path"))) {
        const QString path = options.value(QStringLiteral("path"));
        const int count = options.positionalArguments().value(0).toInt();
        const bool keep = options.isSet(QStringLiteral("keep"));
        if (path == u"gloox")
            return runOnePath(Path::Gloox, count, keep);
        return runOnePath(path == u"direct" ? Path::Direct : Path::Xml, count, keep);
    }
    return compare(options.value(QStringLiteral("stanzas")).toInt(),
                   options.value(QStringLiteral("rounds")).toInt());
}
