#include "account_harness.h"
#include "room_archive.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

// XEP-0313 answered from a room's log: which entries a query selects, in which order, and the
// <fin/> and RSM <set/> that say where the page lies (issue #9 item 6).

namespace {

const QString room = QStringLiteral("tea@conference.example.org");
const QString session = QStringLiteral("alice@example.org/xbnc");
const QDateTime base = QDateTime::fromString(QStringLiteral("2026-11-26T10:00:00Z"), Qt::ISODate);

// Message i (1-based) is s<i>, from bob when i is odd and carol when even, received at 10:00 +
// i minutes.
RoomLog logOf(int messages)
{
    RoomLog log(1000);
    for (int i = 1; i <= messages; ++i) {
        const QString xml =
            QStringLiteral("<message from='%1/%2' to='%3' type='groupchat' id='m%4'><body>%4"
                           "</body><stanza-id xmlns='urn:xmpp:sid:0' by='%1' id='s%4'/></message>")
                .arg(room, i % 2 ? QStringLiteral("bob") : QStringLiteral("carol"), session)
                .arg(i);
        log.append(Element::fromXml(xml.toUtf8()), base.addSecs(60 * i));
    }
    return log;
}

Element query(const QString &inside)
{
    return Element::fromXml(QStringLiteral("<iq type='set' id='q1' to='%1'><query "
                                           "xmlns='urn:xmpp:mam:2' queryid='f27'>%2</query></iq>")
                                .arg(room, inside)
                                .toUtf8());
}

QString rsm(const QString &inside)
{
    return QStringLiteral("<set xmlns='http://jabber.org/protocol/rsm'>%1</set>").arg(inside);
}

QString form(const QString &fields)
{
    return QStringLiteral("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' "
                          "type='hidden'><value>urn:xmpp:mam:2</value></field>%1</x>")
        .arg(fields);
}

QString field(const QString &var, const QString &value)
{
    return QStringLiteral("<field var='%1'><value>%2</value></field>").arg(var, value);
}

QString ids(int first, int last, int step = 1)
{
    QStringList list;
    for (int i = first; i <= last; i += step)
        list << QStringLiteral("s%1").arg(i);
    return list.join(u' ');
}

} // namespace

