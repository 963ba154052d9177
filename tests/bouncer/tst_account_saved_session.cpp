#include "account_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

// A session's place in the hub across an xbnc restart (Account::saveSession/restoreSession): the
// restarted hub has it available in its rooms with its presence, carbons and what CSI held, so a
// phone resuming its stream finds everything as it left it.

namespace {

const QDateTime t0 = QDateTime(QDate(2026, 12, 2), QTime(10, 0), Qt::UTC);

QString groupchat(const QString &id)
{
    return QStringLiteral("<message from='%1/bob' to='alice@example.org/xbnc' type='groupchat' "
                          "id='%2'><body>%2</body></message>")
        .arg(RoomScript::jid, id);
}

const QString bobChat =
    QStringLiteral("<message from='bob@example.org/pc' to='alice@example.org' type='chat' "
                   "id='c1'><body>still there?</body></message>");

// A restarted hub: the room the account was in, rejoined once upstream is online.
void restoreRoom(AccountHarness &h)
{
    h.account.restoreRoom(RoomScript::jid, QStringLiteral("alice"), {}, false, {});
}

} // namespace

class TestAccountSavedSession : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void restoredSessionIsInItsRoomsAndAvailable()
    {
        AccountHarness before;
        before.online();
        before.bind(1, "phone", false);
        before.fromSession(1, "<presence><show>dnd</show></presence>");
        before.clear();
        EXPECT(joinFirst(before, 1));
        before.clear();
        const Element saved = before.account.saveSession(1);

        AccountHarness after;
        restoreRoom(after);
        QVERIFY(after.account.restoreSession(7, saved));
        after.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        // The account is back with the phone's presence, not the idle one.
        const AccountHarness::Sent presence = after.take();
        QCOMPARE(presence.target, AccountHarness::Sent::Upstream);
        QVERIFY2(presence.stanza.firstChild(u"show") &&
                     presence.stanza.firstChild(u"show")->text() == u"dnd",
                 presence.stanza.toXml().constData());
        after.clear();
        // The room's messages reach the restored session, and so does a chat message.
        after.fromUpstream(groupchat(QStringLiteral("g1")));
        EXPECT(after.expectToSession(7, groupchat(QStringLiteral("g1"))));
        after.fromUpstream(bobChat);
        const AccountHarness::Sent chat = after.take();
        QCOMPARE(chat.target, AccountHarness::Sent::Session);
        QCOMPARE(chat.session, SessionId(7));
        QCOMPARE(chat.stanza.attribute(u"id"), QStringLiteral("c1"));
        EXPECT(after.expectNothing());
    }

    void roomLeftMeanwhileIsNotRestored()
    {
        AccountHarness before;
        before.online();
        before.bind(1, "phone");
        EXPECT(joinFirst(before, 1));
        const Element saved = before.account.saveSession(1);
        QVERIFY(saved.toXml().contains(RoomScript::jid.toUtf8()));

        AccountHarness after; // the room is not among those restored
        QVERIFY(after.account.restoreSession(7, saved));
        QVERIFY(!after.account.room(RoomScript::jid));
        QVERIFY(!after.account.saveSession(7).toXml().contains(RoomScript::jid.toUtf8()));
    }

    void heldStanzasKeepTheirTime()
    {
        QDateTime now = t0;
        AccountHarness before;
        before.account.setNow([&now] { return now; });
        before.online();
        before.bind(1, "phone");
        before.account.sessionActive(1, false);
        before.fromUpstream("<presence from='bob@example.org/pc' to='alice@example.org/xbnc'>"
                            "<show>away</show></presence>");
        EXPECT(before.expectNothing());
        const Element saved = before.account.saveSession(1);

        now = t0.addSecs(600);
        AccountHarness after;
        after.account.setNow([&now] { return now; });
        after.online();
        QVERIFY(after.account.restoreSession(7, saved));
        after.clear();
        // Still inactive: more waits, and <active/> brings it all, stamped when it came.
        after.fromUpstream("<presence from='carol@example.org/pc' to='alice@example.org/xbnc'/>");
        EXPECT(after.expectNothing());
        after.account.sessionActive(7, true);
        EXPECT(after.expectToSession(
            7, "<presence from='bob@example.org/pc' to='alice@example.org/xbnc'><show>away</show>"
               "<delay xmlns='urn:xmpp:delay' from='example.org' stamp='2026-12-02T10:00:00Z'/>"
               "</presence>"));
        EXPECT(after.expectToSession(
            7, "<presence from='carol@example.org/pc' to='alice@example.org/xbnc'>"
               "<delay xmlns='urn:xmpp:delay' from='example.org' stamp='2026-12-02T10:10:00Z'/>"
               "</presence>"));
        EXPECT(after.expectNothing());
    }

    void carbonsStayEnabled()
    {
        AccountHarness before;
        before.online();
        before.bind(1, "phone");
        before.fromSession(1, "<iq type='set' id='e1'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
        before.clear();
        const Element saved = before.account.saveSession(1);

        AccountHarness after;
        after.online();
        QVERIFY(after.account.restoreSession(7, saved));
        after.clear();
        // What the user wrote from another device comes as a carbon, as before the restart.
        const QString sent = QStringLiteral(
            "<message from='alice@example.org' to='alice@example.org/xbnc' type='chat'>"
            "<sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
            "<message xmlns='jabber:client' from='alice@example.org/desktop' to='bob@example.org' "
            "type='chat' id='d1'><body>hi</body></message></forwarded></sent></message>");
        after.fromUpstream(sent);
        const AccountHarness::Sent carbon = after.take();
        QCOMPARE(carbon.target, AccountHarness::Sent::Session);
        QVERIFY2(carbon.stanza.firstChild(u"sent"), carbon.stanza.toXml().constData());
    }

    void unreadableSaveRestoresNothing()
    {
        AccountHarness h;
        h.online();
        QVERIFY(!h.account.restoreSession(1, Element(QStringLiteral("session"))));
        QVERIFY(!h.account.restoreSession(1, Element()));
        QCOMPARE(h.account.sessionCount(), 0);
        QVERIFY(h.account.saveSession(1).isNull());
    }
};

QTEST_GUILESS_MAIN(TestAccountSavedSession)
#include "tst_account_saved_session.moc"
