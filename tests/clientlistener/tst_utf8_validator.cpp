#include "utf8_validator.h"

#include <QTest>

using xbnc::Utf8Validator;

class TestUtf8Validator : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void validate_data();
    void validate();
};

void TestUtf8Validator::validate_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("valid");
    QTest::newRow("ascii") << QByteArray("<a>hello</a>") << true;
    QTest::newRow("two bytes") << QByteArray("\xC3\xA9") << true;
    QTest::newRow("three bytes") << QByteArray("\xE2\x82\xAC") << true;
    QTest::newRow("four bytes") << QByteArray("\xF0\x9F\x98\x80") << true;
    QTest::newRow("highest code point") << QByteArray("\xF4\x8F\xBF\xBF") << true;
    QTest::newRow("lone continuation") << QByteArray("\x80") << false;
    QTest::newRow("truncated then ascii") << QByteArray("\xC3(") << false;
    QTest::newRow("overlong slash") << QByteArray("\xC0\xAF") << false;
    QTest::newRow("overlong three bytes") << QByteArray("\xE0\x80\xAF") << false;
    QTest::newRow("overlong four bytes") << QByteArray("\xF0\x80\x80\xAF") << false;
    QTest::newRow("surrogate") << QByteArray("\xED\xA0\x80") << false;
    QTest::newRow("above U+10FFFF") << QByteArray("\xF4\x90\x80\x80") << false;
    QTest::newRow("F5 lead") << QByteArray("\xF5\x80\x80\x80") << false;
    QTest::newRow("FF") << QByteArray("\xFF") << false;
}

void TestUtf8Validator::validate()
{
    QFETCH(QByteArray, bytes);
    QFETCH(bool, valid);
    Utf8Validator whole;
    QCOMPARE(whole.feed(bytes), valid);
    // Split anywhere, including inside a sequence: same verdict.
    for (qsizetype cut = 1; cut < bytes.size(); ++cut) {
        Utf8Validator split;
        const bool first = split.feed(bytes.left(cut));
        QCOMPARE(first && split.feed(bytes.mid(cut)), valid);
    }
}

QTEST_GUILESS_MAIN(TestUtf8Validator)
#include "tst_utf8_validator.moc"
