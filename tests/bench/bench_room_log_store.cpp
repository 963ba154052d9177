// Writing room messages to the SQLite store: one transaction per message ("each"), or in
// batches of 64 as the running bouncer does ("batch", the default), trimmed to the room's log
// size. Time it as a whole process, e.g.
//   /usr/bin/time -v build/tests/bench/bench_room_log_store 20000 batch
#include "store.h"

#include <QCoreApplication>
#include <QTemporaryDir>

#include <cstdio>
#include <cstring>

using namespace xbnc;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int messages = argc > 1 ? std::atoi(argv[1]) : 20000;
    const bool each = argc > 2 && std::strcmp(argv[2], "each") == 0;
    QTemporaryDir dir;
    Store store;
    QString error;
    if (!store.open(dir.path(), &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    const QString room = QStringLiteral("team@conference.example.org");
    const Element message = Element::fromXml(
        "<message from='team@conference.example.org/bob' to='alice@example.org/xbnc' "
        "type='groupchat' id='a1b2c3d4'><body>Are we still on for lunch tomorrow at noon?</body>"
        "<stanza-id xmlns='urn:xmpp:sid:0' by='team@conference.example.org' id='x'/></message>");
    const QDateTime start = QDateTime::currentDateTimeUtc();
    int written = 0;
    std::vector<std::pair<QString, RoomLog::Entry>> batch;
    for (int i = 0; i < messages; ++i) {
        RoomLog::Entry entry{message, start.addMSecs(i), QString::number(i)};
        if (each) {
            written += store.appendRoomMessage(room, entry, 1000);
            continue;
        }
        batch.emplace_back(room, std::move(entry));
        if (batch.size() == 64 || i == messages - 1) {
            if (store.appendRoomMessages(batch, 1000))
                written += int(batch.size());
            batch.clear();
        }
    }
    std::printf("%d of %d messages written, %zu kept\n", written, messages,
                store.roomMessages(room).size());
    return written == messages ? 0 : 1;
}
