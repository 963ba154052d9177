// XEP-0115 verification strings against the XEP's own examples (§5.2, §5.3), and the §5.4 rules
// for answers that name no ver.
#include "caps.h"

#include <QTest>

using namespace xbnc;

namespace {
const QString query =
    QStringLiteral("<query xmlns='http://jabber.org/protocol/disco#info'>%1</query>");

QString identity(const QString &category, const QString &type, const QString &name,
                 const QString &lang = {})
{
    QString xml =
        QStringLiteral("<identity category='%1' type='%2' name='%3'").arg(category, type, name);
    if (!lang.isEmpty())
        xml += QStringLiteral(" xml:lang='%1'").arg(lang);
    return xml + QStringLiteral("/>");
}

QString features(const QStringList &vars)
{
    QString xml;
    for (const QString &var : vars)
        xml += QStringLiteral("<feature var='%1'/>").arg(var);
    return xml;
}

const QStringList exodusFeatures = {QStringLiteral("http://jabber.org/protocol/caps"),
                                    QStringLiteral("http://jabber.org/protocol/disco#info"),
                                    QStringLiteral("http://jabber.org/protocol/disco#items"),
                                    QStringLiteral("http://jabber.org/protocol/muc")};

// §5.3: the form, with fields and values deliberately out of order.
const QString softwareInfo = QStringLiteral(
    "<x xmlns='jabber:x:data' type='result'>"
    "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"
    "<field var='ip_version' type='text-multi'><value>ipv6</value><value>ipv4</value></field>"
    "<field var='os'><value>Mac</value></field>"
    "<field var='os_version'><value>10.5.1</value></field>"
    "<field var='software'><value>Psi</value></field>"
    "<field var='software_version'><value>0.11</value></field>"
    "</x>");

caps::Caps parse(const QString &xml)
{
    const Element element = Element::fromXml(xml.toUtf8(), u"jabber:client");
    return caps::fromDiscoInfo(element).value_or(caps::Caps{});
}
} // namespace

class TestCaps : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void ver_data()
    {
        QTest::addColumn<QString>("info"); // the <query/> children
        QTest::addColumn<QString>("expected");
        QTest::newRow("XEP-0115 §5.2 simple")
            << identity("client", "pc", "Exodus 0.9.1") + features(exodusFeatures)
            << "QgayPKawpkPSDYmwT/WM94uAlu0=";
        QTest::newRow("§5.2, features in another order")
            << features({exodusFeatures[3], exodusFeatures[1]}) +
                   identity("client", "pc", "Exodus 0.9.1") +
                   features({exodusFeatures[2], exodusFeatures[0]})
            << "QgayPKawpkPSDYmwT/WM94uAlu0=";
        QTest::newRow("XEP-0115 §5.3 complex, with an extended form")
            << identity("client", "pc", "Psi 0.11", "en") +
                   identity("client", "pc", "Ψ 0.11", "el") + features(exodusFeatures) +
                   softwareInfo
            << "q07IKJEyjvHSyhy//CH0CxmKi8w=";
        QTest::newRow("§5.3, identities and forms in another order")
            << softwareInfo + identity("client", "pc", "Ψ 0.11", "el") + features(exodusFeatures) +
                   identity("client", "pc", "Psi 0.11", "en")
            << "q07IKJEyjvHSyhy//CH0CxmKi8w=";
        QTest::newRow("§5.4: a form whose FORM_TYPE is not hidden is left out")
            << identity("client", "pc", "Exodus 0.9.1") + features(exodusFeatures) +
                   QString(softwareInfo).replace("type='hidden'", "")
            << "QgayPKawpkPSDYmwT/WM94uAlu0=";
    }
    void ver()
    {
        QFETCH(QString, info);
        QFETCH(QString, expected);
        QCOMPARE(caps::ver(parse(query.arg(info))), expected);
    }

    void verificationStringOfTheComplexExample()
    {
        const caps::Caps c = parse(query.arg(identity("client", "pc", "Psi 0.11", "en") +
                                             identity("client", "pc", "Ψ 0.11", "el") +
                                             features(exodusFeatures) + softwareInfo));
        QCOMPARE(QString::fromUtf8(caps::verificationString(c)),
                 QStringLiteral("client/pc/el/Ψ 0.11<client/pc/en/Psi 0.11<"
                                "http://jabber.org/protocol/caps<"
                                "http://jabber.org/protocol/disco#info<"
                                "http://jabber.org/protocol/disco#items<"
                                "http://jabber.org/protocol/muc<"
                                "urn:xmpp:dataforms:softwareinfo<"
                                "ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<"
                                "software_version<0.11<"));
    }

    void illFormed_data()
    {
        QTest::addColumn<QString>("info");
        QTest::newRow("a feature twice")
            << identity("client", "pc", "x") + features({"urn:a", "urn:a"});
        QTest::newRow("an identity twice")
            << identity("client", "pc", "x") + identity("client", "pc", "x");
        QTest::newRow("two forms of one FORM_TYPE")
            << identity("client", "pc", "x") + softwareInfo + softwareInfo;
    }
    void illFormed()
    {
        QFETCH(QString, info);
        const Element element = Element::fromXml(query.arg(info).toUtf8());
        QVERIFY(!caps::fromDiscoInfo(element));
    }

    void discoInfoRoundTripsToTheSameVer()
    {
        const caps::Caps c = parse(query.arg(identity("client", "pc", "Psi 0.11", "en") +
                                             features(exodusFeatures) + softwareInfo));
        const Element info = caps::toDiscoInfo(c, QStringLiteral("n#v"));
        QCOMPARE(info.attribute(u"node"), QStringLiteral("n#v"));
        const std::optional<caps::Caps> back = caps::fromDiscoInfo(info);
        QVERIFY(back);
        QCOMPARE(caps::ver(*back), caps::ver(c));
    }
};

QTEST_GUILESS_MAIN(TestCaps)
#include "tst_caps.moc"