class TestRoomArchive : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void pages_data()
    {
        QTest::addColumn<int>("logged");
        QTest::addColumn<QString>("inside");  // of <query/>
        QTest::addColumn<QString>("results"); // ids in the order sent
        QTest::addColumn<QString>("complete");
        QTest::addColumn<int>("firstIndex"); // -1: no <first/>
        QTest::addColumn<int>("count");

        QTest::newRow("no <set/>: the oldest 20") << 25 << "" << ids(1, 20) << "false" << 0 << 25;
        QTest::newRow("max 10: the oldest 10")
            << 25 << rsm("<max>10</max>") << ids(1, 10) << "false" << 0 << 25;
        QTest::newRow("after s20: the rest, complete")
            << 25 << rsm("<max>10</max><after>s20</after>") << ids(21, 25) << "true" << 20 << 25;
        QTest::newRow("empty <before/>: the last page, oldest first")
            << 25 << rsm("<max>10</max><before/>") << ids(16, 25) << "false" << 15 << 25;
        QTest::newRow("before s16: the page before")
            << 25 << rsm("<max>10</max><before>s16</before>") << ids(6, 15) << "false" << 5 << 25;
        QTest::newRow("before s6: the first page, complete")
            << 25 << rsm("<max>10</max><before>s6</before>") << ids(1, 5) << "true" << 0 << 25;
        QTest::newRow("after s5 and before s9: between them")
            << 25 << rsm("<after>s5</after><before>s9</before>") << ids(6, 8) << "true" << 5 << 25;
        QTest::newRow("after the newest: empty and complete")
            << 25 << rsm("<after>s25</after>") << ""
            << "true" << -1 << 25;
        QTest::newRow("max 0: only the count") << 25 << rsm("<max>0</max>") << ""
                                               << "false" << -1 << 25;
        QTest::newRow("an empty log") << 0 << rsm("<before/>") << ""
                                      << "true" << -1 << 0;
        QTest::newRow("max above the cap: cut to 250")
            << 300 << rsm("<max>1000</max>") << ids(1, 250) << "false" << 0 << 300;
        QTest::newRow("start and end, inclusive")
            << 25
            << form(field("start", "2026-11-26T10:11:00Z") + field("end", "2026-11-26T10:15:00Z"))
            << ids(11, 15) << "true" << 0 << 5;
        QTest::newRow("start in another zone")
            << 25 << form(field("start", "2026-11-26T11:21:00+01:00")) << ids(21, 25) << "true" << 0
            << 5;
        QTest::newRow("with an occupant: only that nick")
            << 25 << form(field("with", room + "/bob")) + rsm("<max>5</max><before/>")
            << ids(17, 25, 2) << "false" << 8 << 13;
        QTest::newRow("with the room itself: everything")
            << 25 << form(field("with", room)) + rsm("<max>3</max>") << ids(1, 3) << "false" << 0
            << 25;
        QTest::newRow("after-id in the form")
            << 25 << form(field("after-id", "s22")) << ids(23, 25) << "true" << 22 << 25;
        QTest::newRow("before-id in the form pages forwards")
            << 25 << form(field("before-id", "s4")) << ids(1, 3) << "true" << 0 << 25;
        QTest::newRow("RSM after wins over after-id")
            << 25 << form(field("after-id", "s1")) + rsm("<after>s23</after>") << ids(24, 25)
            << "true" << 23 << 25;
    }
    void pages()
    {
        QFETCH(int, logged);
        QFETCH(QString, inside);
        QFETCH(QString, results);
        QFETCH(QString, complete);
        QFETCH(int, firstIndex);
        QFETCH(int, count);
        const std::vector<Element> out =
            RoomArchive::answer(logOf(logged), query(inside), room, session);
        QVERIFY(!out.empty());
        QStringList got;
        for (size_t i = 0; i + 1 < out.size(); ++i) {
            const Element *result = out[i].firstChild(u"result", u"urn:xmpp:mam:2");
            QVERIFY2(result, out[i].toXml().constData());
            got << result->attribute(u"id");
        }
        QCOMPARE(got.join(u' '), results);
        const Element &reply = out.back();
        QCOMPARE(reply.attribute(u"type"), QStringLiteral("result"));
        const Element *fin = reply.firstChild(u"fin", u"urn:xmpp:mam:2");
        QVERIFY(fin);
        QCOMPARE(fin->attribute(u"complete"), complete);
        const Element *set = fin->firstChild(u"set", u"http://jabber.org/protocol/rsm");
        QVERIFY(set);
        QCOMPARE(set->firstChild(u"count")->text(), QString::number(count));
        const Element *first = set->firstChild(u"first");
        const Element *last = set->firstChild(u"last");
        if (firstIndex < 0) {
            QVERIFY(!first && !last);
            return;
        }
        QVERIFY(first && last);
        QCOMPARE(first->attribute(u"index"), QString::number(firstIndex));
        QCOMPARE(first->text(), got.first());
        QCOMPARE(last->text(), got.last());
    }

    void errors_data()
    {
        QTest::addColumn<QString>("inside");
        QTest::addColumn<QString>("error"); // type/condition
        QTest::newRow("after an id the log does not hold")
            << rsm("<after>gone</after>") << "cancel/item-not-found";
        QTest::newRow("before an id the log does not hold")
            << rsm("<max>10</max><before>gone</before>") << "cancel/item-not-found";
        QTest::newRow("after-id the log does not hold")
            << form(field("after-id", "gone")) << "cancel/item-not-found";
        QTest::newRow("a negative max") << rsm("<max>-1</max>") << "modify/bad-request";
        QTest::newRow("a max that is no number") << rsm("<max>ten</max>") << "modify/bad-request";
        QTest::newRow("another FORM_TYPE")
            << "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:"
               "mam:1</value></field></x>"
            << "modify/bad-request";
        QTest::newRow("a start that is no time")
            << form(field("start", "yesterday")) << "modify/bad-request";
        QTest::newRow("a field xbnc does not know")
            << form(field("fulltext", "tea")) << "modify/bad-request";
    }
    void errors()
    {
        QFETCH(QString, inside);
        QFETCH(QString, error);
        const std::vector<Element> out =
            RoomArchive::answer(logOf(5), query(inside), room, session);
        QCOMPARE(out.size(), size_t(1));
        const Element &reply = out.front();
        QCOMPARE(reply.attribute(u"type"), QStringLiteral("error"));
        QCOMPARE(reply.attribute(u"id"), QStringLiteral("q1"));
        const Element *e = reply.firstChild(u"error");
        QVERIFY(e);
        const Element *condition = e->firstChildNs(u"urn:ietf:params:xml:ns:xmpp-stanzas");
        QVERIFY(condition);
        QCOMPARE(e->attribute(u"type") + u'/' + condition->name(), error);
    }

    void aResultForwardsTheRoomsMessage()
    {
        RoomLog log = logOf(0);
        log.append(Element::fromXml(
                       QStringLiteral("<message from='%1/bob' to='%2' type='groupchat' id='m1'>"
                                      "<body>Tea?</body><stanza-id xmlns='urn:xmpp:sid:0' "
                                      "by='%1' id='x1'/></message>")
                           .arg(room, session)
                           .toUtf8()),
                   base);
        const std::vector<Element> out = RoomArchive::answer(log, query({}), room, session);
        QCOMPARE(out.size(), size_t(2));
        QCOMPARE(canonical(out[0]),
                 canonical(QStringLiteral(
                               "<message from='%1' to='%2'><result xmlns='urn:xmpp:mam:2' "
                               "queryid='f27' id='x1'><forwarded xmlns='urn:xmpp:forward:0'><delay "
                               "xmlns='urn:xmpp:delay' stamp='2026-11-26T10:00:00Z'/><message "
                               "xmlns='jabber:client' from='%1/bob' type='groupchat' "
                               "id='m1'><body>Tea?</body><stanza-id "
                               "xmlns='urn:xmpp:sid:0' by='%1' id='x1'/></message></forwarded>"
                               "</result></message>")
                               .arg(room, session)));
        QCOMPARE(
            canonical(out[1]),
            canonical(QStringLiteral(
                          "<iq type='result' id='q1' from='%1'><fin xmlns='urn:xmpp:mam:2' "
                          "complete='true'><set xmlns='http://jabber.org/protocol/rsm'><first "
                          "index='0'>x1</first><last>x1</last><count>1</count></set></fin></iq>")
                          .arg(room)));
    }

    void aQueryWithoutQueryidGetsResultsWithout()
    {
        const Element iq = Element::fromXml(
            QStringLiteral("<iq type='set' id='q2' to='%1'><query xmlns='urn:xmpp:mam:2'/></iq>")
                .arg(room)
                .toUtf8());
        const std::vector<Element> out = RoomArchive::answer(logOf(1), iq, room, session);
        QCOMPARE(out.size(), size_t(2));
        QVERIFY(!out[0].firstChild(u"result")->hasAttribute(u"queryid"));
    }

    void theFormListsTheFieldsXbncReads()
    {
        const Element request = Element::fromXml(
            QStringLiteral("<iq type='get' id='f1' to='%1'><query xmlns='urn:xmpp:mam:2'/></iq>")
                .arg(room)
                .toUtf8());
        QVERIFY(RoomArchive::isFormRequest(request));
        QVERIFY(!RoomArchive::isQuery(request));
        QStringList vars;
        const Element reply = RoomArchive::form(request);
        for (const Element &f : reply.firstChild(u"query")->firstChild(u"x")->children())
            vars << f.attribute(u"var");
        QCOMPARE(vars, (QStringList{"FORM_TYPE", "with", "start", "end", "after-id", "before-id"}));
    }

    void ownStanzaIdReplacesTheOneClaimingToBeTheRooms()
    {
        const Element message = Element::fromXml(
            QStringLiteral("<message from='%1/mallory' type='groupchat'><body>hi</body><stanza-id "
                           "xmlns='urn:xmpp:sid:0' by='%1' id='forged'/><stanza-id "
                           "xmlns='urn:xmpp:sid:0' by='alice@example.org' id='server1'/></message>")
                .arg(room)
                .toUtf8());
        const Element a = RoomArchive::withOwnStanzaId(message, room);
        const Element b = RoomArchive::withOwnStanzaId(message, room);
        QStringList byRoom;
        QStringList byOthers;
        for (const Element &c : a.children())
            if (c.name() == u"stanza-id")
                (c.attribute(u"by") == room ? byRoom : byOthers) << c.attribute(u"id");
        QCOMPARE(byRoom.size(), 1);
        QVERIFY(byRoom.first() != QStringLiteral("forged"));
        QCOMPARE(byOthers, QStringList{"server1"}); // not the room's to vouch for or remove
        QVERIFY(a.toXml() != b.toXml());            // each message its own id
    }
};

QTEST_GUILESS_MAIN(TestRoomArchive)
#include "tst_room_archive.moc"
