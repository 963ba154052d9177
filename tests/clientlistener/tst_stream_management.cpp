// XEP-0198 counting and the unacknowledged stanzas of one session (StreamManagement), with no
// socket: what a resume re-sends depends on exactly this arithmetic.
#include "stream_management.h"

#include <QtTest>

using xbnc::StreamManagement;

namespace {

QByteArray stanza(int n)
{
    return QByteArrayLiteral("<message id='m") + QByteArray::number(n) + "'/>";
}

QList<QByteArray> unacked(const StreamManagement &sm)
{
    return QList<QByteArray>(sm.state().unacked.begin(), sm.state().unacked.end());
}

} // namespace

class TestStreamManagement : public QObject
{
    Q_OBJECT

private slots:
    void countsStanzasReceived();
    void ackTrimsTheOldestStanzas();
    void ackOfAlreadyAckedIsHarmless();
    void ackOfMoreThanSentIsRefused();
    void countersWrapAt2To32();
    void ackBeyondTheWrapIsRefused();
    void boundsCountStanzasAndBytes_data();
    void boundsCountStanzasAndBytes();
    void takeUnackedEmptiesInOrder();
    void resumableOnlyWithAnId();
    void serialNumbersWhatIsKept();
    void ackAfterRestoreWithinTheSave();
    void ackAfterRestoreBeyondTheSave();
};

void TestStreamManagement::countsStanzasReceived()
{
    StreamManagement sm;
    sm.enable(QStringLiteral("abc"));
    QCOMPARE(sm.handled(), 0u);
    for (int i = 0; i < 3; ++i)
        sm.stanzaReceived();
    QCOMPARE(sm.handled(), 3u);
}

void TestStreamManagement::ackTrimsTheOldestStanzas()
{
    StreamManagement sm;
    sm.enable(QStringLiteral("abc"));
    for (int i = 1; i <= 4; ++i)
        QVERIFY(sm.stanzaSent(stanza(i)));
    QCOMPARE(sm.acknowledge(3), StreamManagement::Ack::Accepted);
    QCOMPARE(unacked(sm), QList<QByteArray>{stanza(4)});
    QCOMPARE(sm.state().unackedBytes, stanza(4).size());
    QCOMPARE(sm.acknowledge(4), StreamManagement::Ack::Accepted);
    QCOMPARE(sm.unackedCount(), 0);
    QCOMPARE(sm.state().unackedBytes, 0);
}

void TestStreamManagement::ackOfAlreadyAckedIsHarmless()
{
    StreamManagement sm;
    sm.enable(QStringLiteral("abc"));
    sm.stanzaSent(stanza(1));
    sm.stanzaSent(stanza(2));
    QCOMPARE(sm.acknowledge(1), StreamManagement::Ack::Accepted);
    // The same h again (a client answering two <r/> at once) acknowledges nothing new.
    QCOMPARE(sm.acknowledge(1), StreamManagement::Ack::Accepted);
    QCOMPARE(unacked(sm), QList<QByteArray>{stanza(2)});
}

void TestStreamManagement::ackOfMoreThanSentIsRefused()
{
    StreamManagement sm;
    sm.enable(QStringLiteral("abc"));
    sm.stanzaSent(stanza(1));
    sm.stanzaSent(stanza(2));
    QCOMPARE(sm.acknowledge(3), StreamManagement::Ack::TooHigh);
    // Nothing changed: the caller ends the stream with undefined-condition.
    QCOMPARE(unacked(sm), (QList<QByteArray>{stanza(1), stanza(2)}));
    QCOMPARE(sm.state().acked, 0u);
}

void TestStreamManagement::countersWrapAt2To32()
{
    StreamManagement::State state;
    state.enabled = true;
    state.resumeId = QStringLiteral("abc");
    state.sent = 0xFFFFFFFEu; // 2^32 - 2
    state.acked = 0xFFFFFFFEu;
    state.handled = 0xFFFFFFFFu;
    StreamManagement sm(StreamManagement::Limits{}, state);
    for (int i = 1; i <= 5; ++i)
        sm.stanzaSent(stanza(i));
    QCOMPARE(sm.state().sent, 3u); // 2^32 - 2 + 5, modulo 2^32
    sm.stanzaReceived();
    QCOMPARE(sm.handled(), 0u);
    // h=1 acknowledges the three stanzas up to and across the wrap.
    QCOMPARE(sm.acknowledge(1), StreamManagement::Ack::Accepted);
    QCOMPARE(unacked(sm), (QList<QByteArray>{stanza(4), stanza(5)}));
    QCOMPARE(sm.acknowledge(3), StreamManagement::Ack::Accepted);
    QCOMPARE(sm.unackedCount(), 0);
}

void TestStreamManagement::ackBeyondTheWrapIsRefused()
{
    StreamManagement::State state;
    state.enabled = true;
    state.sent = 0xFFFFFFFEu;
    state.acked = 0xFFFFFFFEu;
    StreamManagement sm(StreamManagement::Limits{}, state);
    for (int i = 1; i <= 5; ++i)
        sm.stanzaSent(stanza(i));
    QCOMPARE(sm.acknowledge(4), StreamManagement::Ack::TooHigh);
    // An h from before the last ack (behind it modulo 2^32) is refused as well.
    QCOMPARE(sm.acknowledge(0xFFFFFFF0u), StreamManagement::Ack::TooHigh);
    QCOMPARE(sm.unackedCount(), 5);
}

