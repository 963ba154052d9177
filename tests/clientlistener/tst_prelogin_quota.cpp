#include "prelogin_quota.h"

#include <QTest>

using namespace xbnc;

class TestPreloginQuota : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sameSource_data()
    {
        QTest::addColumn<QString>("first");
        QTest::addColumn<QString>("second");
        QTest::addColumn<bool>("same");
        QTest::newRow("IPv4-mapped IPv6 is its IPv4") << "::ffff:192.0.2.1"
                                                      << "192.0.2.1" << true;
        QTest::newRow("one IPv6 /64") << "2001:db8:1:2::1"
                                      << "2001:db8:1:2:aaaa::9" << true;
        QTest::newRow("another IPv6 /64") << "2001:db8:1:2::1"
                                          << "2001:db8:1:3::1" << false;
        QTest::newRow("another IPv4") << "192.0.2.1"
                                      << "192.0.2.2" << false;
    }

    void sameSource()
    {
        QFETCH(QString, first);
        QFETCH(QString, second);
        QFETCH(bool, same);
        PreloginQuota quota(10, 1);
        quota.add(1, QHostAddress(first));
        QCOMPARE(quota.admits(QHostAddress(second)), !same);
    }

    void countsUntilRemoved()
    {
        PreloginQuota quota(2, 2);
        const QHostAddress a(QStringLiteral("192.0.2.1"));
        const QHostAddress b(QStringLiteral("192.0.2.2"));
        quota.add(1, a);
        quota.add(2, a);
        QVERIFY(!quota.admits(a));
        QVERIFY(!quota.admits(b)); // the total
        quota.remove(1);
        quota.remove(1); // bound, then closed: counted once
        QCOMPARE(quota.total(), 1);
        QCOMPARE(quota.fromSource(a), 1);
        QVERIFY(quota.admits(b));
        quota.remove(2);
        QCOMPARE(quota.total(), 0);
        QCOMPARE(quota.fromSource(a), 0);
    }
};

QTEST_GUILESS_MAIN(TestPreloginQuota)
#include "tst_prelogin_quota.moc"
