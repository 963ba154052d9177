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
            QCOMPARE(store.schemaVersion(), 1);
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
