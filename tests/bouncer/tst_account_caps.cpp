// xbnc's own XEP-0115 caps upstream: what the aggregate presence claims, how the sessions'
// features are learnt (disco#info to the session, hash checked), and node#ver requests from
// upstream answered by xbnc itself.
#include "account_harness.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {
const QString phoneNode = QStringLiteral("http://conversations.im");
const QString devicelistNotify = QStringLiteral("eu.siacs.conversations.axolotl.devicelist+notify");
const QString jingle = QStringLiteral("urn:xmpp:jingle:1");

// Conversations-like caps of a session: a phone with Jingle and OMEMO.
caps::Caps phoneCaps()
{
    caps::Caps c;
    c.identities.push_back(
        {QStringLiteral("client"), QStringLiteral("phone"), {}, QStringLiteral("Conversations")});
    c.features = {QStringLiteral("http://jabber.org/protocol/disco#info"),
                  QStringLiteral("http://jabber.org/protocol/caps"), jingle, devicelistNotify};
    return c;
}

QString presenceWithCaps(const QString &ver)
{
    return QStringLiteral("<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                          "node='%1' ver='%2'/></presence>")
        .arg(phoneNode, ver);
}

QString discoAnswer(const QString &id, const QString &nodeVer, const caps::Caps &c)
{
    Element iq(QStringLiteral("iq"), QStringLiteral("jabber:client"));
    iq.setAttribute(QStringLiteral("type"), QStringLiteral("result"));
    iq.setAttribute(QStringLiteral("id"), id);
    iq.setAttribute(QStringLiteral("to"), QStringLiteral("alice@example.org"));
    iq.addChild(caps::toDiscoInfo(c, nodeVer));
    return QString::fromUtf8(iq.toXml());
}

// The session announces caps; the disco#info xbnc sends it is checked and its id returned.
QString announce(AccountHarness &h, SessionId session, const QString &ver, QString *problem)
{
    h.fromSession(session, presenceWithCaps(ver));
    const AccountHarness::Sent ask = h.take();
    const Element *query =
        ask.stanza.firstChild(u"query", u"http://jabber.org/protocol/disco#info");
    if (ask.target != AccountHarness::Sent::Session || ask.session != session || !query ||
        ask.stanza.attribute(u"type") != u"get" ||
        ask.stanza.attribute(u"from") != u"alice@example.org" ||
        query->attribute(u"node") != phoneNode + u'#' + ver)
        *problem =
            QStringLiteral("no disco#info for node#ver to the session: ") + canonical(ask.stanza);
    return ask.stanza.attribute(u"id");
}

QString lastUpstream(AccountHarness &h)
{
    QString last;
    for (const auto &sent : h.sent)
        if (sent.target == AccountHarness::Sent::Upstream)
            last = canonical(sent.stanza);
    h.clear();
    return last;
}
} // namespace

