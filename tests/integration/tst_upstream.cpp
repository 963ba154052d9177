// The upstream edge against a real Prosody on loopback: login, lossless stanzas both ways, IQ
// and presence interception, TLS failures that are retried instead of crashing, and reconnects.

#include "prosody_fixture.h"
#include "starttls_stub_server.h"
#include "test_certificate.h"
#include "upstream.h"
#include "wait.h"

#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslKey>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

#include <functional>
#include <memory>
#include <vector>

using xbnc::Element;
using xbnc::Upstream;
using xbnc::UpstreamConfig;

namespace {

constexpr int timeoutMs = 5000;

Element xml(const char *text)
{
    QString error;
    Element element = Element::fromXml(QByteArrayView(text), u"jabber:client", &error);
    if (element.isNull())
        qWarning() << "bad test XML:" << error << text;
    return element;
}

// One Upstream as the hub would hold it, with everything it received kept in arrival order.
class HubSide
{
public:
    explicit HubSide(const UpstreamConfig &config) : upstream(config)
    {
        QObject::connect(&upstream, &Upstream::stanzaReceived, &upstream,
                         [this](const Element &stanza) { received.push_back(stanza); });
    }

    bool startAndWaitOnline()
    {
        QSignalSpy online(&upstream, &Upstream::online);
        upstream.start();
        return online.wait(timeoutMs);
    }

    const Element *find(const std::function<bool(const Element &)> &predicate) const
    {
        for (const Element &stanza : received) {
            if (predicate(stanza))
                return &stanza;
        }
        return nullptr;
    }

    const Element *waitFor(const std::function<bool(const Element &)> &predicate)
    {
        return QTest::qWaitFor([&] { return find(predicate) != nullptr; }, timeoutMs)
                   ? find(predicate)
                   : nullptr;
    }

    bool stopGracefully()
    {
        QSignalSpy stopped(&upstream, &Upstream::stopped);
        upstream.stop();
        return stopped.wait(timeoutMs);
    }

    Upstream upstream;
    std::vector<Element> received;
};

std::function<bool(const Element &)> isIq(const QString &id, const QString &type)
{
    return [id, type](const Element &stanza) {
        return stanza.name() == u"iq" && stanza.attribute(u"id") == id &&
               stanza.attribute(u"type") == type;
    };
}

std::function<bool(const Element &)> hasId(const QString &id)
{
    return [id](const Element &stanza) { return stanza.attribute(u"id") == id; };
}

// A self-signed certificate for `name`, written as <dir>/<name>.crt and .key.
bool makeCertificate(const QString &dir, const QString &name, QSslCertificate *certificate,
                     QSslKey *key)
{
    const QString crt = dir + u'/' + name + QStringLiteral(".crt");
    const QString pem = dir + u'/' + name + QStringLiteral(".key");
    QString error;
    if (!makeTestCertificate({name}, crt, pem, &error)) {
        qWarning() << error;
        return false;
    }
    const QList<QSslCertificate> certificates = QSslCertificate::fromPath(crt);
    QFile keyFile(pem);
    if (certificates.isEmpty() || !keyFile.open(QIODevice::ReadOnly))
        return false;
    *certificate = certificates.first();
    *key = QSslKey(&keyFile, QSsl::Ec);
    return !key->isNull();
}

// Upstream with `config` fails on TLS, is retried, and fails again, never getting online.
void expectTlsFailuresRetried(const UpstreamConfig &config)
{
    Upstream upstream(config);
    QSignalSpy offline(&upstream, &Upstream::offline);
    QSignalSpy online(&upstream, &Upstream::online);
    upstream.start();
    QTRY_VERIFY_WITH_TIMEOUT(offline.count() >= 2, timeoutMs);
    QVERIFY2(offline.first().first().toString().contains(u"TLS"),
             qPrintable(offline.first().first().toString()));
    QCOMPARE(online.count(), 0);
}

} // namespace

