// TlsSession and TlsContext in memory: a server and a client session handing each other their
// ciphertext, as Downstream and a client do over TCP.
#include "certificate_authority.h"
#include "channel_binding.h"
#include "tls_channel_bindings.h"
#include "tls_context.h"
#include "tls_session.h"

#include <QSslCertificate>
#include <QSslKey>
#include <QTest>

#include <openssl/ssl.h>

using xbnc::TlsContext;
using xbnc::TlsSession;

namespace {

std::shared_ptr<const TlsContext> serverContext()
{
    QString error;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QStringList names{QStringLiteral("localhost")};
    const auto ca = xbnc::makeCertificateAuthority(names, now.addDays(-1), now.addDays(1), &error);
    const auto leaf =
        ca ? xbnc::signServerCertificate(*ca, names, now.addDays(-1), now.addDays(1), &error)
           : std::nullopt;
    if (!leaf) {
        qWarning() << error;
        return nullptr;
    }
    return TlsContext::forServer(QSslCertificate::fromData(leaf->cert, QSsl::Pem),
                                 QSslKey(leaf->key, QSsl::Ec, QSsl::Pem), &error);
}

// Moves ciphertext both ways until neither side has any left.
void pump(TlsSession &a, TlsSession &b)
{
    for (int round = 0; round < 10; ++round) {
        const QByteArray toB = a.takeCiphertext();
        const QByteArray toA = b.takeCiphertext();
        if (toB.isEmpty() && toA.isEmpty())
            return;
        b.receive(toB);
        a.receive(toA);
    }
}

struct Pair
{
    std::unique_ptr<TlsSession> server;
    std::unique_ptr<TlsSession> client;
};

Pair connected(const std::shared_ptr<const TlsContext> &serverSide,
               const std::shared_ptr<const TlsContext> &clientSide)
{
    Pair pair{std::make_unique<TlsSession>(serverSide, TlsSession::Role::Server),
              std::make_unique<TlsSession>(clientSide, TlsSession::Role::Client)};
    pair.server->start();
    pair.client->start();
    pump(*pair.client, *pair.server);
    return pair;
}

} // namespace

class TestTlsSession : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void dataBothWays();
    void heldUntilHandshake();
    void exporterSharedByBothEnds();
    void exporterOnlyWithExtendedMasterSecret();
    void bindingsExporterFirst();
    void garbageRefused();
    void closeNotify();
    void unusableKeyRefused();

private:
    std::shared_ptr<const TlsContext> server_;
    std::shared_ptr<const TlsContext> client_;
};

void TestTlsSession::initTestCase()
{
    server_ = serverContext();
    client_ = TlsContext::forClient();
    QVERIFY(server_);
    QVERIFY(client_);
}

void TestTlsSession::dataBothWays()
{
    Pair p = connected(server_, client_);
    QCOMPARE(p.server->state(), TlsSession::State::Established);
    QCOMPARE(p.client->state(), TlsSession::State::Established);
    QCOMPARE(p.server->protocolName(), QStringLiteral("TLSv1.3"));
    p.client->send("<stream:stream to='localhost'>");
    pump(*p.client, *p.server);
    QCOMPARE(p.server->takePlaintext(), QByteArray("<stream:stream to='localhost'>"));
    const QByteArray big(100 * 1024, 'x'); // several records
    p.server->send(big);
    pump(*p.client, *p.server);
    QCOMPARE(p.client->plaintextSize(), big.size());
    QCOMPARE(p.client->takePlaintext(10), QByteArray(10, 'x'));
    QCOMPARE(p.client->takePlaintext(), big.mid(10));
    QCOMPARE(p.client->plaintextSize(), 0);
}

void TestTlsSession::heldUntilHandshake()
{
    TlsSession server(server_, TlsSession::Role::Server);
    TlsSession client(client_, TlsSession::Role::Client);
    server.start();
    client.start();
    server.send("<proceed-early/>");
    QCOMPARE(server.heldSize(), qsizetype(16));
    pump(client, server);
    QCOMPARE(server.heldSize(), qsizetype(0));
    QCOMPARE(client.takePlaintext(), QByteArray("<proceed-early/>"));
}

