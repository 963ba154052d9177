// XEP-0237 / RFC 6121 §2.6 answered from xbnc's roster cache: the current version gets an empty
// result, a version the cache knows gets only what changed since, as pushes in order, anything
// else the whole roster; the server's pushes and a re-fetched roster move the version on.
#include "account_harness.h"
#include "roster_cache.h"

#include <QTest>

using namespace xbnc;
using namespace xbnc::test;

namespace {

Element xml(const QString &text)
{
    return Element::fromXml(text.toUtf8());
}

QString item(const QString &jid, const QString &subscription = QStringLiteral("both"))
{
    return QStringLiteral("<item jid='%1' subscription='%2'/>").arg(jid, subscription);
}

Element roster(const QStringList &items)
{
    return xml(QStringLiteral("<query xmlns='jabber:iq:roster' ver='server-7'>") +
               items.join(QString()) + QStringLiteral("</query>"));
}

Element push(const QString &itemXml)
{
    return xml(QStringLiteral("<query xmlns='jabber:iq:roster' ver='server-8'>") + itemXml +
               QStringLiteral("</query>"));
}

QString pushXml(const QString &ver, const QString &itemXml)
{
    return QStringLiteral("<query xmlns='jabber:iq:roster' ver='%1'>%2</query>").arg(ver, itemXml);
}

// bob, carol and erin, then: dave added (change 1), carol removed (2), bob renamed (3).
RosterCache withHistory()
{
    RosterCache cache(QStringLiteral("e"));
    cache.replace(
        roster({item("bob@example.org"), item("carol@example.org"), item("erin@example.org")}));
    cache.apply(push(item("dave@example.org", "none")));
    cache.apply(push(item("carol@example.org", "remove")));
    cache.apply(push("<item jid='bob@example.org' name='Bob' subscription='both'/>"));
    return cache;
}

QStringList canonicalAll(const std::vector<Element> &elements)
{
    QStringList out;
    for (const Element &e : elements)
        out << canonical(e);
    return out;
}

QStringList canonicalAll(const QStringList &texts)
{
    QStringList out;
    for (const QString &t : texts)
        out << canonical(t);
    return out;
}

} // namespace