class TestUpstream : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanup();

    void connectsAndRoundTripsPing();
    void directTlsConnects();
    void unknownPayloadArrivesUnchanged();
    void iqRequestsReachTheHubNotGloox();
    void glooxSendsNoPresence();
    void wrongPasswordFailsWithoutRetry();
    void untrustedCertificateIsRetried();
    void wrongNameOnDirectTlsIsRetried();
    void wrongNameOnStartTlsIsRetried();
    void tls13OnlyServerIsAccepted();
    void serverRestartReconnects();
    void silentServerHitsLoginDeadline();
    void noServerConfiguredFallsBackToDomain();
    void stopWhileConnecting();
    void deletedFromItsOwnSignals();
    void resourceConflictIsReported();
    void tooDeepStanzasAreRefused();
    void tooDeepAnswerReachesTheAskerAsAnError();
    void tooDeepServerElementClosesTheStream();
    void unreadableStanzasAreBounced();
    void streamCutInTheMiddleOfAStanza_data();
    void streamCutInTheMiddleOfAStanza();
    void unansweredRequestIdsExpire();
    void requestUnderAGlooxIdIsNotSent();

private:
    UpstreamConfig configFor(const QString &resource) const;
    // A stub server that logs the account in and then lets the test speak for the server.
    std::unique_ptr<StartTlsStubServer> loginStub();
    UpstreamConfig stubConfig(const StartTlsStubServer &stub) const;

    ProsodyFixture prosody_;
    QTemporaryDir certificates_;
};

void TestUpstream::initTestCase()
{
    qputenv("XBNC_TEST_FAST_TIMERS", "1");
    QVERIFY(certificates_.isValid());
    QVERIFY(prosody_.addUser(QStringLiteral("alice"), QStringLiteral("secret")));
    QString error;
    QVERIFY2(prosody_.start(&error), qPrintable(error));
}

void TestUpstream::cleanup()
{
    if (QTest::currentTestFailed())
        qDebug().noquote() << "Prosody log:\n" << prosody_.logText().right(4000);
}

UpstreamConfig TestUpstream::configFor(const QString &resource) const
{
    UpstreamConfig config;
    config.jid = QStringLiteral("alice@localhost");
    config.password = QStringLiteral("secret");
    config.server = QStringLiteral("127.0.0.1");
    config.port = prosody_.c2sPort();
    config.resource = resource;
    config.caFile = prosody_.caCertificatePath();
    return config;
}

void TestUpstream::connectsAndRoundTripsPing()
{
    HubSide hub(configFor(QStringLiteral("xbnc")));
    QVERIFY(hub.startAndWaitOnline());
    QVERIFY(hub.upstream.isOnline());
    QCOMPARE(hub.upstream.jid().toString(), QStringLiteral("alice@localhost/xbnc"));

    // The hub's ids are its own business: arbitrary strings come back untouched.
    hub.upstream.send(xml("<iq type='get' to='localhost' id='phone-7:ping 1'>"
                          "<ping xmlns='urn:xmpp:ping'/></iq>"));
    const Element *pong =
        hub.waitFor(isIq(QStringLiteral("phone-7:ping 1"), QStringLiteral("result")));
    QVERIFY(pong);
    QCOMPARE(pong->attribute(u"from"), QStringLiteral("localhost"));

    QVERIFY(hub.stopGracefully());
    QVERIFY(!hub.upstream.isOnline());
}

void TestUpstream::directTlsConnects()
{
    UpstreamConfig config = configFor(QStringLiteral("direct"));
    config.port = prosody_.directTlsPort();
    config.directTls = true;
    HubSide hub(config);
    QVERIFY(hub.startAndWaitOnline());
    QVERIFY(hub.stopGracefully());
}

void TestUpstream::unknownPayloadArrivesUnchanged()
{
    HubSide sender(configFor(QStringLiteral("sender")));
    HubSide receiver(configFor(QStringLiteral("receiver")));
    QVERIFY(sender.startAndWaitOnline());
    QVERIFY(receiver.startAndWaitOnline());

    const Element message =
        xml("<message to='alice@localhost/receiver' type='chat' id='m1'>"
            "<body>caf\xc3\xa9 &amp; &lt;tags&gt; \xf0\x9f\x98\x80</body>"
            "<payload xmlns='urn:xbnc:test:opaque' mode='a&quot;b'>"
            "<item n='1'>text</item><x:ext xmlns:x='urn:xbnc:test:prefixed' x:flag='yes'/>"
            "<empty/></payload></message>");
    QVERIFY(!message.isNull());
    sender.upstream.send(message);

    const Element *arrived = receiver.waitFor(hasId(QStringLiteral("m1")));
    QVERIFY(arrived);
    QCOMPARE(arrived->attribute(u"from"), QStringLiteral("alice@localhost/sender"));
    const Element *sent = message.firstChild(u"payload", u"urn:xbnc:test:opaque");
    const Element *got = arrived->firstChild(u"payload", u"urn:xbnc:test:opaque");
    QVERIFY(sent && got);
    QCOMPARE(arrived->firstChild(u"body")->text(), message.firstChild(u"body")->text());

    // Prosody re-serialises namespaced attributes with prefixes of its own (ns1:flag), so the
    // prefixed child is compared by namespace; everything else must be identical.
    const Element *ext = got->firstChild(u"ext", u"urn:xbnc:test:prefixed");
    QVERIFY(ext);
    bool flagFound = false;
    for (const Element::Attribute &attribute : ext->attributes()) {
        const QString prefix = attribute.name.section(u':', 0, 0);
        for (const Element::Attribute &declaration : ext->prefixDeclarations()) {
            if (attribute.name.endsWith(u":flag") && declaration.name == prefix &&
                declaration.value == u"urn:xbnc:test:prefixed" && attribute.value == u"yes")
                flagFound = true;
        }
    }
    QVERIFY2(flagFound, got->toXml().constData());
    Element sentRest = *sent;
    Element gotRest = *got;
    sentRest.removeChildren(u"ext");
    gotRest.removeChildren(u"ext");
    QCOMPARE(gotRest.toXml(), sentRest.toXml());
}