void TestTlsSession::exporterSharedByBothEnds()
{
    Pair first = connected(server_, client_);
    Pair second = connected(server_, client_);
    const QByteArray exporter = first.server->exporter();
    QCOMPARE(exporter.size(), 32);
    QCOMPARE(first.client->exporter(), exporter);
    QCOMPARE(second.client->exporter(), second.server->exporter());
    QVERIFY(second.server->exporter() != exporter);
}

void TestTlsSession::exporterOnlyWithExtendedMasterSecret()
{
    const std::shared_ptr<const TlsContext> withEms = TlsContext::forClient();
    SSL_CTX_set_max_proto_version(withEms->handle(), TLS1_2_VERSION);
    Pair ems = connected(server_, withEms);
    QCOMPARE(ems.server->protocolName(), QStringLiteral("TLSv1.2"));
    QCOMPARE(ems.server->exporter().size(), 32);
    QCOMPARE(ems.client->exporter(), ems.server->exporter());

    // RFC 9266 §3: TLS 1.2 without it has no tls-exporter.
    const std::shared_ptr<const TlsContext> withoutEms = TlsContext::forClient();
    SSL_CTX_set_max_proto_version(withoutEms->handle(), TLS1_2_VERSION);
    SSL_CTX_set_options(withoutEms->handle(), SSL_OP_NO_EXTENDED_MASTER_SECRET);
    Pair plain = connected(server_, withoutEms);
    QCOMPARE(plain.server->state(), TlsSession::State::Established);
    QVERIFY(plain.server->exporter().isEmpty());
    const xbnc::ChannelBindings bindings = xbnc::tlsChannelBindings(*plain.server);
    QCOMPARE(xbnc::channelBindingTypes(bindings),
             QStringList{QStringLiteral("tls-server-end-point")});
}

void TestTlsSession::bindingsExporterFirst()
{
    Pair p = connected(server_, client_);
    const xbnc::ChannelBindings bindings = xbnc::tlsChannelBindings(*p.server);
    QCOMPARE(xbnc::channelBindingTypes(bindings),
             (QStringList{QStringLiteral("tls-exporter"), QStringLiteral("tls-server-end-point")}));
    QCOMPARE(bindings[0].data, p.client->exporter());
    // The client computes tls-server-end-point from the certificate it was shown.
    QCOMPARE(bindings[1].data,
             xbnc::tlsServerEndPoint(QSslCertificate(p.client->serverCertificateDer(), QSsl::Der)));
}

void TestTlsSession::garbageRefused()
{
    TlsSession server(server_, TlsSession::Role::Server);
    server.start();
    server.receive("<?xml version='1.0'?><stream:stream to='localhost' version='1.0'>");
    QCOMPARE(server.state(), TlsSession::State::Failed);
    QVERIFY(!server.errorString().isEmpty());
    server.receive("more");
    server.send("anything");
    QCOMPARE(server.plaintextSize(), 0);
    QVERIFY(server.exporter().isEmpty());
}

void TestTlsSession::closeNotify()
{
    Pair p = connected(server_, client_);
    p.client->send("</stream:stream>");
    p.client->close();
    pump(*p.client, *p.server);
    QCOMPARE(p.server->takePlaintext(), QByteArray("</stream:stream>"));
    QCOMPARE(p.server->state(), TlsSession::State::Closed);
}

void TestTlsSession::unusableKeyRefused()
{
    QString error;
    const auto ca = xbnc::makeCertificateAuthority(
        {QStringLiteral("localhost")}, QDateTime::currentDateTimeUtc().addDays(-1),
        QDateTime::currentDateTimeUtc().addDays(1), &error);
    QVERIFY(ca);
    const auto other = xbnc::makeCertificateAuthority(
        {QStringLiteral("localhost")}, QDateTime::currentDateTimeUtc().addDays(-1),
        QDateTime::currentDateTimeUtc().addDays(1), &error);
    QVERIFY(other);
    QVERIFY(!TlsContext::forServer(QSslCertificate::fromData(ca->cert, QSsl::Pem),
                                   QSslKey(other->key, QSsl::Ec, QSsl::Pem), &error));
    QVERIFY2(error.contains(u"key"), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestTlsSession)
#include "tst_tls_session.moc"
