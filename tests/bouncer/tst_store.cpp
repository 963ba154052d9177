#include "store.h"
#include "store_fast_tokens.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSet>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

using namespace xbnc;

namespace {

// Big enough to need pages of its own (SQLite overflow pages), so it cannot fit in free space.
Element bigMessage(const QString &id)
{
    return Element::fromXml(QStringLiteral("<message to='bob@example.org' type='chat' id='%1'>"
                                           "<body>%2</body></message>")
                                .arg(id, QString(6000, u'x'))
                                .toUtf8());
}

const QDateTime t0 = QDateTime::fromSecsSinceEpoch(1700000000, Qt::UTC);

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

void writeAll(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(file.write(bytes), bytes.size());
}

QFile::Permissions groupOrOthers()
{
    return QFile::ReadGroup | QFile::WriteGroup | QFile::ExeGroup | QFile::ReadOther |
           QFile::WriteOther | QFile::ExeOther;
}

} // namespace

class TestStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // XEP-0484 tokens keep what FastLogin puts, survive a restart, and all go when the account
    // password is not the one of the last start.
    void fastTokensSurviveButNotANewPassword()
    {
        QTemporaryDir dir;
        const QString dataDir = dir.filePath(QStringLiteral("data"));
        const FastToken token{QByteArray(32, 'k'),
                              QStringLiteral("ua-0123456789abcdef"),
                              t0,
                              t0.addDays(21),
                              7,
                              true};
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dataDir, &error), qPrintable(error));
            StoreFastTokens tokens(store);
            QCOMPARE(tokens.revokeIfPasswordChanged(QStringLiteral("pw")), 0);
            QVERIFY(tokens.put(token));
            QVERIFY(tokens.put(FastToken{QByteArray(32, 'o'), QStringLiteral("ua-other"), t0,
                                         t0.addDays(1), -1, false}));
        }
        Store store;
        QString error;
        QVERIFY2(store.open(dataDir, &error), qPrintable(error));
        StoreFastTokens tokens(store);
        QCOMPARE(tokens.revokeIfPasswordChanged(QStringLiteral("pw")), 0);
        const std::vector<FastToken> kept = tokens.tokens(token.device);
        QCOMPARE(kept.size(), std::size_t(1));
        QCOMPARE(kept.front().key, token.key);
        QCOMPARE(kept.front().issued, token.issued);
        QCOMPARE(kept.front().expires, token.expires);
        QCOMPARE(kept.front().lastCount, 7);
        QVERIFY(kept.front().inUse);
        QVERIFY(!store.value(QStringLiteral("fast_password_check")).contains(u"pw"));
        QCOMPARE(tokens.revokeIfPasswordChanged(QStringLiteral("new pw")), 2);
        QVERIFY(tokens.tokens(token.device).empty());
        QCOMPARE(tokens.revokeIfPasswordChanged(QStringLiteral("new pw")), 0);
    }

    void valuesSurviveReopening()
    {
        QTemporaryDir dir;
        const QString dataDir = dir.filePath(QStringLiteral("data"));
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dataDir, &error), qPrintable(error));
            QCOMPARE(store.schemaVersion(), 14);
            QVERIFY(store.setValue(QStringLiteral("k"), QStringLiteral("v1")));
            QVERIFY(store.setValue(QStringLiteral("k"), QStringLiteral("v2")));
        }
        Store store;
        QString error;
        QVERIFY2(store.open(dataDir, &error), qPrintable(error));
        QCOMPARE(store.value(QStringLiteral("k")), u"v2");
        QCOMPARE(store.value(QStringLiteral("missing"), QStringLiteral("fallback")), u"fallback");
        QCOMPARE(QFile::permissions(dataDir) & (QFile::ReadOther | QFile::ReadGroup),
                 QFile::Permissions());
    }

    void roomsAndTheirLogsSurviveReopening()
    {
        QTemporaryDir dir;
        const QString room = QStringLiteral("tea@conference.example.org");
        auto entry = [&](int i) {
            return RoomLog::Entry{
                Element::fromXml(QStringLiteral("<message from='%1/bob' type='groupchat'>"
                                                "<body>%2</body></message>")
                                     .arg(room)
                                     .arg(i)
                                     .toUtf8()),
                QDateTime::fromSecsSinceEpoch(1700000000 + i, Qt::UTC), QString::number(i)};
        };
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
            QVERIFY(
                store.saveRoom(StoredRoom{room, QStringLiteral("al"), QStringLiteral("pw"), true}));
            QVERIFY(store.saveRoom(
                StoredRoom{room, QStringLiteral("al2"), {}, false, Room::Archive::Log}));
            QVERIFY(store.saveRoom(StoredRoom{
                QStringLiteral("gone@conference.example.org"), QStringLiteral("x"), {}, false}));
            for (int i = 1; i <= 200; ++i)
                QVERIFY(store.appendRoomMessage(room, entry(i), 100));
            QVERIFY(store.appendRoomMessage(QStringLiteral("gone@conference.example.org"), entry(1),
                                            100));
            QVERIFY(store.removeRoom(QStringLiteral("gone@conference.example.org")));
        }
        Store store;
        QString error;
        QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        const std::vector<StoredRoom> rooms = store.rooms();
        QCOMPARE(rooms.size(), size_t(1));
        QCOMPARE(rooms[0].jid, room);
        QCOMPARE(rooms[0].nick, u"al2");
        QVERIFY(!rooms[0].persistent);
        QCOMPARE(rooms[0].archive, Room::Archive::Log); // learned once, kept over a restart
        const std::vector<RoomLog::Entry> log = store.roomMessages(room);
        QCOMPARE(log.size(), size_t(100));
        QCOMPARE(log.front().stanzaId, u"101");
        QCOMPARE(log.back().stanzaId, u"200");
        QCOMPARE(log.back().message.firstChild(u"body")->text(), u"200");
        QCOMPARE(log.back().time, QDateTime::fromSecsSinceEpoch(1700000200, Qt::UTC));
        QVERIFY(store.roomMessages(QStringLiteral("gone@conference.example.org")).empty());
    }

    // Two rooms logged in turn: each keeps exactly its own newest `capacity`, whatever the row
    // ids (a trim keyed on ids once left one of two interleaved rooms unbounded).
    void roomLogCapacityIsExactPerRoom_data()
    {
        QTest::addColumn<int>("capacity");
        QTest::addColumn<int>("perRoom");
        QTest::newRow("under") << 10 << 7;
        QTest::newRow("exact") << 10 << 10;
        QTest::newRow("over") << 10 << 150;
        QTest::newRow("one") << 1 << 5;
        QTest::newRow("zero") << 0 << 3;
    }

    void roomLogCapacityIsExactPerRoom()
    {
        QFETCH(int, capacity);
        QFETCH(int, perRoom);
        QTemporaryDir dir;
        Store store;
        QString error;
        QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        const QStringList rooms{QStringLiteral("a@muc.example.org"),
                                QStringLiteral("b@muc.example.org")};
        for (int i = 1; i <= perRoom; ++i) {
            for (const QString &room : rooms) {
                const Element message = Element::fromXml(
                    QStringLiteral("<message from='%1/n' type='groupchat'><body>%2</body>"
                                   "</message>")
                        .arg(room)
                        .arg(i)
                        .toUtf8());
                QVERIFY(store.appendRoomMessage(
                    room,
                    RoomLog::Entry{message, QDateTime::fromSecsSinceEpoch(1700000000 + i, Qt::UTC),
                                   QString()},
                    capacity));
            }
        }
        const int kept = std::min(capacity, perRoom);
        for (const QString &room : rooms) {
            const std::vector<RoomLog::Entry> log = store.roomMessages(room);
            QCOMPARE(int(log.size()), kept);
            for (int k = 0; k < kept; ++k) {
                const int expected = perRoom - kept + 1 + k; // oldest first
                QCOMPARE(log[k].message.firstChild(u"body")->text(), QString::number(expected));
                QCOMPARE(log[k].message.attribute(u"from"), room + QStringLiteral("/n"));
                QVERIFY(log[k].stanzaId.isEmpty());
            }
        }
    }

    void roomLogKeepsTheMessageAndTime()
    {
        QTemporaryDir dir;
        const QString room = QStringLiteral("tea@conference.example.org");
        // Payloads xbnc does not know, non-ASCII text and a millisecond time must come back as
        // they went in.
        const Element message = Element::fromXml(
            "<message from='tea@conference.example.org/bob' type='groupchat' id='x'>"
            "<body>gr\xc3\xbc\xc3\x9f \xe2\x82\xac</body><reactions xmlns='urn:xmpp:reactions:0' "
            "id='y'><reaction>\xf0\x9f\x91\x8d</reaction></reactions>"
            "<delay xmlns='urn:xmpp:delay' from='tea@conference.example.org' "
            "stamp='2026-11-26T10:00:00.123Z'/></message>");
        QVERIFY(!message.isNull());
        const QDateTime time =
            QDateTime::fromString(QStringLiteral("2026-11-26T10:00:00.123Z"), Qt::ISODateWithMs);
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
            QVERIFY(store.appendRoomMessage(
                room, RoomLog::Entry{message, time.toOffsetFromUtc(-7200), QStringLiteral("s1")},
                10));
        }
        Store store;
        QString error;
        QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        const std::vector<RoomLog::Entry> log = store.roomMessages(room);
        QCOMPARE(log.size(), size_t(1));
        QCOMPARE(log[0].message, message);
        QCOMPARE(log[0].time, time);
        QCOMPARE(log[0].stanzaId, u"s1");
        // And a RoomLog restored from it recognises the room repeating that message.
        RoomLog restored;
        restored.restore(store.roomMessages(room));
        QVERIFY(!restored.append(
            Element::fromXml("<message from='tea@conference.example.org/bob' type='groupchat'>"
                             "<stanza-id xmlns='urn:xmpp:sid:0' by='tea@conference.example.org' "
                             "id='s1'/></message>"),
            time));
    }

    // A data_dir written by the first xbnc (schema 1: settings only) upgrades in place.
    void migratesFromVersion1()
    {
        QTemporaryDir dir;
        {
            QSqlDatabase db =
                QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v1"));
            db.setDatabaseName(dir.filePath(QStringLiteral("xbnc.sqlite")));
            QVERIFY(db.open());
            QSqlQuery query(db);
            QVERIFY(query.exec(QStringLiteral(
                "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")));
            QVERIFY(
                query.exec(QStringLiteral("INSERT INTO settings VALUES ('upstream.last_activity', "
                                          "'2026-11-01T08:00:00.000Z')")));
            QVERIFY(query.exec(QStringLiteral("PRAGMA user_version = 1")));
            query.finish();
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("v1"));

        const QString room = QStringLiteral("tea@conference.example.org");
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
            QCOMPARE(store.schemaVersion(), 14);
            // what the version-1 database held is still there
            QCOMPARE(store.value(QStringLiteral("upstream.last_activity")),
                     QStringLiteral("2026-11-01T08:00:00.000Z"));
            QVERIFY(store.rooms().empty());
            QVERIFY(store.saveRoom(StoredRoom{room, QStringLiteral("al"), {}, true}));
            QVERIFY(store.appendRoomMessage(
                room,
                RoomLog::Entry{Element::fromXml("<message type='groupchat'><body>1</body>"
                                                "</message>"),
                               QDateTime::fromSecsSinceEpoch(1700000000, Qt::UTC),
                               {}},
                10));
        }
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v5"));
        db.setDatabaseName(dir.filePath(QStringLiteral("xbnc.sqlite")));
        QVERIFY(db.open());
        {
            QSqlQuery query(db);
            QVERIFY(query.exec(QStringLiteral(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'room_log' "
                "ORDER BY name")));
            QStringList indexes;
            while (query.next())
                indexes << query.value(0).toString();
            QCOMPARE(indexes, (QStringList{QStringLiteral("room_log_by_room"),
                                           QStringLiteral("room_log_by_time")}));
        }
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(QStringLiteral("v5"));

        Store store;
        QString error;
        QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        QCOMPARE(store.schemaVersion(), 14);
        QCOMPARE(store.rooms().size(), size_t(1));
        QVERIFY(store.rooms()[0].persistent);
        QCOMPARE(store.roomMessages(room).size(), size_t(1));
    }

    void pushRegistrationsSurviveReopening()
    {
        QTemporaryDir dir;
        const Element form = Element::fromXml(
            "<x xmlns='jabber:x:data' type='submit'><field var='secret'><value>s</value>"
            "</field></x>");
        const std::vector<PushRegistration> phone = {
            {QStringLiteral("push.example.net"), QStringLiteral("n1"), form},
            {QStringLiteral("fpush.example.net"), QStringLiteral("n2"), Element()}};
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
            QVERIFY(store.savePushRegistrations(QStringLiteral("phone"), phone));
            QVERIFY(store.savePushRegistrations(QStringLiteral("tablet"), {phone[1]}));
            QVERIFY(store.savePushRegistrations(QStringLiteral("tablet"), {})); // all disabled
        }
        Store store;
        QString error;
        QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        const PushRegistrations::Devices devices = store.pushRegistrations();
        QCOMPARE(devices.size(), size_t(1));
        QCOMPARE(devices.at(QStringLiteral("phone")), phone);
    }

    void upstreamQueueSurvivesReopening()
    {
        QTemporaryDir dir;
        const QDateTime t0 = QDateTime(QDate(2026, 12, 1), QTime(12, 0, 0, 250), Qt::UTC);
        const QString subscribe =
            QStringLiteral("<presence to='carol@example.org' type='subscribe'/>");
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
            const char *stanzas[] = {
                "<message to='bob@example.org' type='chat' id='m1'><body>one</body></message>",
                "<message to='bob@example.org' type='chat' id='m2'><body>two</body>"
                "<x xmlns='urn:example'><y a='1'/></x></message>",
                "<presence to='carol@example.org' type='subscribe'/>"};
            quint64 seq = 0;
            for (const char *xml : stanzas) {
                ++seq;
                QVERIFY(store.appendQueued(OutboundQueue::Entry{
                    seq, seq == 3 ? QStringLiteral("laptop") : QStringLiteral("phone"),
                    Element::fromXml(xml), t0.addSecs(qint64(seq))}));
            }
            QVERIFY(store.removeQueued(1)); // sent, or bounced
        }
        Store store;
        QString error;
        QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        const std::vector<OutboundQueue::Entry> queued = store.queued();
        QCOMPARE(queued.size(), size_t(2));
        QCOMPARE(queued[0].seq, 2u);
        QCOMPARE(queued[0].resource, QStringLiteral("phone"));
        QCOMPARE(queued[0].queued, t0.addSecs(2));
        QCOMPARE(QString::fromUtf8(queued[0].stanza.toXml()),
                 QStringLiteral("<message to='bob@example.org' type='chat' id='m2'><body>two"
                                "</body><x xmlns='urn:example'><y a='1'/></x></message>"));
        QCOMPARE(queued[1].seq, 3u);
        QCOMPARE(queued[1].resource, QStringLiteral("laptop"));
        QCOMPARE(QString::fromUtf8(queued[1].stanza.toXml()), subscribe);
        QVERIFY(store.removeQueued(3));
        QVERIFY(store.queued().empty());
    }

    void offlineMessagesSurviveReopeningAndNumbersNeverRepeat()
    {
        QTemporaryDir dir;
        const QDateTime t0 = QDateTime(QDate(2026, 12, 1), QTime(8, 30), Qt::UTC);
        const QByteArray omemo = "<message from='bob@example.org/pc' to='alice@example.org' "
                                 "type='chat' id='o1'><encrypted "
                                 "xmlns='eu.siacs.conversations.axolotl'><header sid='7'/>"
                                 "</encrypted></message>";
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
            QCOMPARE(store.lastOfflineSeq(), 0u);
            QVERIFY(store.appendOfflineMessage(OfflineMessages::Entry{
                1,
                Element::fromXml("<message from='bob@example.org/pc' type='chat' id='m1'>"
                                 "<body>one</body></message>"),
                t0, QString()}));
            QVERIFY(store.appendOfflineMessage(
                OfflineMessages::Entry{2, Element::fromXml(omemo), t0.addSecs(60), QString()}));
        }
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
            const std::vector<OfflineMessages::Entry> stored = store.offlineMessages();
            QCOMPARE(stored.size(), size_t(2));
            QCOMPARE(stored[0].seq, 1u);
            QCOMPARE(stored[0].received, t0);
            QCOMPARE(stored[1].seq, 2u);
            QCOMPARE(stored[1].received, t0.addSecs(60));
            QCOMPARE(stored[1].stanza.toXml(), omemo);
            QVERIFY(store.removeOfflineMessages(2)); // delivered
        }
        Store store;
        QString error;
        QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        QVERIFY(store.offlineMessages().empty());
        QCOMPARE(store.lastOfflineSeq(), 2u);
    }

    void deviceCursorsAndEntriesForOneDeviceSurviveReopening()
    {
        QTemporaryDir dir;
        const QDateTime t0 = QDateTime(QDate(2026, 12, 1), QTime(8, 30), Qt::UTC);
        const QByteArray unacked = "<message from='bob@example.org/pc' type='chat' id='u1'>"
                                   "<body>not acknowledged</body></message>";
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
            QCOMPARE(store.deliveredThrough(), 0u);
            QVERIFY(store.saveDeviceCursor(QStringLiteral("phone"), {3, t0}));
            QVERIFY(store.saveDeviceCursor(QStringLiteral("laptop"), {5, t0}));
            QVERIFY(store.saveDeviceCursor(QStringLiteral("phone"), {4, t0.addSecs(60)}));
            QVERIFY(store.saveDeviceCursor(QStringLiteral("tablet"), {1, t0}));
            QVERIFY(store.removeDeviceCursor(QStringLiteral("tablet")));
            QVERIFY(store.setDeliveredThrough(5));
            QVERIFY(store.appendOfflineMessage(
                OfflineMessages::Entry{6, Element::fromXml(unacked), t0, QStringLiteral("phone")}));
        }
        Store store;
        QString error;
        QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        const std::map<QString, DeviceCursors::Device> devices = store.deviceCursors();
        QCOMPARE(devices.size(), size_t(2));
        QCOMPARE(devices.at(QStringLiteral("phone")).cursor, 4u);
        QCOMPARE(devices.at(QStringLiteral("phone")).seen, t0.addSecs(60));
        QCOMPARE(devices.at(QStringLiteral("laptop")).cursor, 5u);
        QCOMPARE(store.deliveredThrough(), 5u);
        const std::vector<OfflineMessages::Entry> stored = store.offlineMessages();
        QCOMPARE(stored.size(), size_t(1));
        QCOMPARE(stored[0].device, QStringLiteral("phone"));
        QCOMPARE(stored[0].stanza.toXml(), unacked);
    }

    void roomRemovalsSurviveReopening()
    {
        QTemporaryDir dir;
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
            QVERIFY(store.setRoomRemoval(QStringLiteral("a@conference.example.org"),
                                         QStringLiteral("kick")));
            QVERIFY(store.setRoomRemoval(QStringLiteral("b@conference.example.org"),
                                         QStringLiteral("destroy")));
            QVERIFY(store.setRoomRemoval(QStringLiteral("a@conference.example.org"), QString()));
        }
        Store store;
        QString error;
        QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        const std::vector<std::pair<QString, QString>> expected{
            {QStringLiteral("b@conference.example.org"), QStringLiteral("destroy")}};
        QCOMPARE(store.roomRemovals(), expected);
    }

    // A full disk (here: a page limit) fails the write with SQLite's reason, keeps every row stored
    // before it, and the store works again once there is room.
    void fullDiskFailsTheWriteAndKeepsWhatWasStored()
    {
        QTemporaryDir dir;
        const QString room = QStringLiteral("tea@conference.example.org");
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
            QVERIFY(store.appendQueued(OutboundQueue::Entry{1, QStringLiteral("phone"),
                                                            bigMessage(QStringLiteral("q1")), t0}));
            QVERIFY(store.appendOfflineMessage(
                OfflineMessages::Entry{1, bigMessage(QStringLiteral("o1")), t0, QString()}));
            QVERIFY(store.appendRoomMessage(
                room, RoomLog::Entry{bigMessage(QStringLiteral("r1")), t0, QStringLiteral("r1")},
                100));

            QVERIFY(store.setPageLimit(1)); // SQLite keeps it at the current size: no page more
            QVERIFY(!store.appendQueued(OutboundQueue::Entry{
                2, QStringLiteral("phone"), bigMessage(QStringLiteral("q2")), t0}));
            QVERIFY2(store.lastError().contains(u"full"), qPrintable(store.lastError()));
            QVERIFY(!store.appendOfflineMessage(
                OfflineMessages::Entry{2, bigMessage(QStringLiteral("o2")), t0, QString()}));
            QVERIFY2(store.lastError().contains(u"full"), qPrintable(store.lastError()));
            std::vector<std::pair<QString, RoomLog::Entry>> batch;
            for (const char *id : {"r2", "r3", "r4"})
                batch.emplace_back(room, RoomLog::Entry{bigMessage(QString::fromLatin1(id)), t0,
                                                        QString::fromLatin1(id)});
            QVERIFY(!store.appendRoomMessages(batch, 100));
            QVERIFY2(store.lastError().contains(u"full"), qPrintable(store.lastError()));

            // Still readable while full, and nothing from before is gone.
            QCOMPARE(store.queued().size(), size_t(1));
            QCOMPARE(store.offlineMessages().size(), size_t(1));
            QCOMPARE(store.roomMessages(room).size(), size_t(1));
        }
        Store store;
        QString error;
        QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        const std::vector<OutboundQueue::Entry> queued = store.queued();
        QCOMPARE(queued.size(), size_t(1));
        QCOMPARE(queued[0].stanza.attribute(u"id"), u"q1");
        QCOMPARE(store.offlineMessages().size(), size_t(1));
        const std::vector<RoomLog::Entry> log = store.roomMessages(room);
        QCOMPARE(log.size(), size_t(1));
        QCOMPARE(log[0].stanzaId, u"r1");
        QVERIFY(store.appendQueued(OutboundQueue::Entry{3, QStringLiteral("phone"),
                                                        bigMessage(QStringLiteral("q3")), t0}));
        QCOMPARE(store.queued().size(), size_t(2));
    }

    // Garbage where the database should be: moved aside untouched, with its -wal and -shm, and a
    // fresh database starts in its place.
    void corruptDatabaseIsMovedAsideNotOverwritten()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath(QLatin1String(Store::fileName));
        const QByteArray garbage = QByteArray("this is no database ").repeated(500);
        writeAll(file, garbage);
        writeAll(file + QStringLiteral("-wal"), "old journal");
        Store store;
        QString error;
        QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        QCOMPARE(store.schemaVersion(), 14);
        QVERIFY(store.setValue(QStringLiteral("k"), QStringLiteral("v")));

        const QStringList aside =
            QDir(dir.path())
                .entryList({QStringLiteral("xbnc.sqlite.corrupt-*")}, QDir::Files, QDir::Name);
        QCOMPARE(aside.size(), 2);
        QVERIFY2(QRegularExpression(QStringLiteral("^xbnc\\.sqlite\\.corrupt-\\d{8}T\\d{6}Z$"))
                     .match(aside[0])
                     .hasMatch(),
                 qPrintable(aside[0]));
        QCOMPARE(aside[1], aside[0] + QStringLiteral("-wal"));
        QCOMPARE(readAll(dir.filePath(aside[0])), garbage);
        QCOMPARE(readAll(dir.filePath(aside[1])), QByteArray("old journal"));
    }

    // A valid header over damaged pages: SQLite itself finds it, and it is moved aside too.
    void damagedDatabaseBehindAValidHeaderIsMovedAside()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath(QLatin1String(Store::fileName));
        QByteArray damaged = QByteArray("SQLite format 3\0", 16) + QByteArray(8192 - 16, '\xff');
        writeAll(file, damaged);
        Store store;
        QString error;
        QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        QCOMPARE(store.schemaVersion(), 14);
        const QStringList aside =
            QDir(dir.path()).entryList({QStringLiteral("xbnc.sqlite.corrupt-*")}, QDir::Files);
        QCOMPARE(aside.size(), 1);
        QCOMPARE(readAll(dir.filePath(aside[0])), damaged);
    }

    // A second corrupt start in the same second must not overwrite the first copy either.
    void secondCorruptCopyGetsItsOwnName()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath(QLatin1String(Store::fileName));
        for (const QByteArray &garbage : {QByteArray(4096, 'a'), QByteArray(4096, 'b')}) {
            QFile::remove(file);
            QFile::remove(file + QStringLiteral("-wal"));
            QFile::remove(file + QStringLiteral("-shm"));
            writeAll(file, garbage);
            Store store;
            QString error;
            QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        }
        QSet<QByteArray> kept;
        for (const QString &name :
             QDir(dir.path()).entryList({QStringLiteral("xbnc.sqlite.corrupt-*")}, QDir::Files))
            if (!name.endsWith(u"-wal") && !name.endsWith(u"-shm"))
                kept.insert(readAll(dir.filePath(name)));
        QCOMPARE(kept, (QSet<QByteArray>{QByteArray(4096, 'a'), QByteArray(4096, 'b')}));
    }

    // Made owner-only by mkdir's and open's modes, whatever the umask (this test runs with 022).
    void newDataDirIsOwnerOnly()
    {
        QTemporaryDir dir;
        const QString dataDir = dir.filePath(QStringLiteral("a/data"));
        Store store;
        QString error;
        QVERIFY2(store.open(dataDir, &error), qPrintable(error));
        QVERIFY(store.setValue(QStringLiteral("k"), QStringLiteral("v")));
        QCOMPARE(QFile::permissions(dataDir) & groupOrOthers(), QFile::Permissions());
        // SQLite makes -wal and -shm with the database file's mode, which xbnc chose.
        for (const char *suffix : {"", "-wal", "-shm"}) {
            const QString file =
                QDir(dataDir).filePath(QLatin1String(Store::fileName) + QLatin1String(suffix));
            QVERIFY2(QFileInfo::exists(file), qPrintable(file));
            QVERIFY2((QFile::permissions(file) & groupOrOthers()) == QFile::Permissions(),
                     qPrintable(file));
        }
    }

    // From an older xbnc that ran under umask 022: the database held room passwords for all.
    void looseOlderFilesAreMadeOwnerOnly()
    {
        QTemporaryDir dir;
        const QString dataDir = dir.filePath(QStringLiteral("data"));
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dataDir, &error), qPrintable(error));
        }
        const QFile::Permissions loose =
            QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther;
        const QString file = QDir(dataDir).filePath(QLatin1String(Store::fileName));
        QVERIFY(QFile::setPermissions(dataDir,
                                      loose | QFile::ExeOwner | QFile::ExeGroup | QFile::ExeOther));
        QVERIFY(QFile::setPermissions(file, loose));
        Store store;
        QString error;
        QVERIFY2(store.open(dataDir, &error), qPrintable(error));
        QCOMPARE(QFile::permissions(dataDir) & groupOrOthers(), QFile::Permissions());
        QCOMPARE(QFile::permissions(file) & groupOrOthers(), QFile::Permissions());
    }

    // Another program holds the database exclusively: a clear refusal after the busy wait.
    void databaseLockedByAnotherProgramIsRefusedClearly()
    {
        QTemporaryDir dir;
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
        }
        const QString file = dir.filePath(QLatin1String(Store::fileName));
        {
            QSqlDatabase other =
                QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("other"));
            other.setDatabaseName(file);
            QVERIFY(other.open());
            QSqlQuery hold(other);
            QVERIFY(hold.exec(QStringLiteral("PRAGMA locking_mode=EXCLUSIVE")));
            QVERIFY(hold.exec(QStringLiteral("BEGIN EXCLUSIVE")));
            QVERIFY(hold.exec(QStringLiteral("INSERT INTO settings VALUES ('a', 'b')")));

            Store store;
            store.setBusyTimeout(std::chrono::milliseconds(50));
            QString error;
            QVERIFY(!store.open(dir.path(), &error));
            QVERIFY2(error.startsWith(QStringLiteral("the database %1 is locked by another "
                                                     "process: ")
                                          .arg(file)),
                     qPrintable(error));
            QVERIFY(QDir(dir.path())
                        .entryList({QStringLiteral("xbnc.sqlite.corrupt-*")}, QDir::Files)
                        .isEmpty());
            hold.exec(QStringLiteral("ROLLBACK"));
            other.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("other"));
    }

    void refusesANewerSchema()
    {
        QTemporaryDir dir;
        {
            Store store;
            QString error;
            QVERIFY(store.open(dir.path(), &error));
            QVERIFY(store.setValue(QStringLiteral("x"), QStringLiteral("y")));
        }
        {
            QSqlDatabase db =
                QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("raw"));
            db.setDatabaseName(dir.filePath(QStringLiteral("xbnc.sqlite")));
            QVERIFY(db.open());
            db.exec(QStringLiteral("PRAGMA user_version = 99"));
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("raw"));
        Store store;
        QString error;
        QVERIFY(!store.open(dir.path(), &error));
        QVERIFY2(error.contains(u"newer xbnc"), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
