#include "log_excerpt.h"

#include <QTest>

using xbnc::logExcerpt;

class TestLogExcerpt : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void excerpt_data()
    {
        QTest::addColumn<QString>("peerText");
        QTest::addColumn<QString>("expected");
        QTest::newRow("short text unchanged")
            << QStringLiteral("<!-- hi -->") << QStringLiteral("<!-- hi -->");
        QTest::newRow("long text cut with a marker")
            << QString(5000, u'z')
            << QString(200, u'z') + QStringLiteral("… (4800 more characters)");
        // A peer must not be able to start a log line of its own (fail2ban reads them).
        QTest::newRow("line breaks escaped")
            << QStringLiteral("a\nsession 1 login failed\r\tb")
            << QStringLiteral("a\\u000asession 1 login failed\\u000d\\u0009b");
        QTest::newRow("no half character at the cut")
            << QString(199, u'z') + QStringLiteral("\U0001F600tail")
            << QString(199, u'z') + QStringLiteral("… (6 more characters)");
        QTest::newRow("whole emoji kept")
            << QStringLiteral("\U0001F600") << QStringLiteral("\U0001F600");
    }

    void excerpt()
    {
        QFETCH(QString, peerText);
        QFETCH(QString, expected);
        QCOMPARE(logExcerpt(peerText), expected);
    }
};

QTEST_GUILESS_MAIN(TestLogExcerpt)
#include "tst_log_excerpt.moc"