class TestRosterCache : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void emptyUntilFilled()
    {
        RosterCache cache(QStringLiteral("e"));
        QVERIFY(!cache.isFilled());
        // a push alone is not a roster
        QVERIFY(!cache.apply(push(item("bob@example.org"))));
        QVERIFY(!cache.isFilled());
        QVERIFY(cache.replace(roster({item("bob@example.org")})).empty());
        QVERIFY(cache.isFilled());
        QCOMPARE(cache.version(), u"e-0");
    }

    void answers_data()
    {
        QTest::addColumn<bool>("versioned");
        QTest::addColumn<QString>("clientVer");
        QTest::addColumn<bool>("fullRoster");
        QTest::addColumn<QStringList>("pushes");

        const QString full;
        QTest::newRow("current ver: empty result, nothing else")
            << true << "e-3" << false << QStringList{};
        QTest::newRow("one change behind: that change only")
            << true << "e-2" << false
            << QStringList{pushXml("e-3", "<item jid='bob@example.org' name='Bob' "
                                          "subscription='both'/>")};
        QTest::newRow("from the first roster: every change, oldest first, removal included")
            << true << "e-0" << false
            << QStringList{pushXml("e-1", item("dave@example.org", "none")),
                           pushXml("e-2", item("carol@example.org", "remove")),
                           pushXml("e-3", "<item jid='bob@example.org' name='Bob' "
                                          "subscription='both'/>")};
        QTest::newRow("empty ver: the client has no roster") << true << "" << true << QStringList{};
        QTest::newRow("the server's ver: unknown here")
            << true << "server-7" << true << QStringList{};
        QTest::newRow("another epoch (a wiped cache)") << true << "f-2" << true << QStringList{};
        QTest::newRow("a ver from the future") << true << "e-9" << true << QStringList{};
        QTest::newRow("no ver: a client without versioning")
            << false << "" << true << QStringList{};
    }
    void answers()
    {
        QFETCH(bool, versioned);
        QFETCH(QString, clientVer);
        QFETCH(bool, fullRoster);
        QFETCH(QStringList, pushes);
        const RosterCache cache = withHistory();
        QCOMPARE(cache.version(), u"e-3");
        const RosterCache::Answer answer =
            cache.answer(versioned ? std::optional<QString>(clientVer) : std::nullopt);
        QCOMPARE(canonicalAll(answer.pushes), canonicalAll(pushes));
        QCOMPARE(answer.roster.has_value(), fullRoster);
        if (!fullRoster)
            return;
        const QString ver = versioned ? QStringLiteral(" ver='e-3'") : QString();
        QCOMPARE(canonical(*answer.roster),
                 canonical(QStringLiteral("<query xmlns='jabber:iq:roster'") + ver +
                           QStringLiteral(
                               "><item jid='bob@example.org' name='Bob' subscription='both'/>") +
                           item("dave@example.org", "none") + item("erin@example.org") +
                           QStringLiteral("</query>")));
    }

    void pushesComeBackWithTheCachesVersion()
    {
        RosterCache cache(QStringLiteral("e"));
        cache.replace(roster({item("bob@example.org")}));
        const std::optional<Element> delivered = cache.apply(push(item("carol@example.org")));
        QVERIFY(delivered);
        QCOMPARE(canonical(*delivered), canonical(pushXml("e-1", item("carol@example.org"))));
        QCOMPARE(cache.version(), u"e-1");
    }

    void moreChangesThanContactsGetTheWholeRoster()
    {
        RosterCache cache(QStringLiteral("e"));
        cache.replace(roster({item("bob@example.org")}));
        for (const char *jid : {"c1@example.org", "c2@example.org", "c3@example.org"}) {
            cache.apply(push(item(jid)));
            cache.apply(push(item(jid, "remove")));
        }
        const RosterCache::Answer answer = cache.answer(QStringLiteral("e-0"));
        QVERIFY(answer.roster);
        QVERIFY(answer.pushes.empty());
    }

    void refetchedRosterGivesTheDifferenceAsPushes()
    {
        RosterCache cache(QStringLiteral("e"));
        cache.replace(roster({item("bob@example.org"), item("carol@example.org")}));
        // xbnc was away from the server: carol went, dave came, bob is unchanged
        const std::vector<Element> pushes =
            cache.replace(roster({item("bob@example.org"), item("dave@example.org", "to")}));
        QCOMPARE(canonicalAll(pushes),
                 canonicalAll(QStringList{pushXml("e-1", item("dave@example.org", "to")),
                                          pushXml("e-2", item("carol@example.org", "remove"))}));
        QCOMPARE(cache.version(), u"e-2");
        // and the same roster again changes nothing
        QVERIFY(cache.replace(roster({item("bob@example.org"), item("dave@example.org", "to")}))
                    .empty());
        QCOMPARE(cache.version(), u"e-2");
    }

    void forgottenRemovalsMakeOldVersionsGetTheWholeRoster()
    {
        RosterCache cache(QStringLiteral("e"));
        QStringList many;
        for (int i = 0; i < RosterCache::maxRemovals + 10; ++i)
            many << item(QStringLiteral("c%1@example.org").arg(i));
        cache.replace(roster(many));
        for (int i = 0; i <= RosterCache::maxRemovals; ++i) // one removal too many
            cache.apply(push(item(QStringLiteral("c%1@example.org").arg(i), "remove")));
        // the first removal (change 1) is forgotten: a client at e-0 cannot be told of it
        QVERIFY(cache.answer(QStringLiteral("e-0")).roster);
        const RosterCache::Answer recent =
            cache.answer(QStringLiteral("e-%1").arg(RosterCache::maxRemovals));
        QVERIFY(!recent.roster);
        QCOMPARE(recent.pushes.size(), size_t(1));
    }

    void survivesARestart()
    {
        const RosterCache cache = withHistory();
        const Element saved = Element::fromXml(cache.toElement().toXml());
        std::optional<RosterCache> restored = RosterCache::fromElement(saved);
        QVERIFY(restored);
        QVERIFY(restored->isFilled());
        QCOMPARE(restored->version(), u"e-3");
        QVERIFY(!restored->answer(QStringLiteral("e-3")).roster);
        QCOMPARE(canonicalAll(restored->answer(QStringLiteral("e-1")).pushes),
                 canonicalAll(cache.answer(QStringLiteral("e-1")).pushes));
        QCOMPARE(canonical(*restored->answer(std::nullopt).roster),
                 canonical(*cache.answer(std::nullopt).roster));
        QVERIFY(!RosterCache::fromElement(xml("<roster xmlns='urn:other'/>")));
        QVERIFY(!RosterCache::fromElement(
            xml("<roster xmlns='urn:xbnc:roster-cache' epoch='e' changes='x' oldest-exact='0'/>")));
    }
};

QTEST_GUILESS_MAIN(TestRosterCache)
#include "tst_roster_cache.moc"