void TestUpstream::iqRequestsReachTheHubNotGloox()
{
    HubSide hub(configFor(QStringLiteral("xbnc")));
    HubSide asker(configFor(QStringLiteral("asker")));
    QVERIFY(hub.startAndWaitOnline());
    QVERIFY(asker.startAndWaitOnline());

    // gloox would answer each of these itself (disco as a "bot", its version, ping,
    // feature-not-implemented): all must reach the hub instead.
    const QStringList requests = {
        QStringLiteral("<iq type='get' to='alice@localhost/xbnc' id='q-disco'>"
                       "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>"),
        QStringLiteral("<iq type='get' to='alice@localhost/xbnc' id='q-version'>"
                       "<query xmlns='jabber:iq:version'/></iq>"),
        QStringLiteral("<iq type='get' to='alice@localhost/xbnc' id='q-ping'>"
                       "<ping xmlns='urn:xmpp:ping'/></iq>"),
        QStringLiteral("<iq type='set' to='alice@localhost/xbnc' id='q-unknown'>"
                       "<thing xmlns='urn:xbnc:test:unknown'/></iq>"),
    };
    for (const QString &request : requests)
        asker.upstream.send(xml(request.toUtf8().constData()));
    for (const char *id : {"q-disco", "q-version", "q-ping", "q-unknown"})
        QVERIFY2(hub.waitFor(hasId(QLatin1String(id))), id);

    // Barrier: anything gloox answered went out before this message on the same stream.
    hub.upstream.send(xml("<message to='alice@localhost/asker' id='barrier'/>"));
    QVERIFY(asker.waitFor(hasId(QStringLiteral("barrier"))));
    for (const char *id : {"q-disco", "q-version", "q-ping", "q-unknown"})
        QVERIFY2(!asker.find(hasId(QLatin1String(id))), id);

    // The hub's own answer does get through, and reaches the asking hub (its request id).
    hub.upstream.send(xml("<iq type='result' to='alice@localhost/asker' id='q-ping'/>"));
    QVERIFY(asker.waitFor(isIq(QStringLiteral("q-ping"), QStringLiteral("result"))));
}

void TestUpstream::glooxSendsNoPresence()
{
    HubSide hub(configFor(QStringLiteral("xbnc")));
    HubSide observer(configFor(QStringLiteral("observer")));
    QVERIFY(hub.startAndWaitOnline());
    QVERIFY(observer.startAndWaitOnline());

    // Initial presence of another resource makes Prosody send it the presence of every
    // available resource of the account (RFC 6121 §4.4.2) — gloox's, had it sent one.
    const auto fromHub = [](const Element &stanza) {
        return stanza.name() == u"presence" && stanza.attribute(u"from") == u"alice@localhost/xbnc";
    };
    observer.upstream.send(xml("<presence/>"));
    observer.upstream.send(xml("<iq type='get' to='localhost' id='barrier-1'>"
                               "<ping xmlns='urn:xmpp:ping'/></iq>"));
    QVERIFY(observer.waitFor(isIq(QStringLiteral("barrier-1"), QStringLiteral("result"))));
    QVERIFY(!observer.find(fromHub));

    // Control: presence the hub sends is seen, with no gloox caps added to it.
    hub.upstream.send(xml("<presence id='hub-presence'><priority>1</priority></presence>"));
    const Element *presence = observer.waitFor(fromHub);
    QVERIFY(presence);
    QCOMPARE(presence->attribute(u"id"), QStringLiteral("hub-presence"));
    QVERIFY(!presence->firstChild(u"c", u"http://jabber.org/protocol/caps"));
}

