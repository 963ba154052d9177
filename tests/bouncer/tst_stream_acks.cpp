// XEP-0198 bookkeeping of the upstream stream: what the server's h releases, what is left to
// resend, and the counters wrapping at 2^32.

#include "stream_acks.h"

#include <QTest>

using xbnc::Element;
using xbnc::StreamAcks;

namespace {

Element message(const QString &body)
{
    Element m(QStringLiteral("message"), QStringLiteral("jabber:client"));
    Element b(QStringLiteral("body"), QStringLiteral("jabber:client"));
    b.setText(body);
    m.addChild(std::move(b));
    return m;
}

QStringList bodies(const std::deque<Element> &stanzas)
{
    QStringList out;
    for (const Element &s : stanzas)
        out << s.firstChild(u"body")->text();
    return out;
}

} // namespace

class TestStreamAcks : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void ackReleasesTheOldest();
    void ackBeyondWhatWasSentIsRefused_data();
    void ackBeyondWhatWasSentIsRefused();
    void countersWrapAt2To32();
    void takeLeavesNothingToResend();
    void restartForgetsTheOldSession();
};

void TestStreamAcks::ackReleasesTheOldest()
{
    StreamAcks acks;
    for (const char *body : {"m1", "m2", "m3", "m4"})
        acks.sent(message(QString::fromLatin1(body)));
    QVERIFY(acks.acknowledged(2));
    QCOMPARE(bodies(acks.unacknowledged()), (QStringList{"m3", "m4"}));
    QVERIFY(acks.acknowledged(2)); // the same h again releases nothing more
    QCOMPARE(acks.unacknowledged().size(), std::size_t(2));
    QVERIFY(acks.acknowledged(4));
    QVERIFY(acks.unacknowledged().empty());
    QCOMPARE(acks.sentCount(), quint32(4));
}

void TestStreamAcks::ackBeyondWhatWasSentIsRefused_data()
{
    QTest::addColumn<quint32>("h");
    QTest::newRow("one too many") << quint32(4);
    QTest::newRow("behind an earlier ack") << quint32(0); // wraps to 2^32-1 newly acked
}

void TestStreamAcks::ackBeyondWhatWasSentIsRefused()
{
    QFETCH(quint32, h);
    StreamAcks acks;
    for (const char *body : {"m1", "m2", "m3"})
        acks.sent(message(QString::fromLatin1(body)));
    QVERIFY(acks.acknowledged(1));
    QVERIFY(!acks.acknowledged(h));
    QCOMPARE(bodies(acks.unacknowledged()), (QStringList{"m2", "m3"}));
}

void TestStreamAcks::countersWrapAt2To32()
{
    StreamAcks acks;
    acks.restart(0xFFFFFFFEu, 0xFFFFFFFFu);
    for (const char *body : {"m1", "m2", "m3", "m4"})
        acks.sent(message(QString::fromLatin1(body)));
    QCOMPARE(acks.sentCount(), quint32(2)); // 2^32 - 2 + 4
    QVERIFY(acks.acknowledged(0xFFFFFFFFu));
    QCOMPARE(bodies(acks.unacknowledged()), (QStringList{"m2", "m3", "m4"}));
    QVERIFY(acks.acknowledged(1));
    QCOMPARE(bodies(acks.unacknowledged()), (QStringList{"m4"}));
    acks.received();
    QCOMPARE(acks.handled(), quint32(0));
    acks.received();
    QCOMPARE(acks.handled(), quint32(1));
}

void TestStreamAcks::takeLeavesNothingToResend()
{
    StreamAcks acks;
    acks.sent(message(QStringLiteral("m1")));
    acks.sent(message(QStringLiteral("m2")));
    const std::vector<Element> taken = acks.takeUnacknowledged();
    QCOMPARE(taken.size(), std::size_t(2));
    QCOMPARE(taken[1].firstChild(u"body")->text(), QStringLiteral("m2"));
    QVERIFY(acks.unacknowledged().empty());
    // A late ack of what was taken is still consistent, and releases nothing.
    QVERIFY(acks.acknowledged(2));
    acks.sent(message(QStringLiteral("m3")));
    QVERIFY(acks.acknowledged(3));
    QVERIFY(acks.unacknowledged().empty());
}

void TestStreamAcks::restartForgetsTheOldSession()
{
    StreamAcks acks;
    acks.sent(message(QStringLiteral("m1")));
    acks.received();
    acks.restart();
    QVERIFY(acks.unacknowledged().empty());
    QCOMPARE(acks.handled(), quint32(0));
    QCOMPARE(acks.sentCount(), quint32(0));
    QVERIFY(!acks.acknowledged(1));
}

QTEST_GUILESS_MAIN(TestStreamAcks)
#include "tst_stream_acks.moc"