class TestAccountCaps : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void idlePresenceCarriesXbncsOwnCaps()
    {
        AccountHarness h;
        h.account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
        // Worked out by hand from XEP-0115 §5.1: client/pc//xbnc< then the five features.
        EXPECT(h.expectUpstream("<presence><show>away</show><priority>0</priority>"
                                "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                                "node='https://xbnc.invalid' ver='2ipX2UCEFnE1Ziw1Y3GISWJnr/o='/>"
                                "</presence>"));
    }

    void nodeVerFromUpstreamIsAnsweredLocally_data()
    {
        QTest::addColumn<QString>("from");
        QTest::newRow("the account's PEP service") << "alice@example.org";
        QTest::newRow("a contact") << "bob@example.org/laptop";
    }
    void nodeVerFromUpstreamIsAnsweredLocally()
    {
        QFETCH(QString, from);
        AccountHarness h;
        h.online();
        h.bind(1, "phone"); // a session that would get the request if xbnc did not answer
        const QString nodeVer = QStringLiteral("https://xbnc.invalid#2ipX2UCEFnE1Ziw1Y3GISWJnr/o=");
        h.fromUpstream("<iq type='get' id='d1' from='" + from +
                       "' to='alice@example.org/xbnc'><query "
                       "xmlns='http://jabber.org/protocol/disco#info' node='" +
                       nodeVer + "'/></iq>");
        EXPECT(h.expectUpstream(
            "<iq type='result' id='d1' to='" + from +
            "'><query xmlns='http://jabber.org/protocol/disco#info' "
            "node='" +
            nodeVer +
            "'><identity category='client' type='pc' name='xbnc'/>"
            "<feature var='http://jabber.org/protocol/caps'/>"
            "<feature var='http://jabber.org/protocol/disco#info'/>"
            "<feature var='urn:xmpp:bookmarks:1+notify'/>"
            "<feature var='urn:xmpp:carbons:2'/><feature var='urn:xmpp:ping'/></query></iq>"));
        EXPECT(h.expectNothing());
    }

    void unknownOwnVerIsNotFoundAndOtherDiscoGoesToTheSession()
    {
        AccountHarness h;
        h.online();
        h.bind(1, "phone");
        h.fromUpstream(
            "<iq type='get' id='d1' from='bob@example.org/l' to='alice@example.org/xbnc'>"
            "<query xmlns='http://jabber.org/protocol/disco#info' "
            "node='https://xbnc.invalid#stale='/></iq>");
        EXPECT(h.expectUpstream(
            "<iq type='error' id='d1' to='bob@example.org/l'><error type='cancel'><item-not-found "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"));
        h.fromUpstream(
            "<iq type='get' id='d2' from='bob@example.org/l' to='alice@example.org/xbnc'>"
            "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        const AccountHarness::Sent relayed = h.take();
        QCOMPARE(relayed.target, AccountHarness::Sent::Session);
        QCOMPARE(relayed.session, SessionId(1));
        EXPECT(h.expectNothing());
    }

    void sessionFeaturesJoinTheUnion_data()
    {
        QTest::addColumn<bool>("rightHash");
        QTest::addColumn<QString>("upstream");
        const caps::Caps phone = phoneCaps();
        QTest::newRow("hash matches: union, the phone's identity type")
            << true << withOwnCaps("<presence/>", phone.features, "phone");
        QTest::newRow("wrong hash: not cached, xbnc's own caps stay")
            << false << withOwnCaps("<presence/>");
    }
    void sessionFeaturesJoinTheUnion()
    {
        QFETCH(bool, rightHash);
        QFETCH(QString, upstream);
        AccountHarness h;
        h.online();
        h.account.sessionBound(1, "phone");
        const caps::Caps phone = phoneCaps();
        const QString ver = caps::ver(phone);
        QString problem;
        const QString id = announce(h, 1, ver, &problem);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(lastUpstream(h), canonical(withOwnCaps("<presence/>")));

        caps::Caps answered = phone;
        if (!rightHash)
            answered.features.append(QStringLiteral("urn:example:extra"));
        h.fromSession(1, discoAnswer(id, phoneNode + u'#' + ver, answered));
        const QString last = lastUpstream(h);
        QCOMPARE(last.isEmpty() ? canonical(withOwnCaps("<presence/>")) : last,
                 canonical(upstream));

        // A second session with the same ver is not asked: the cache answers for it, when the
        // first answer was right.
        h.account.sessionBound(2, "tablet");
        h.fromSession(2, presenceWithCaps(ver));
        bool asked = false;
        for (const auto &sent : h.sent)
            asked = asked || (sent.target == AccountHarness::Sent::Session && sent.session == 2 &&
                              sent.stanza.name() == u"iq");
        QCOMPARE(asked, !rightHash);
        h.clear();

        // The PEP service asks about what xbnc now advertises: exactly that, from xbnc itself.
        const Element c = *Element::fromXml(upstream.toUtf8()).firstChild(u"c", caps::ns);
        const QString nodeVer = c.attribute(u"node") + u'#' + c.attribute(u"ver");
        h.fromUpstream("<iq type='get' id='pep1' from='alice@example.org' "
                       "to='alice@example.org/xbnc'><query "
                       "xmlns='http://jabber.org/protocol/disco#info' node='" +
                       nodeVer + "'/></iq>");
        const AccountHarness::Sent answer = h.take();
        QCOMPARE(answer.target, AccountHarness::Sent::Upstream);
        const Element *query =
            answer.stanza.firstChild(u"query", u"http://jabber.org/protocol/disco#info");
        QVERIFY(query);
        QCOMPARE(caps::ver(caps::fromDiscoInfo(*query).value_or(caps::Caps{})),
                 c.attribute(u"ver"));
        QCOMPARE(caps::fromDiscoInfo(*query)->features.contains(jingle), rightHash);
        EXPECT(h.expectNothing());
    }

    void withNoSessionTheNotifyFeaturesStay()
    {
        AccountHarness h;
        h.online();
        h.account.sessionBound(1, "phone");
        const caps::Caps phone = phoneCaps();
        const QString ver = caps::ver(phone);
        QString problem;
        const QString id = announce(h, 1, ver, &problem);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        h.fromSession(1, discoAnswer(id, phoneNode + u'#' + ver, phone));
        h.clear();
        h.account.sessionClosed(1);
        // Jingle goes with the phone; the OMEMO device list notifications keep coming.
        EXPECT(h.expectUpstream(withOwnCaps("<presence><show>away</show><priority>0</priority>"
                                            "</presence>",
                                            {devicelistNotify})));
        EXPECT(h.expectNothing());
    }

    void aDiscoErrorFromTheSessionChangesNothing()
    {
        AccountHarness h;
        h.online();
        h.account.sessionBound(1, "phone");
        QString problem;
        const QString id = announce(h, 1, caps::ver(phoneCaps()), &problem);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        h.clear();
        h.fromSession(1, "<iq type='error' id='" + id +
                             "'><error type='cancel'><item-not-found "
                             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
        EXPECT(h.expectNothing());
    }
};

QTEST_GUILESS_MAIN(TestAccountCaps)
#include "tst_account_caps.moc"