void TestUpstream::wrongPasswordFailsWithoutRetry()
{
    UpstreamConfig config = configFor(QStringLiteral("wrong"));
    config.password = QStringLiteral("not-the-password");
    Upstream upstream(config);
    QSignalSpy failed(&upstream, &Upstream::authenticationFailed);
    QSignalSpy offline(&upstream, &Upstream::offline);
    QSignalSpy online(&upstream, &Upstream::online);
    upstream.start();
    QVERIFY(failed.wait(timeoutMs));
    QCOMPARE(failed.first().first().toString(), QStringLiteral("not-authorized"));
    // Fast timers retry within 1 s: twice that without a second attempt means none is coming.
    QVERIFY(!offline.wait(2000));
    QCOMPARE(failed.count(), 1);
    QCOMPARE(online.count(), 0);
}

void TestUpstream::untrustedCertificateIsRetried()
{
    UpstreamConfig config = configFor(QStringLiteral("untrusted"));
    config.caFile.clear(); // the fixture's self-signed certificate is in no system store
    expectTlsFailuresRetried(config);
}

void TestUpstream::wrongNameOnDirectTlsIsRetried()
{
    // Direct TLS asks for other.example by SNI before any stream header, and gets the
    // fixture's certificate for localhost: trusted, but for the wrong name.
    UpstreamConfig config = configFor(QStringLiteral("wrongname"));
    config.jid = QStringLiteral("alice@other.example");
    config.port = prosody_.directTlsPort();
    config.directTls = true;
    expectTlsFailuresRetried(config);
}

void TestUpstream::wrongNameOnStartTlsIsRetried()
{
    QSslCertificate certificate;
    QSslKey key;
    QVERIFY(
        makeCertificate(certificates_.path(), QStringLiteral("other.example"), &certificate, &key));
    StartTlsStubServer server(certificate, key, QSsl::TlsV1_2OrLater);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    UpstreamConfig config = configFor(QStringLiteral("wrongname"));
    config.port = server.serverPort();
    config.caFile = certificates_.path() + QStringLiteral("/other.example.crt"); // trusted
    Upstream upstream(config);
    QSignalSpy offline(&upstream, &Upstream::offline);
    upstream.start();
    QTRY_VERIFY_WITH_TIMEOUT(offline.count() >= 2, timeoutMs);
    QVERIFY2(offline.first().first().toString().contains(u"TLS"),
             qPrintable(offline.first().first().toString()));
    QVERIFY(server.connectionsSeen() >= 2);
    QCOMPARE(server.handshakesCompleted(), 0);
}

void TestUpstream::tls13OnlyServerIsAccepted()
{
    // gloox's own GnuTLS layer cannot do TLS 1.3; through Qt the upstream can.
    QSslCertificate certificate;
    QSslKey key;
    QVERIFY(makeCertificate(certificates_.path(), QStringLiteral("localhost"), &certificate, &key));
    StartTlsStubServer server(certificate, key, QSsl::TlsV1_3);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    UpstreamConfig config = configFor(QStringLiteral("tls13"));
    config.port = server.serverPort();
    config.caFile = certificates_.path() + QStringLiteral("/localhost.crt");
    Upstream upstream(config);
    QSignalSpy offline(&upstream, &Upstream::offline);
    upstream.start();
    // The stub hangs up after the handshake: a completed handshake, then a retry, then another.
    QTRY_VERIFY_WITH_TIMEOUT(server.handshakesCompleted() >= 2, timeoutMs);
    QCOMPARE(server.lastProtocol(), QSsl::TlsV1_3);
    QVERIFY(offline.count() >= 1);
}