void TestStreamManagement::boundsCountStanzasAndBytes_data()
{
    QTest::addColumn<qsizetype>("maxStanzas");
    QTest::addColumn<qint64>("maxBytes");
    QTest::addColumn<int>("acceptedSends"); // of stanzas of 16 bytes each

    QTest::newRow("stanzas") << qsizetype(3) << qint64(1000) << 3;
    QTest::newRow("bytes") << qsizetype(100) << qint64(40) << 2;
    QTest::newRow("bytes exactly") << qsizetype(100) << qint64(48) << 3;
}

void TestStreamManagement::boundsCountStanzasAndBytes()
{
    QFETCH(qsizetype, maxStanzas);
    QFETCH(qint64, maxBytes);
    QFETCH(int, acceptedSends);
    StreamManagement sm(StreamManagement::Limits{maxStanzas, maxBytes});
    sm.enable(QStringLiteral("abc"));
    const QByteArray sixteen(16, 'x');
    for (int i = 0; i < acceptedSends; ++i)
        QVERIFY(sm.stanzaSent(sixteen));
    QVERIFY(!sm.stanzaSent(sixteen));
    QVERIFY(sm.isOverLimits());
    QCOMPARE(sm.unackedCount(), acceptedSends + 1); // kept all the same
    // An ack brings the session back within its bounds.
    QCOMPARE(sm.acknowledge(2), StreamManagement::Ack::Accepted);
    QVERIFY(!sm.isOverLimits());
}

void TestStreamManagement::takeUnackedEmptiesInOrder()
{
    StreamManagement sm;
    sm.enable(QStringLiteral("abc"));
    for (int i = 1; i <= 3; ++i)
        sm.stanzaSent(stanza(i));
    sm.acknowledge(1);
    const std::deque<QByteArray> taken = sm.takeUnacked();
    QCOMPARE(QList<QByteArray>(taken.begin(), taken.end()),
             (QList<QByteArray>{stanza(2), stanza(3)}));
    QCOMPARE(sm.unackedCount(), 0);
    QCOMPARE(sm.state().unackedBytes, 0);
    QCOMPARE(sm.state().sent, 3u);
}

void TestStreamManagement::resumableOnlyWithAnId()
{
    StreamManagement plain;
    QVERIFY(!plain.isEnabled());
    plain.enable(QString());
    QVERIFY(plain.isEnabled());
    QVERIFY(!plain.isResumable());
    StreamManagement resumable;
    resumable.enable(QStringLiteral("abc"));
    QVERIFY(resumable.isResumable());
}

void TestStreamManagement::serialNumbersWhatIsKept()
{
    StreamManagement::State state;
    state.enabled = true;
    state.sent = 0xFFFFFFFFu;
    state.acked = 0xFFFFFFFFu;
    state.serial = 0xFFFFFFFFu;
    StreamManagement sm(StreamManagement::Limits{}, state);
    sm.stanzaSent(stanza(1));
    sm.stanzaSent(stanza(2));
    // h wraps, the serial does not: stanza(2) is number 2^32 + 1 in storage.
    QCOMPARE(sm.state().sent, 1u);
    QCOMPARE(sm.state().serial, 0x100000001ull);
}

// As saved before a restart: three stanzas sent, the last two unacknowledged.
StreamManagement savedWithTwoUnacked()
{
    StreamManagement::State saved;
    saved.enabled = true;
    saved.sent = 3;
    saved.acked = 1;
    saved.serial = 3;
    saved.unacked = {stanza(2), stanza(3)};
    return StreamManagement(StreamManagement::Limits{}, saved);
}

// A client resuming after a restart acknowledges at most what was saved: the usual rules.
void TestStreamManagement::ackAfterRestoreWithinTheSave()
{
    StreamManagement sm = savedWithTwoUnacked();
    sm.stanzaSent(stanza(4)); // arrived after the restart
    QCOMPARE(sm.acknowledgeAfterRestore(2, 3), StreamManagement::Ack::Accepted);
    QCOMPARE(unacked(sm), (QList<QByteArray>{stanza(3), stanza(4)}));
    QCOMPARE(sm.state().acked, 2u);
    QCOMPARE(sm.state().sent, 4u);
}

// After a crash the client had stanzas the last save never knew of (h=5 where 3 were saved):
// every saved one is acknowledged, the numbering moves on by two, and what came after the
// restart stays unacknowledged.
void TestStreamManagement::ackAfterRestoreBeyondTheSave()
{
    StreamManagement sm = savedWithTwoUnacked();
    sm.stanzaSent(stanza(10));
    sm.stanzaSent(stanza(11));
    QCOMPARE(sm.acknowledgeAfterRestore(5, 3), StreamManagement::Ack::Accepted);
    QCOMPARE(unacked(sm), (QList<QByteArray>{stanza(10), stanza(11)}));
    QCOMPARE(sm.state().acked, 5u);
    QCOMPARE(sm.state().sent, 7u);
    QCOMPARE(sm.state().serial, 7u);
    // The client's next acknowledgement counts on from its own h.
    QCOMPARE(sm.acknowledge(6), StreamManagement::Ack::Accepted);
    QCOMPARE(unacked(sm), QList<QByteArray>{stanza(11)});
}

QTEST_APPLESS_MAIN(TestStreamManagement)
#include "tst_stream_management.moc"
