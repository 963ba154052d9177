// Resumable sessions saved for a restart (SessionSaver over a real SQLite Store): what a restarted
// xbnc loads is what the sessions were at the last save, however many saves wrote it piece by
// piece.
#include "session_saver.h"

#include <QTemporaryDir>
#include <QTest>

using namespace xbnc;

namespace {

QByteArray stanza(int n)
{
    return "<message id='m" + QByteArray::number(n) + "'><body>" + QByteArray::number(n) +
           "</body></message>";
}

SessionSaver::Live phone(const QString &resumeId)
{
    SessionSaver::Live live;
    live.session.resource = QStringLiteral("phone");
    live.session.boundResource = QStringLiteral("xbnc");
    live.session.resumeTimeout = std::chrono::seconds(600);
    live.session.sm.enabled = true;
    live.session.sm.resumeId = resumeId;
    live.hub = Element(QStringLiteral("session"), QStringLiteral("urn:xbnc:saved-session"));
    live.hub.setAttribute(QStringLiteral("resource"), QStringLiteral("phone"));
    return live;
}

// What StreamManagement does for one stanza sent.
void send(SavedSession &session, int n)
{
    ++session.sm.sent;
    ++session.sm.serial;
    session.sm.unacked.push_back(stanza(n));
    session.sm.unackedBytes += stanza(n).size();
}

void acknowledge(SavedSession &session, quint32 h)
{
    while (session.sm.acked != h) {
        session.sm.unackedBytes -= session.sm.unacked.front().size();
        session.sm.unacked.pop_front();
        ++session.sm.acked;
    }
}

QList<QByteArray> unacked(const SavedSession &session)
{
    return QList<QByteArray>(session.sm.unacked.begin(), session.sm.unacked.end());
}

} // namespace

class TestSessionSaver : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init()
    {
        dir_ = std::make_unique<QTemporaryDir>();
        store_ = std::make_unique<Store>();
        QString error;
        QVERIFY2(store_->open(dir_->filePath(QStringLiteral("data")), &error), qPrintable(error));
    }
    void cleanup()
    {
        store_.reset();
        dir_.reset();
    }

    void whatIsSavedIsLoaded()
    {
        SessionSaver::Live live = phone(QStringLiteral("r1"));
        for (int n = 1; n <= 3; ++n)
            send(live.session, n);
        acknowledge(live.session, 1);
        live.session.sm.handled = 7;
        live.session.hibernatingSince = QDateTime::fromSecsSinceEpoch(1700000000, Qt::UTC);
        SessionSaver saver(*store_);
        QVERIFY(saver.save({live}));

        const std::vector<StoredSession> loaded = SessionSaver(*store_).load();
        QCOMPARE(loaded.size(), 1u);
        const SavedSession &session = loaded.front().session;
        QCOMPARE(session.sm.resumeId, QStringLiteral("r1"));
        QVERIFY(session.sm.enabled);
        QCOMPARE(session.resource, QStringLiteral("phone"));
        QCOMPARE(session.boundResource, QStringLiteral("xbnc"));
        QCOMPARE(session.resumeTimeout.count(), 600);
        QCOMPARE(session.hibernatingSince, live.session.hibernatingSince);
        QCOMPARE(session.sm.handled, 7u);
        QCOMPARE(session.sm.sent, 3u);
        QCOMPARE(session.sm.acked, 1u);
        QCOMPARE(unacked(session), (QList<QByteArray>{stanza(2), stanza(3)}));
        QCOMPARE(session.sm.unackedBytes, stanza(2).size() + stanza(3).size());
        QCOMPARE(loaded.front().hub, live.hub);
    }

    // Saves write only what changed: stanzas sent since, acknowledged ones removed, counters.
    // However the pieces fell, the store ends up with the session as it is now.
    void piecewiseSavesAddUp()
    {
        SessionSaver::Live live = phone(QStringLiteral("r1"));
        SessionSaver saver(*store_);
        send(live.session, 1);
        send(live.session, 2);
        QVERIFY(saver.save({live}));
        acknowledge(live.session, 2); // everything acknowledged
        QVERIFY(saver.save({live}));
        for (int n = 3; n <= 6; ++n)
            send(live.session, n);
        acknowledge(live.session, 4);
        QVERIFY(saver.save({live}));
        live.session.sm.handled = 3;
        live.hub.setAttribute(QStringLiteral("carbons"), QStringLiteral("1"));
        send(live.session, 7);
        QVERIFY(saver.save({live}));
        QVERIFY(saver.save({live})); // nothing changed

        const std::vector<StoredSession> loaded = SessionSaver(*store_).load();
        QCOMPARE(loaded.size(), 1u);
        QCOMPARE(unacked(loaded.front().session),
                 (QList<QByteArray>{stanza(5), stanza(6), stanza(7)}));
        QCOMPARE(loaded.front().session.sm.sent, 7u);
        QCOMPARE(loaded.front().session.sm.acked, 4u);
        QCOMPARE(loaded.front().session.sm.handled, 3u);
        QCOMPARE(loaded.front().hub.attribute(u"carbons"), QStringLiteral("1"));
    }

    // A session resumed with the client acknowledging across the wrap of h keeps its stanzas.
    void countersThatWrapStillLineUp()
    {
        SessionSaver::Live live = phone(QStringLiteral("r1"));
        live.session.sm.sent = 0xFFFFFFFEu;
        live.session.sm.acked = 0xFFFFFFFEu;
        live.session.sm.serial = 5;
        for (int n = 1; n <= 4; ++n)
            send(live.session, n);
        SessionSaver saver(*store_);
        QVERIFY(saver.save({live}));
        acknowledge(live.session, 0); // across the wrap: two acknowledged
        QVERIFY(saver.save({live}));
        const std::vector<StoredSession> loaded = SessionSaver(*store_).load();
        QCOMPARE(unacked(loaded.front().session), (QList<QByteArray>{stanza(3), stanza(4)}));
        QCOMPARE(loaded.front().session.sm.sent, 2u);
        QCOMPARE(loaded.front().session.sm.acked, 0u);
    }

    void endedSessionsAreRemoved()
    {
        SessionSaver::Live first = phone(QStringLiteral("r1"));
        SessionSaver::Live second = phone(QStringLiteral("r2"));
        second.session.resource = QStringLiteral("laptop");
        send(first.session, 1);
        send(second.session, 2);
        SessionSaver saver(*store_);
        QVERIFY(saver.save({first, second}));
        QVERIFY(saver.save({second}));
        const std::vector<StoredSession> loaded = SessionSaver(*store_).load();
        QCOMPARE(loaded.size(), 1u);
        QCOMPARE(loaded.front().session.resource, QStringLiteral("laptop"));
        QCOMPARE(unacked(loaded.front().session), QList<QByteArray>{stanza(2)});
        // A saver that loaded them knows them: ending them all removes them.
        SessionSaver restarted(*store_);
        restarted.load();
        QVERIFY(restarted.save({}));
        QCOMPARE(SessionSaver(*store_).load().size(), 0u);
    }

private:
    std::unique_ptr<QTemporaryDir> dir_;
    std::unique_ptr<Store> store_;
};

QTEST_GUILESS_MAIN(TestSessionSaver)
#include "tst_session_saver.moc"
