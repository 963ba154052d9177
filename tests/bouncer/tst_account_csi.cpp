#include "account_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

// XEP-0352 through the hub: an inactive phone gets nothing for presence floods, everything in
// order when something matters, and an active laptop sees no difference (issue #9 §4).

namespace {

const QDateTime t0 = QDateTime(QDate(2026, 12, 2), QTime(10, 0), Qt::UTC);

QString bobPresence(const QString &show)
{
    return QStringLiteral("<presence from='bob@example.org/pc' to='alice@example.org/xbnc'>"
                          "<show>%1</show></presence>")
        .arg(show);
}

QString contactPresence(const QString &contact)
{
    return QStringLiteral("<presence from='%1@example.org/pc' to='alice@example.org/xbnc'/>")
        .arg(contact);
}

const QString bobMessage =
    QStringLiteral("<message from='bob@example.org/pc' to='alice@example.org/xbnc' type='chat' "
                   "id='m1'><body>lunch?</body></message>");

// `xml` (a stanza ending in its closing tag, or empty) with xbnc's delay stamped at `at`.
QString delayed(QString xml, const QDateTime &at)
{
    const QString delay = QStringLiteral("<delay xmlns='urn:xmpp:delay' from='example.org' "
                                         "stamp='%1'/>")
                              .arg(at.toString(Qt::ISODateWithMs));
    if (xml.endsWith(u"/>")) {
        const QString name = Element::fromXml(xml.toUtf8()).name();
        return xml.chopped(2) + u'>' + delay + QStringLiteral("</") + name + u'>';
    }
    return xml.insert(xml.lastIndexOf(u"</"), delay);
}

// The phone (1) and the laptop (2), both available; the phone says it is inactive.
struct PhoneAndLaptop
{
    AccountHarness h;
    QDateTime now = t0;

    explicit PhoneAndLaptop(int maxHeld = 256)
    {
        h.account.setNow([this] { return now; });
        h.account.setCsiMaxHeld(maxHeld);
        h.online();
        h.bind(1, "phone");
        h.bind(2, "laptop");
        h.account.sessionActive(1, false);
        h.clear();
    }
    // Bob changes his status; the laptop sees each change at once, the phone nothing.
    QString flood(const QStringList &shows)
    {
        for (const QString &show : shows) {
            now = now.addSecs(1);
            h.fromUpstream(bobPresence(show));
            if (QString problem = h.expectToSession(2, bobPresence(show)); !problem.isEmpty())
                return problem;
        }
        return h.expectNothing();
    }
};

} // namespace