void TestUpstream::serverRestartReconnects()
{
    HubSide hub(configFor(QStringLiteral("restart")));
    QSignalSpy online(&hub.upstream, &Upstream::online);
    QSignalSpy offline(&hub.upstream, &Upstream::offline);
    hub.upstream.start();
    QVERIFY(online.wait(timeoutMs));

    QString error;
    QVERIFY2(prosody_.restart(&error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(offline.count() >= 1, timeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(online.count(), 2, timeoutMs);
    QVERIFY(hub.upstream.isOnline());

    hub.upstream.send(xml("<iq type='get' to='localhost' id='after-restart'>"
                          "<ping xmlns='urn:xmpp:ping'/></iq>"));
    QVERIFY(hub.waitFor(isIq(QStringLiteral("after-restart"), QStringLiteral("result"))));
}

void TestUpstream::silentServerHitsLoginDeadline()
{
    // Accepts TCP and never says a word: the attempt must be abandoned, not wait forever.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    UpstreamConfig config = configFor(QStringLiteral("silent"));
    config.port = silent.serverPort();
    Upstream upstream(config);
    QSignalSpy offline(&upstream, &Upstream::offline);
    upstream.start();
    QVERIFY(offline.wait(timeoutMs));
    QVERIFY2(offline.first().first().toString().contains(u"no login"),
             qPrintable(offline.first().first().toString()));
}

void TestUpstream::noServerConfiguredFallsBackToDomain()
{
    // No host: an SRV lookup of _xmpp-client._tcp.localhost finds nothing, so the domain
    // itself is dialled on the configured port.
    UpstreamConfig config = configFor(QStringLiteral("srv"));
    config.server.clear();
    HubSide hub(config);
    QVERIFY(hub.startAndWaitOnline());
    QVERIFY(hub.stopGracefully());
}

void TestUpstream::stopWhileConnecting()
{
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    UpstreamConfig config = configFor(QStringLiteral("stopping"));
    config.port = silent.serverPort();
    Upstream upstream(config);
    QSignalSpy offline(&upstream, &Upstream::offline);
    QSignalSpy stopped(&upstream, &Upstream::stopped);
    upstream.start();
    QVERIFY(waitForSignal(&silent, &QTcpServer::newConnection, QDeadlineTimer(timeoutMs)));
    upstream.stop();
    QVERIFY(stopped.wait(timeoutMs));
    QCOMPARE(offline.count(), 0);
    QVERIFY(!upstream.isOnline());
    // Stopped means stopped: no retry comes later.
    QVERIFY(!waitForSignal(&silent, &QTcpServer::newConnection, QDeadlineTimer(1500)));
}

void TestUpstream::deletedFromItsOwnSignals()
{
    // The hub may drop an Upstream from a slot, deep inside gloox's and the socket's frames.
    UpstreamConfig untrusted = configFor(QStringLiteral("deleted-offline"));
    untrusted.caFile.clear();
    auto failing = std::make_unique<Upstream>(untrusted);
    bool deletedOnOffline = false;
    QObject::connect(failing.get(), &Upstream::offline, failing.get(), [&] {
        failing.reset();
        deletedOnOffline = true;
    });
    failing->start();
    QTRY_VERIFY_WITH_TIMEOUT(deletedOnOffline, timeoutMs);

    auto online = std::make_unique<Upstream>(configFor(QStringLiteral("deleted-stanza")));
    bool deletedOnStanza = false;
    QObject::connect(online.get(), &Upstream::online, online.get(), [&] {
        online->send(xml("<iq type='get' to='localhost' id='last-words'>"
                         "<ping xmlns='urn:xmpp:ping'/></iq>"));
    });
    QObject::connect(online.get(), &Upstream::stanzaReceived, online.get(), [&] {
        online.reset();
        deletedOnStanza = true;
    });
    online->start();
    QTRY_VERIFY_WITH_TIMEOUT(deletedOnStanza, timeoutMs);
    // Run the deferred teardown now, while the test still watches (a crash fails it here).
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    QCoreApplication::processEvents();
}

void TestUpstream::resourceConflictIsReported()
{
    // A second client on the same resource replaces the first (Prosody's default): the first
    // sees a conflict stream error, named in offline(), and retries like after any loss.
    HubSide first(configFor(QStringLiteral("twin")));
    QVERIFY(first.startAndWaitOnline());
    QSignalSpy offline(&first.upstream, &Upstream::offline);
    HubSide second(configFor(QStringLiteral("twin")));
    second.upstream.start();
    QVERIFY(offline.wait(timeoutMs));
    QVERIFY2(offline.first().first().toString().contains(u"conflict"),
             qPrintable(offline.first().first().toString()));
}

std::unique_ptr<StartTlsStubServer> TestUpstream::loginStub()
{
    QSslCertificate certificate;
    QSslKey key;
    if (!makeCertificate(certificates_.path(), QStringLiteral("localhost"), &certificate, &key))
        return nullptr;
    auto stub = std::make_unique<StartTlsStubServer>(certificate, key, QSsl::TlsV1_2OrLater);
    stub->setLogsIn(true);
    if (!stub->listen(QHostAddress::LocalHost, 0))
        return nullptr;
    return stub;
}

UpstreamConfig TestUpstream::stubConfig(const StartTlsStubServer &stub) const
{
    UpstreamConfig config = configFor(QStringLiteral("xbnc"));
    config.port = stub.serverPort();
    config.caFile = certificates_.path() + QStringLiteral("/localhost.crt");
    return config;
}

namespace {

// `depth` nested elements below a stanza opened by `start` and closed by `end`; unterminated
// when `end` is empty.
QByteArray nestedStanza(const QByteArray &start, int depth, const QByteArray &end)
{
    QByteArray xml = start;
    xml.reserve(start.size() + qsizetype(depth) * 7 + end.size());
    for (int level = 0; level < depth; ++level)
        xml += "<a>";
    if (end.isEmpty())
        return xml;
    for (int level = 0; level < depth; ++level)
        xml += "</a>";
    return xml + end;
}

} // namespace

void TestUpstream::tooDeepStanzasAreRefused()
{
    // Any remote JID can send the account a stanza. Nested 300,000 deep, gloox's recursive Tag
    // destructor alone overflows the stack; 100 deep is past the cap of 64 and harmless to
    // gloox, so the refusal itself is seen.
    const auto stub = loginStub();
    QVERIFY(stub);
    HubSide hub(stubConfig(*stub));
    QVERIFY(hub.startAndWaitOnline());
    QSignalSpy offline(&hub.upstream, &Upstream::offline);

    QTest::ignoreMessage(QtWarningMsg,
                         "refused a <iq> from eve@evil.example/x with elements nested deeper "
                         "than 64 - not delivered");
    QTest::ignoreMessage(QtWarningMsg,
                         "refused a <message> from eve@evil.example/x with elements nested "
                         "deeper than 64 - not delivered");
    stub->sendRaw(
        nestedStanza("<iq type='get' id='deep-q' from='eve@evil.example/x'>", 100, "</iq>"));
    stub->sendRaw(
        nestedStanza("<message id='deep-m' from='eve@evil.example/x'>", 300000, "</message>"));
    stub->sendRaw("<message id='after' from='bob@localhost/desk'><body>hi</body></message>");

    QVERIFY(hub.waitFor(hasId(QStringLiteral("after"))));
    QVERIFY(!hub.find(hasId(QStringLiteral("deep-q"))));
    QVERIFY(!hub.find(hasId(QStringLiteral("deep-m"))));
    // The request is answered, so the asker is not left waiting.
    QTRY_VERIFY_WITH_TIMEOUT(stub->received().contains("policy-violation"), timeoutMs);
    const QString answer = QString::fromUtf8(stub->received());
    QVERIFY2(answer.contains(u"<iq type='error' id='deep-q' to='eve@evil.example/x'>"),
             qPrintable(answer));
    // The message is bounced, so its sender knows it was not read.
    QTRY_VERIFY_WITH_TIMEOUT(stub->received().contains("id='deep-m'"), timeoutMs);
    QVERIFY2(QString::fromUtf8(stub->received())
                 .contains(u"<message type='error' id='deep-m' to='eve@evil.example/x'><error "
                           u"type='modify'><policy-violation"),
             qPrintable(QString::fromUtf8(stub->received())));
    QCOMPARE(offline.count(), 0);
    QVERIFY(hub.upstream.isOnline());
}

void TestUpstream::tooDeepAnswerReachesTheAskerAsAnError()
{
    // The session that asked is told at once, not at the hub's deadline a minute later.
    const auto stub = loginStub();
    QVERIFY(stub);
    HubSide hub(stubConfig(*stub));
    QVERIFY(hub.startAndWaitOnline());
    hub.upstream.send(xml("<iq type='get' to='bob@localhost/desk' id='asked'>"
                          "<query xmlns='jabber:iq:version'/></iq>"));
    QCOMPARE(hub.upstream.pendingRequests(), std::size_t(1));

    QTest::ignoreMessage(QtWarningMsg,
                         "refused a <iq> from bob@localhost/desk with elements nested deeper "
                         "than 64 - not delivered");
    stub->sendRaw(
        nestedStanza("<iq type='result' id='asked' from='bob@localhost/desk'>", 100, "</iq>"));
    const Element *answer = hub.waitFor(isIq(QStringLiteral("asked"), QStringLiteral("error")));
    QVERIFY(answer);
    QCOMPARE(answer->attribute(u"from"), QStringLiteral("bob@localhost/desk"));
    const Element *error = answer->firstChild(u"error");
    QVERIFY(error);
    QVERIFY(error->firstChild(u"policy-violation", u"urn:ietf:params:xml:ns:xmpp-stanzas"));
    QCOMPARE(hub.upstream.pendingRequests(), std::size_t(0));
}

void TestUpstream::tooDeepServerElementClosesTheStream()
{
    // Only the server speaks outside stanzas: nesting there past the cap means a broken or
    // hostile server, and the attempt ends like any other failure, to be retried.
    const auto stub = loginStub();
    QVERIFY(stub);
    HubSide hub(stubConfig(*stub));
    QVERIFY(hub.startAndWaitOnline());
    QSignalSpy offline(&hub.upstream, &Upstream::offline);
    QTest::ignoreMessage(QtWarningMsg,
                         "the server sent a <stream:features> with elements nested deeper than "
                         "64 - closing the stream");
    stub->sendRaw(nestedStanza("<stream:features>", 100, "</stream:features>"));
    QVERIFY(offline.wait(timeoutMs));
    QVERIFY2(offline.first().first().toString().contains(u"XML parse error"),
             qPrintable(offline.first().first().toString()));
    QTRY_COMPARE_WITH_TIMEOUT(stub->loginsCompleted(), 2, timeoutMs);
}

void TestUpstream::unreadableStanzasAreBounced()
{
    // gloox reads an undeclared prefix; xbnc's own reader, which every session's copy goes
    // through, refuses it. The message is not lost without a word: its sender gets an error,
    // a request its answer, and later stanzas still arrive.
    const auto stub = loginStub();
    QVERIFY(stub);
    HubSide hub(stubConfig(*stub));
    QVERIFY(hub.startAndWaitOnline());
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral(
                             "^refused a <message> from eve@evil.example/x with XML xbnc cannot "
                             "read \\(.+\\) - not delivered$")));
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral(
                             "^refused a <iq> from eve@evil.example/x with XML xbnc cannot read "
                             "\\(.+\\) - not delivered$")));
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral(
                             "^refused a <message> from eve@evil.example/x with XML xbnc cannot "
                             "read \\(.+\\) - not delivered$")));
    stub->sendRaw("<message id='odd-m' type='chat' from='eve@evil.example/x'><body>hi</body>"
                  "<p:x/></message>");
    stub->sendRaw("<iq type='get' id='odd-q' from='eve@evil.example/x'><p:query/></iq>");
    // An error is never answered with an error (RFC 6120 §8.3.1).
    stub->sendRaw("<message id='odd-e' type='error' from='eve@evil.example/x'><p:x/></message>");
    stub->sendRaw("<message id='after' from='bob@localhost/desk'><body>hi</body></message>");

    QVERIFY(hub.waitFor(hasId(QStringLiteral("after"))));
    QVERIFY(!hub.find(hasId(QStringLiteral("odd-m"))));
    QVERIFY(!hub.find(hasId(QStringLiteral("odd-q"))));
    QVERIFY(!hub.find(hasId(QStringLiteral("odd-e"))));
    QTRY_VERIFY_WITH_TIMEOUT(stub->received().contains("id='odd-q'"), timeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(stub->received().contains("id='odd-m'"), timeoutMs);
    const QString sent = QString::fromUtf8(stub->received());
    const QRegularExpression bounce(QStringLiteral(
        "<message type='error' id='odd-m' to='eve@evil.example/x'><error type='modify'>"
        "<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"));
    QVERIFY2(bounce.match(sent).hasMatch(), qPrintable(sent));
    const QRegularExpression answer(
        QStringLiteral("<iq type='error' id='odd-q' to='eve@evil.example/x'><error type='modify'>"
                       "<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"));
    QVERIFY2(answer.match(sent).hasMatch(), qPrintable(sent));
    QVERIFY2(!sent.contains(u"odd-e"), qPrintable(sent));
    QVERIFY(hub.upstream.isOnline());
}

