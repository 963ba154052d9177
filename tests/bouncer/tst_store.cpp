#include "store.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace xbnc;

class TestStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void valuesSurviveReopening()
    {
        QTemporaryDir dir;
        const QString dataDir = dir.filePath(QStringLiteral("data"));
        const QDateTime when =
            QDateTime::fromString(QStringLiteral("2026-11-26T10:00:00.123Z"), Qt::ISODateWithMs);
        {
            Store store;
            QString error;
            QVERIFY2(store.open(dataDir, &error), qPrintable(error));
            QCOMPARE(store.schemaVersion(), 4);
            QVERIFY(!store.lastUpstreamActivity().isValid());
            QVERIFY(store.setValue(QStringLiteral("k"), QStringLiteral("v1")));
            QVERIFY(store.setValue(QStringLiteral("k"), QStringLiteral("v2")));
            store.setLastUpstreamActivity(when);
        }
        Store store;
        QString error;
        QVERIFY2(store.open(dataDir, &error), qPrintable(error));
        QCOMPARE(store.value(QStringLiteral("k")), u"v2");
        QCOMPARE(store.value(QStringLiteral("missing"), QStringLiteral("fallback")), u"fallback");
        QCOMPARE(store.lastUpstreamActivity(), when);
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
            QVERIFY(store.saveRoom(StoredRoom{room, QStringLiteral("al"), QStringLiteral("pw"), true}));
            QVERIFY(store.saveRoom(StoredRoom{room, QStringLiteral("al2"), {}, false}));
            QVERIFY(store.saveRoom(StoredRoom{QStringLiteral("gone@conference.example.org"),
                                              QStringLiteral("x"), {}, false}));
            for (int i = 1; i <= 200; ++i)
                QVERIFY(store.appendRoomMessage(room, entry(i), 100));
            QVERIFY(store.appendRoomMessage(QStringLiteral("gone@conference.example.org"),
                                            entry(1), 100));
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
        const std::vector<RoomLog::Entry> log = store.roomMessages(room);
        // trimmed to the capacity in steps: at least the newest 100, never all 200
        QVERIFY2(log.size() >= 100 && log.size() < 200, qPrintable(QString::number(log.size())));
        QCOMPARE(log.back().stanzaId, u"200");
        QCOMPARE(log.back().message.firstChild(u"body")->text(), u"200");
        QCOMPARE(log.back().time, QDateTime::fromSecsSinceEpoch(1700000200, Qt::UTC));
        QVERIFY(store.roomMessages(QStringLiteral("gone@conference.example.org")).empty());
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
