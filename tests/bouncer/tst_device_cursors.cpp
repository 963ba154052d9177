// Where each device is in the catch-up log: the rules DeviceCursors keeps on its own (the Account
// tests in tst_offline_messages show what a user sees of them).
#include "device_cursors.h"

#include <QTest>

using namespace xbnc;

namespace {
const QDateTime t0 = QDateTime(QDate(2026, 12, 1), QTime(12, 0), Qt::UTC);
const QString phone = QStringLiteral("phone");
const QString laptop = QStringLiteral("laptop");
} // namespace

class TestDeviceCursors : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void aNewDeviceStartsAfterWhatAnyDeviceHad()
    {
        DeviceCursors cursors;
        QCOMPARE(cursors.cursorOf(phone), 0u);
        QVERIFY(cursors.advance(laptop, 7, t0));
        QCOMPARE(cursors.deliveredThrough(), 7u);
        QCOMPARE(cursors.cursorOf(phone), 7u); // never seen
        cursors.touch(phone, t0);
        QVERIFY(cursors.advance(laptop, 9, t0));
        QCOMPARE(cursors.cursorOf(phone), 7u); // known now: it keeps its place
    }

    void cursorsOnlyMoveForwardUnlessRewound()
    {
        DeviceCursors cursors;
        QVERIFY(cursors.advance(phone, 5, t0));
        QVERIFY(!cursors.advance(phone, 3, t0));
        QCOMPARE(cursors.cursorOf(phone), 5u);
        QVERIFY(!cursors.rewind(phone, 6)); // never had 6: nothing to give back
        QVERIFY(cursors.rewind(phone, 4));
        QCOMPARE(cursors.cursorOf(phone), 3u);
        QCOMPARE(cursors.deliveredThrough(), 5u); // a new device still starts after 5
        QVERIFY(!cursors.rewind(laptop, 1));      // unknown device
    }

    void idleDevicesAreForgottenUnlessConnected()
    {
        DeviceCursors cursors;
        cursors.touch(phone, t0);
        cursors.touch(laptop, t0);
        cursors.touch(QStringLiteral("tablet"), t0.addSecs(3000));
        const auto forgotten = cursors.forgetIdle(t0.addSecs(3601), std::chrono::hours(1),
                                                  [](const QString &d) { return d == laptop; });
        QCOMPARE(forgotten, std::vector<QString>{phone});
        QVERIFY(!cursors.find(phone));
        QVERIFY(cursors.find(laptop));
        QVERIFY(cursors.find(QStringLiteral("tablet")));
    }

    void restoredAsStored()
    {
        DeviceCursors cursors;
        cursors.restore({{phone, {4, t0}}}, 9);
        QCOMPARE(cursors.cursorOf(phone), 4u);
        QCOMPARE(cursors.cursorOf(laptop), 9u);
    }
};

QTEST_GUILESS_MAIN(TestDeviceCursors)
#include "tst_device_cursors.moc"