void TestUpstream::streamCutInTheMiddleOfAStanza_data()
{
    QTest::addColumn<QByteArray>("half");
    QTest::newRow("message") << QByteArray(
        "<message id='half' from='bob@localhost/desk'><body>hal");
    // Unfinished, so gloox frees it only when the connection is gone: no crash then either.
    QTest::newRow("300,000 levels deep")
        << nestedStanza("<message id='half' from='eve@evil.example/x'>", 300000, {});
}

void TestUpstream::streamCutInTheMiddleOfAStanza()
{
    QFETCH(QByteArray, half);
    const auto stub = loginStub();
    QVERIFY(stub);
    HubSide hub(stubConfig(*stub));
    QVERIFY(hub.startAndWaitOnline());
    QSignalSpy offline(&hub.upstream, &Upstream::offline);
    QSignalSpy online(&hub.upstream, &Upstream::online);

    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("stream ended in the middle of a "
                                                           "stanza.*not delivered")));
    stub->sendRaw(half);
    stub->abortSession();
    QVERIFY(offline.wait(timeoutMs));
    QVERIFY(online.wait(timeoutMs)); // reconnected, with backoff, to the same stub
    QCOMPARE(stub->loginsCompleted(), 2);

    stub->sendRaw("<message id='after' from='bob@localhost/desk'><body>hi</body></message>");
    QVERIFY(hub.waitFor(hasId(QStringLiteral("after"))));
    QVERIFY(!hub.find(hasId(QStringLiteral("half"))));
}