class TestAccountCsi : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void aMessageBringsTheCollapsedPresenceFirst()
    {
        PhoneAndLaptop s;
        EXPECT(s.flood({"away", "xa", "dnd"}));
        s.now = s.now.addSecs(10);
        s.h.fromUpstream(bobMessage);
        EXPECT(s.h.expectToSession(2, bobMessage));
        EXPECT(s.h.expectToSession(1, delayed(bobPresence("dnd"), t0.addSecs(3))));
        EXPECT(s.h.expectToSession(1, bobMessage)); // at once: no delay
        EXPECT(s.h.expectNothing());
        // Still inactive: the next change waits again.
        s.h.fromUpstream(bobPresence("chat"));
        EXPECT(s.h.expectToSession(2, bobPresence("chat")));
        EXPECT(s.h.expectNothing());
    }

    void chatStatesWaitInOrderWithPresence()
    {
        PhoneAndLaptop s;
        const QString composing = "<message from='bob@example.org/pc' to='alice@example.org/xbnc' "
                                  "type='chat'><composing "
                                  "xmlns='http://jabber.org/protocol/chatstates'/></message>";
        s.h.fromUpstream(composing);
        EXPECT(s.h.expectToSession(2, composing));
        EXPECT(s.flood({"away"}));
        s.h.fromUpstream(bobMessage);
        EXPECT(s.h.expectToSession(2, bobMessage));
        EXPECT(s.h.expectToSession(1, delayed(composing, t0)));
        EXPECT(s.h.expectToSession(1, delayed(bobPresence("away"), t0.addSecs(1))));
        EXPECT(s.h.expectToSession(1, bobMessage));
        EXPECT(s.h.expectNothing());
    }

    void activeFlushesAndEndsHolding()
    {
        PhoneAndLaptop s;
        EXPECT(s.flood({"away", "xa"}));
        s.h.account.sessionActive(1, true);
        EXPECT(s.h.expectToSession(1, delayed(bobPresence("xa"), t0.addSecs(2))));
        EXPECT(s.h.expectNothing());
        s.h.fromUpstream(bobPresence("chat"));
        EXPECT(s.h.expectToSession(1, bobPresence("chat")));
        EXPECT(s.h.expectToSession(2, bobPresence("chat")));
        EXPECT(s.h.expectNothing());
    }

    void activeWithNothingHeldSendsNothing()
    {
        PhoneAndLaptop s;
        s.h.account.sessionActive(1, true);
        s.h.account.sessionActive(1, true);
        EXPECT(s.h.expectNothing());
    }

    void bytesFromTheClientFlushButItStaysInactive()
    {
        PhoneAndLaptop s;
        EXPECT(s.flood({"away"}));
        s.h.account.sessionHeardFrom(2); // the laptop speaking changes nothing for the phone
        EXPECT(s.h.expectNothing());
        s.h.account.sessionHeardFrom(1); // e.g. Conversations' <r/>
        EXPECT(s.h.expectToSession(1, delayed(bobPresence("away"), t0.addSecs(1))));
        EXPECT(s.h.expectNothing());
        EXPECT(s.flood({"xa"}));
    }

    void aStanzaFromTheClientFlushesBeforeItIsHandled()
    {
        PhoneAndLaptop s;
        EXPECT(s.flood({"away"}));
        s.h.fromSession(1, "<message to='bob@example.org/pc' type='chat'><body>yes</body>"
                           "</message>");
        EXPECT(s.h.expectToSession(1, delayed(bobPresence("away"), t0.addSecs(1))));
        EXPECT(s.h.expectUpstream(
            "<message to='bob@example.org/pc' type='chat'><body>yes</body></message>"));
        EXPECT(s.h.expectNothing());
    }

    void whenFullEverythingGoesInOrder()
    {
        PhoneAndLaptop s(2);
        for (const QString contact : {"bob", "carol", "dave"}) {
            s.h.fromUpstream(contactPresence(contact));
            EXPECT(s.h.expectToSession(2, contactPresence(contact)));
        }
        EXPECT(s.h.expectToSession(1, delayed(contactPresence("bob"), t0)));
        EXPECT(s.h.expectToSession(1, delayed(contactPresence("carol"), t0)));
        EXPECT(s.h.expectToSession(1, contactPresence("dave")));
        EXPECT(s.h.expectNothing());
    }

    void anIqFlushes()
    {
        AccountHarness h;
        h.account.setNow([] { return t0; });
        h.online();
        h.bind(1, "phone");
        h.account.sessionActive(1, false);
        h.fromUpstream(bobPresence("away"));
        EXPECT(h.expectNothing());
        h.fromUpstream("<iq type='get' id='v1' from='bob@example.org/pc' "
                       "to='alice@example.org/xbnc'><query xmlns='jabber:iq:version'/></iq>");
        EXPECT(h.expectToSession(1, delayed(bobPresence("away"), t0)));
        const AccountHarness::Sent request = h.take();
        QCOMPARE(request.session, SessionId(1));
        QCOMPARE(request.stanza.name(), QStringLiteral("iq"));
        EXPECT(h.expectNothing());
    }

    void roomOccupantsCollapseAndAGroupchatMessageFlushes()
    {
        AccountHarness h;
        QDateTime now = t0;
        h.account.setNow([&now] { return now; });
        h.online();
        h.bind(1, "phone");
        EXPECT(joinFirst(h, 1));
        h.account.sessionActive(1, false);
        const auto occupant = [](const QString &nick, const QString &show) {
            return QStringLiteral("<presence from='room@conference.example.org/%1' "
                                  "to='alice@example.org/xbnc'><show>%2</show><x "
                                  "xmlns='http://jabber.org/protocol/muc#user'><item "
                                  "affiliation='member' role='participant'/></x></presence>")
                .arg(nick, show);
        };
        for (const QString show : {"away", "xa", "dnd"}) {
            now = now.addSecs(1);
            h.fromUpstream(occupant("bob", show));
        }
        now = now.addSecs(1);
        h.fromUpstream(occupant("carol", "chat"));
        EXPECT(h.expectNothing());
        const QString groupchat =
            "<message from='room@conference.example.org/carol' to='alice@example.org/xbnc' "
            "type='groupchat' id='g1'><body>hello</body><stanza-id xmlns='urn:xmpp:sid:0' "
            "by='room@conference.example.org' id='s9'/></message>";
        h.fromUpstream(groupchat);
        EXPECT(h.expectToSession(1, delayed(occupant("bob", "dnd"), t0.addSecs(3))));
        EXPECT(h.expectToSession(1, delayed(occupant("carol", "chat"), t0.addSecs(4))));
        EXPECT(h.expectToSession(1, groupchat));
        EXPECT(h.expectNothing());
    }

    // The cached occupants of a room an inactive session joins are held as any live presence
    // would be (the replay hands them over serialised; the queue reads them back).
    void aCachedRoomJoinedWhileInactiveHoldsItsOccupants()
    {
        PhoneAndLaptop s;
        const RoomScript script = standardRoom();
        EXPECT(joinFirst(s.h, 2, script));  // the laptop, active
        s.h.fromSession(1, joinPresence()); // the phone, inactive
        // The first history message has a body: it brings what was held before it.
        for (const QString &occupant : script.occupants)
            EXPECT(s.h.expectToSession(1, delayed(occupant, t0)));
    }

    void theAccountKickedFromARoomFlushes()
    {
        AccountHarness h;
        h.account.setNow([] { return t0; });
        h.online();
        h.bind(1, "phone");
        EXPECT(joinFirst(h, 1));
        h.account.sessionActive(1, false);
        h.fromUpstream(bobPresence("away"));
        EXPECT(h.expectNothing());
        const QString kicked =
            "<presence from='room@conference.example.org/alice' to='alice@example.org/xbnc' "
            "type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item "
            "affiliation='none' role='none'/><status code='307'/><status code='110'/></x>"
            "</presence>";
        h.fromUpstream(kicked);
        EXPECT(h.expectToSession(1, delayed(bobPresence("away"), t0)));
        const AccountHarness::Sent removal = h.take();
        QCOMPARE(removal.session, SessionId(1));
        QCOMPARE(removal.stanza.attribute(u"type"), QStringLiteral("unavailable"));
        EXPECT(h.expectNothing());
    }

    void aClosedInactiveSessionLeavesNoTrace()
    {
        PhoneAndLaptop s;
        EXPECT(s.flood({"away"}));
        s.h.account.sessionClosed(1);
        s.h.account.sessionHeardFrom(1);
        s.h.account.sessionActive(1, true);
        EXPECT(s.h.expectNothing());
        s.h.bind(3, "phone");
        s.h.fromUpstream(bobPresence("xa"));
        EXPECT(s.h.expectToSession(2, bobPresence("xa")));
        EXPECT(s.h.expectToSession(3, bobPresence("xa")));
        EXPECT(s.h.expectNothing());
    }
};

QTEST_GUILESS_MAIN(TestAccountCsi)
#include "tst_account_csi.moc"
