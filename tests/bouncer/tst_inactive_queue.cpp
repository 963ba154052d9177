#include "account_harness.h"
#include "inactive_queue.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

// XEP-0352: what an inactive session may wait for, how presence collapses, the bound, and the
// delay stamps on what waited (issue #9 §4).

namespace {

Element parse(const QString &xml)
{
    return Element::fromXml(xml.toUtf8());
}

const QDateTime t0 = QDateTime(QDate(2026, 12, 2), QTime(10, 0), Qt::UTC);

QString presence(const QString &from, const QString &show = {})
{
    if (show.isEmpty())
        return QStringLiteral("<presence from='%1'/>").arg(from);
    return QStringLiteral("<presence from='%1'><show>%2</show></presence>").arg(from, show);
}

// `xml` with the delay xbnc adds to what waited since `at`.
QString delayed(QString xml, const QDateTime &at)
{
    const QString delay = QStringLiteral("<delay xmlns='urn:xmpp:delay' from='example.org' "
                                         "stamp='%1'/>")
                              .arg(at.toString(Qt::ISODateWithMs));
    if (xml.endsWith(u"/>"))
        return xml.chopped(2) + u'>' + delay + QStringLiteral("</") + parse(xml).name() + u'>';
    const qsizetype close = xml.lastIndexOf(u"</");
    return xml.insert(close, delay);
}

QStringList canonicalAll(const std::vector<Element> &stanzas)
{
    QStringList out;
    for (const Element &stanza : stanzas)
        out << canonical(stanza);
    return out;
}

QStringList canonicalAll(const QStringList &xml)
{
    QStringList out;
    for (const QString &one : xml)
        out << canonical(one);
    return out;
}

const QString mucUser = QStringLiteral("http://jabber.org/protocol/muc#user");

} // namespace