void TestUpstream::unansweredRequestIdsExpire()
{
    const auto stub = loginStub();
    QVERIFY(stub);
    UpstreamConfig config = stubConfig(*stub);
    config.limits.requestLifetime = std::chrono::milliseconds(300);
    HubSide hub(config);
    QVERIFY(hub.startAndWaitOnline());

    for (int n = 0; n < 20; ++n) {
        hub.upstream.send(xml(QStringLiteral("<iq type='get' to='bob@localhost/desk' id='r%1'>"
                                             "<ping xmlns='urn:xmpp:ping'/></iq>")
                                  .arg(n)
                                  .toUtf8()
                                  .constData()));
    }
    QCOMPARE(hub.upstream.pendingRequests(), std::size_t(20));
    // Nobody answers: the ids do not stay for the life of the connection.
    QTRY_COMPARE_WITH_TIMEOUT(hub.upstream.pendingRequests(), std::size_t(0), timeoutMs);

    // An answer in time still reaches the hub.
    hub.upstream.send(xml("<iq type='get' to='bob@localhost/desk' id='answered'>"
                          "<ping xmlns='urn:xmpp:ping'/></iq>"));
    stub->sendRaw("<iq type='result' id='answered' from='bob@localhost/desk'/>");
    QVERIFY(hub.waitFor(isIq(QStringLiteral("answered"), QStringLiteral("result"))));
    QCOMPARE(hub.upstream.pendingRequests(), std::size_t(0));
}

