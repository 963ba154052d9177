// xbnc's CPU time per room message on the hot path: a room on Prosody receives M messages at a
// steady rate from bob (straight on Prosody) and xbnc fans each out to S sessions of alice.
//   build/tests/bench/bench_room_flood [--sessions S] [--messages M] [--rate R] [--hold SECONDS]
// It prints xbnc's process id before the flood and, with --hold, waits that long first so that a
// profiler can attach (perf record -g -p PID). After the last message reached every session it
// prints the user and system CPU time xbnc spent during the flood, per message and per copy.
// It exits non-zero when a session lost, doubled or reordered a message. Keep the flood to a few
// thousand messages at about 1,000/s: Prosody archives each room message (mod_muc_mam, internal
// storage) and slows down as a room's archive grows, which would leave xbnc idle.
#include "bouncer_fixture.h"
#include "muc_helpers.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QThread>

#include <cstdio>
#include <memory>
#include <unistd.h>
#include <vector>

namespace {

const QString room = QStringLiteral("flood@conference.localhost");

// The one child of this process that is xbnc (the fixture starts Prosody and xbnc as children).
qint64 xbncPid()
{
    const QDir tasks(QStringLiteral("/proc/self/task"));
    for (const QString &task : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile children(tasks.filePath(task + QStringLiteral("/children")));
        if (!children.open(QIODevice::ReadOnly))
            continue;
        for (const QByteArray &pid : children.readAll().split(' ')) {
            QFile comm(QStringLiteral("/proc/%1/comm").arg(QString::fromLatin1(pid.trimmed())));
            if (comm.open(QIODevice::ReadOnly) && comm.readAll().trimmed() == "xbnc")
                return pid.trimmed().toLongLong();
        }
    }
    return -1;
}

// utime + stime of a process in milliseconds.
double cpuMs(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray text = stat.readAll();
    // Fields after the command name, which is in parentheses and may hold spaces.
    const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
    const double ticks = fields.value(11).toDouble() + fields.value(12).toDouble();
    return ticks * 1000.0 / double(sysconf(_SC_CLK_TCK));
}

struct Session
{
    TestClient *client = nullptr;
    int next = 0; // the number of the message it must get next
};

// Takes what the session has and checks the room messages are the next ones, in order.
bool drain(Session &session, QString *error)
{
    for (const XmlNode &stanza : session.client->takeBuffered()) {
        if (stanza.name != u"message" || stanza.attribute(u"type") != u"groupchat")
            continue;
        const XmlNode *body = stanza.child(u"body");
        if (!body)
            continue;
        const QString expected = QStringLiteral("m%1").arg(session.next);
        if (body->text() != expected) {
            *error = QStringLiteral("%1 got %2, expected %3")
                         .arg(session.client->name(), body->text(), expected);
            return false;
        }
        ++session.next;
    }
    return true;
}

int run(int sessionCount, int messages, int rate, int holdSeconds)
{
    BouncerFixture fixture;
    QString error;
    if (!fixture.start({QStringLiteral("bob")})) {
        std::fprintf(stderr, "%s\n", qPrintable(fixture.errorString()));
        return 1;
    }
    TestClient *bob = fixture.direct(QStringLiteral("bob"));
    if (!bob || !muc::createRoom(*bob, room, QStringLiteral("bob"), {}, &error)) {
        std::fprintf(stderr, "room: %s %s\n", qPrintable(error), qPrintable(fixture.errorString()));
        return 1;
    }
    std::vector<Session> sessions;
    for (int i = 0; i < sessionCount; ++i) {
        TestClient *client = fixture.session(QStringLiteral("s%1").arg(i));
        if (!client || !muc::join(*client, room + QStringLiteral("/alice"), &error)) {
            std::fprintf(stderr, "session %d: %s %s\n", i, qPrintable(error),
                         qPrintable(fixture.errorString()));
            return 1;
        }
        sessions.push_back({client, 0});
    }
    const qint64 pid = xbncPid();
    std::printf("xbnc pid %lld\n", pid);
    std::fflush(stdout);
    if (holdSeconds > 0)
        QThread::sleep(holdSeconds); // for a profiler to attach; nothing waits on xbnc here

    const double cpuBefore = cpuMs(pid);
    QElapsedTimer clock;
    clock.start();
    int sent = 0;
    const auto everyoneHasAll = [&] {
        for (const Session &s : sessions)
            if (s.next < messages)
                return false;
        return true;
    };
    while (!everyoneHasAll()) {
        // As many as the rate allows by now, in small batches between reads.
        const int due = std::min<qint64>(messages, clock.elapsed() * rate / 1000 + 1);
        for (; sent < due; ++sent)
            bob->send(muc::groupchat(room, QStringLiteral("f%1").arg(sent),
                                     QStringLiteral("m%1").arg(sent)));
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        for (Session &s : sessions) {
            if (!drain(s, &error)) {
                std::fprintf(stderr, "%s\n", qPrintable(error));
                return 1;
            }
        }
        bob->takeBuffered();
        if (clock.elapsed() > 120'000 + qint64(messages) * 1000 / rate) {
            std::fprintf(stderr, "timed out; first session at %d of %d\n", sessions[0].next,
                         messages);
            return 1;
        }
    }
    const double seconds = double(clock.elapsed()) / 1000.0;
    const double cpu = cpuMs(pid) - cpuBefore;
    std::printf("sessions %d, messages %d, offered %d msg/s: all delivered in %.1f s (%.0f msg/s)\n"
                "xbnc CPU %.0f ms: %.1f µs per room message, %.2f µs per copy to a session\n",
                sessionCount, messages, rate, seconds, messages / seconds, cpu,
                cpu * 1000.0 / messages, cpu * 1000.0 / (double(messages) * sessionCount));
    fixture.stop();
    return 0;
}

struct Flood
{
    int sessions = 10;
    int messages = 5000;
    int rate = 1000;
    int holdSeconds = 0;
};

Flood floodFromArguments(const QCoreApplication &app)
{
    QCommandLineParser parser;
    parser.addHelpOption();
    const Flood defaults;
    const auto option = [&parser](const char *name, const char *help, int value) {
        parser.addOption({QString::fromLatin1(name), QString::fromLatin1(help), QStringLiteral("n"),
                          QString::number(value)});
    };
    option("sessions", "Sessions through xbnc.", defaults.sessions);
    option("messages", "Room messages.", defaults.messages);
    option("rate", "Messages per second offered.", defaults.rate);
    option("hold", "Seconds to wait before the flood.", defaults.holdSeconds);
    parser.process(app);
    const auto value = [&parser](const char *name) {
        return parser.value(QString::fromLatin1(name)).toInt();
    };
    return {value("sessions"), value("messages"), value("rate"), value("hold")};
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const Flood flood = floodFromArguments(app);
    return run(flood.sessions, flood.messages, flood.rate, flood.holdSeconds);
}