class TestInactiveQueue : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void importance_data()
    {
        QTest::addColumn<QString>("stanza");
        QTest::addColumn<bool>("important");
        QTest::newRow("contact goes away") << presence("bob@example.org/pc", "away") << false;
        QTest::newRow("contact goes offline")
            << "<presence from='bob@example.org/pc' type='unavailable'/>" << false;
        QTest::newRow("subscription request")
            << "<presence from='bob@example.org' type='subscribe'/>" << true;
        QTest::newRow("subscription approved")
            << "<presence from='bob@example.org' type='subscribed'/>" << true;
        QTest::newRow("presence error (a join refused)")
            << "<presence from='room@conference.example.org/alice' type='error'><error "
               "type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
               "</presence>"
            << true;
        QTest::newRow("occupant joins a room")
            << "<presence from='room@conference.example.org/bob'><x xmlns='" + mucUser +
                   "'><item affiliation='member' role='participant'/></x></presence>"
            << false;
        QTest::newRow("another occupant kicked")
            << "<presence from='room@conference.example.org/bob' type='unavailable'><x xmlns='" +
                   mucUser +
                   "'><item affiliation='none' role='none'/><status code='307'/></x></presence>"
            << false;
        QTest::newRow("own presence in a room (110)")
            << "<presence from='room@conference.example.org/alice'><x xmlns='" + mucUser +
                   "'><item affiliation='member' role='participant'/><status code='110'/></x>"
                   "</presence>"
            << true;
        QTest::newRow("the account kicked (110 307)")
            << "<presence from='room@conference.example.org/alice' type='unavailable'><x "
               "xmlns='" +
                   mucUser +
                   "'><item affiliation='none' role='none'/><status code='307'/><status "
                   "code='110'/></x></presence>"
            << true;
        QTest::newRow("the account's nick changed (110 303)")
            << "<presence from='room@conference.example.org/alice' type='unavailable'><x "
               "xmlns='" +
                   mucUser +
                   "'><item nick='al' role='participant'/><status code='303'/><status "
                   "code='110'/></x></presence>"
            << true;
        QTest::newRow("room destroyed")
            << "<presence from='room@conference.example.org/alice' type='unavailable'><x "
               "xmlns='" +
                   mucUser + "'><item role='none'/><destroy/></x></presence>"
            << true;
        QTest::newRow("chat state alone")
            << "<message from='bob@example.org/pc' type='chat'><composing "
               "xmlns='http://jabber.org/protocol/chatstates'/></message>"
            << false;
        QTest::newRow("delivery receipt")
            << "<message from='bob@example.org/pc' type='chat'><received xmlns='urn:xmpp:receipts' "
               "id='m1'/></message>"
            << false;
        QTest::newRow("displayed marker")
            << "<message from='bob@example.org/pc' type='chat'><displayed "
               "xmlns='urn:xmpp:chat-markers:0' id='m1'/></message>"
            << false;
        QTest::newRow("PEP notification (headline)")
            << "<message from='bob@example.org' type='headline'><event "
               "xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:"
               "metadata'/></event></message>"
            << false;
        QTest::newRow("chat message") << "<message from='bob@example.org/pc' type='chat'><body>hi"
                                         "</body></message>"
                                      << true;
        QTest::newRow("groupchat message")
            << "<message from='room@conference.example.org/bob' type='groupchat'><body>hi</body>"
               "</message>"
            << true;
        QTest::newRow("groupchat chat state")
            << "<message from='room@conference.example.org/bob' type='groupchat'><active "
               "xmlns='http://jabber.org/protocol/chatstates'/></message>"
            << false;
        QTest::newRow("subject change")
            << "<message from='room@conference.example.org/bob' type='groupchat'><subject>new"
               "</subject></message>"
            << true;
        QTest::newRow("OMEMO (legacy)")
            << "<message from='bob@example.org/pc' type='chat'><encrypted "
               "xmlns='eu.siacs.conversations.axolotl'><header sid='1'/></encrypted></message>"
            << true;
        QTest::newRow("OMEMO 2") << "<message from='bob@example.org/pc' type='chat'><encrypted "
                                    "xmlns='urn:xmpp:omemo:2'><header sid='1'/></encrypted>"
                                    "</message>"
                                 << true;
        QTest::newRow("OX") << "<message from='bob@example.org/pc' type='chat'><openpgp "
                               "xmlns='urn:xmpp:openpgp:0'>AAAA</openpgp></message>"
                            << true;
        QTest::newRow("direct invitation")
            << "<message from='bob@example.org/pc'><x xmlns='jabber:x:conference' "
               "jid='room@conference.example.org'/></message>"
            << true;
        QTest::newRow("mediated invitation")
            << "<message from='room@conference.example.org'><x xmlns='" + mucUser +
                   "'><invite from='bob@example.org/pc'/></x></message>"
            << true;
        QTest::newRow("call (Jingle Message Initiation)")
            << "<message from='bob@example.org/pc' type='chat'><propose "
               "xmlns='urn:xmpp:jingle-message:0' id='c1'/></message>"
            << true;
        QTest::newRow("message error")
            << "<message from='bob@example.org/pc' type='error'><error type='cancel'>"
               "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
               "</message>"
            << true;
        QTest::newRow("carbon of a message")
            << "<message from='alice@example.org' type='chat'><received "
               "xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message "
               "xmlns='jabber:client' from='bob@example.org/pc' type='chat'><body>hi</body>"
               "</message></forwarded></received></message>"
            << true;
        QTest::newRow("carbon of a chat state")
            << "<message from='alice@example.org' type='chat'><sent "
               "xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message "
               "xmlns='jabber:client' to='bob@example.org/pc' type='chat'><composing "
               "xmlns='http://jabber.org/protocol/chatstates'/></message></forwarded></sent>"
               "</message>"
            << false;
        QTest::newRow("MAM result the client asked for")
            << "<message from='alice@example.org'><result xmlns='urn:xmpp:mam:2' queryid='q' "
               "id='1'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' "
               "type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>"
               "</forwarded></result></message>"
            << true;
        QTest::newRow("iq") << "<iq from='bob@example.org/pc' type='get' id='v'><query "
                               "xmlns='jabber:iq:version'/></iq>"
                            << true;
    }
    void importance()
    {
        QFETCH(QString, stanza);
        QFETCH(bool, important);
        const Element element = parse(stanza);
        QVERIFY(!element.isNull());
        QCOMPARE(InactiveQueue::isImportant(element), important);
        InactiveQueue queue(10);
        QCOMPARE(queue.hold(element, t0), !important);
        QCOMPARE(queue.size(), important ? 0 : 1);
    }

    // Each row: presences (and other stanzas) held in this order, what comes out.
    void collapse_data()
    {
        QTest::addColumn<QStringList>("held");
        QTest::addColumn<QStringList>("delivered"); // indexes into held
        const QString bob = QStringLiteral("bob@example.org/pc");
        const QString bobPhone = QStringLiteral("bob@example.org/phone");
        const QString carol = QStringLiteral("carol@example.org/pc");
        const QString state = QStringLiteral("<message from='carol@example.org/pc' type='chat'>"
                                             "<paused xmlns='http://jabber.org/protocol/"
                                             "chatstates'/></message>");
        QTest::newRow("one sender: the latest only")
            << QStringList{presence(bob, "away"), presence(bob, "xa"), presence(bob, "dnd")}
            << QStringList{"2"};
        QTest::newRow("the latest goes where it arrived")
            << QStringList{presence(bob, "away"), presence(carol), presence(bob, "xa")}
            << QStringList{"1", "2"};
        QTest::newRow("full JIDs are different senders")
            << QStringList{presence(bob, "away"), presence(bobPhone, "xa"), presence(bob)}
            << QStringList{"1", "2"};
        QTest::newRow("unavailable replaces available")
            << QStringList{presence(bob),
                           "<presence from='bob@example.org/pc' type='unavailable'/>"}
            << QStringList{"1"};
        QTest::newRow("chat states are not collapsed")
            << QStringList{state, presence(bob), state} << QStringList{"0", "1", "2"};
        QTest::newRow("room occupants collapse by nick")
            << QStringList{presence("room@conference.example.org/bob", "away"),
                           presence("room@conference.example.org/carol"),
                           presence("room@conference.example.org/bob")}
            << QStringList{"1", "2"};
    }
    void collapse()
    {
        QFETCH(QStringList, held);
        QFETCH(QStringList, delivered);
        InactiveQueue queue(100);
        QStringList expected;
        QList<QDateTime> times;
        for (int i = 0; i < held.size(); ++i) {
            times << t0.addSecs(i);
            QVERIFY(queue.hold(parse(held[i]), times.last()));
        }
        for (const QString &index : delivered)
            expected << delayed(held[index.toInt()], times[index.toInt()]);
        QCOMPARE(canonicalAll(queue.takeAll(QStringLiteral("example.org"))),
                 canonicalAll(expected));
        QVERIFY(queue.isEmpty());
    }

    void takeAllEmptiesTheCollapseIndexToo()
    {
        InactiveQueue queue(100);
        QVERIFY(queue.hold(parse(presence("bob@example.org/pc", "away")), t0));
        QCOMPARE(queue.takeAll(QStringLiteral("example.org")).size(), size_t(1));
        QVERIFY(queue.hold(parse(presence("carol@example.org/pc")), t0));
        QVERIFY(queue.hold(parse(presence("bob@example.org/pc", "xa")), t0.addSecs(1)));
        QCOMPARE(canonicalAll(queue.takeAll(QStringLiteral("example.org"))),
                 canonicalAll({delayed(presence("carol@example.org/pc"), t0),
                               delayed(presence("bob@example.org/pc", "xa"), t0.addSecs(1))}));
    }

    void full_data()
    {
        QTest::addColumn<int>("capacity");
        QTest::addColumn<int>("heldBeforeFull");
        QTest::newRow("three") << 3 << 3;
        QTest::newRow("one") << 1 << 1;
        QTest::newRow("zero holds nothing") << 0 << 0;
    }
    void full()
    {
        QFETCH(int, capacity);
        QFETCH(int, heldBeforeFull);
        InactiveQueue queue(capacity);
        for (int i = 0; i < heldBeforeFull; ++i)
            QVERIFY(queue.hold(parse(presence(QStringLiteral("c%1@example.org/pc").arg(i))), t0));
        QCOMPARE(queue.size(), heldBeforeFull);
        // A new sender does not fit: the caller delivers everything.
        QVERIFY(!queue.hold(parse(presence("new@example.org/pc")), t0));
        QCOMPARE(queue.size(), heldBeforeFull);
        // A sender already held still collapses into its place when full.
        if (heldBeforeFull > 0) {
            QVERIFY(queue.hold(parse(presence("c0@example.org/pc", "away")), t0));
            QCOMPARE(queue.size(), heldBeforeFull);
        }
    }

    void delayStamps_data()
    {
        QTest::addColumn<QString>("held");
        QTest::addColumn<QString>("delivered");
        QTest::newRow("stamped when it arrived, from the domain")
            << presence("bob@example.org/pc", "away")
            << delayed(presence("bob@example.org/pc", "away"), t0);
        const QString alreadyDelayed =
            "<message from='bob@example.org/pc' type='chat'><gone "
            "xmlns='http://jabber.org/protocol/chatstates'/><delay xmlns='urn:xmpp:delay' "
            "from='example.org' stamp='2026-12-01T08:00:00Z'/></message>";
        QTest::newRow("an earlier delay is kept, no second one")
            << alreadyDelayed << alreadyDelayed;
    }
    void delayStamps()
    {
        QFETCH(QString, held);
        QFETCH(QString, delivered);
        InactiveQueue queue(10);
        QVERIFY(queue.hold(parse(held), t0));
        QCOMPARE(canonicalAll(queue.takeAll(QStringLiteral("example.org"))),
                 canonicalAll({delivered}));
    }
};

QTEST_GUILESS_MAIN(TestInactiveQueue)
#include "tst_inactive_queue.moc"