void TestUpstream::requestUnderAGlooxIdIsNotSent()
{
    // gloox numbers its own requests (bind here) after a per-client prefix; a hub request under
    // such an id could take the answer meant for gloox, or give gloox the hub's.
    const auto stub = loginStub();
    QVERIFY(stub);
    HubSide hub(stubConfig(*stub));
    QVERIFY(hub.startAndWaitOnline());
    const QByteArray bindId = stub->bindId();
    QVERIFY2(bindId.size() > 8, bindId.constData());
    const QByteArray glooxLike = bindId.left(bindId.size() - 8) + "0000ffff";

    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("refused")));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("refused")));
    hub.upstream.send(xml(QByteArray("<iq type='get' to='localhost' id='" + glooxLike +
                                     "'><ping xmlns='urn:xmpp:ping'/></iq>")
                              .constData()));
    hub.upstream.send(xml("<message to='bob@localhost' id='barrier'/>"));
    QTRY_VERIFY_WITH_TIMEOUT(stub->received().contains("barrier"), timeoutMs);
    QVERIFY2(!stub->received().contains(glooxLike), stub->received().constData());
    QCOMPARE(hub.upstream.pendingRequests(), std::size_t(0));

    // Any other id goes out as written.
    hub.upstream.send(xml("<iq type='get' to='localhost' id='x1abc'>"
                          "<ping xmlns='urn:xmpp:ping'/></iq>"));
    QTRY_VERIFY_WITH_TIMEOUT(stub->received().contains("x1abc"), timeoutMs);
}

QTEST_GUILESS_MAIN(TestUpstream)
#include "tst_upstream.moc"
