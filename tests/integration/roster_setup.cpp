#include "roster_setup.h"

#include "prosody_fixture.h"
#include "stanza_match.h"
#include "test_client.h"

namespace {

bool requestRoster(TestClient &client, QString *error)
{
    // Only "interested" resources (those that fetched the roster) get roster pushes.
    client.send("<iq type='get' id='roster-setup'><query xmlns='jabber:iq:roster'/></iq>");
    if (client.readUntil(match::iq(QStringLiteral("roster-setup"))))
        return true;
    *error = client.errorString();
    return false;
}

bool approve(TestClient &approver, const QString &requester, QString *error)
{
    if (!approver.readUntil(match::presenceFrom(requester, QStringLiteral("subscribe")))) {
        *error = approver.errorString();
        return false;
    }
    approver.send(QStringLiteral("<presence to='%1' type='subscribed'/>").arg(requester).toUtf8());
    return true;
}

} // namespace

bool subscribeMutually(TestClient &a, const QString &aBareJid, TestClient &b,
                       const QString &bBareJid, QString *error)
{
    if (!requestRoster(a, error) || !requestRoster(b, error))
        return false;
    a.send(QStringLiteral("<presence to='%1' type='subscribe'/>").arg(bBareJid).toUtf8());
    if (!approve(b, aBareJid, error))
        return false;
    b.send(QStringLiteral("<presence to='%1' type='subscribe'/>").arg(aBareJid).toUtf8());
    if (!approve(a, bBareJid, error))
        return false;
    for (auto [client, contact] : {std::pair{&a, bBareJid}, std::pair{&b, aBareJid}}) {
        if (!client->readUntil(match::rosterPush(contact, QStringLiteral("both")))) {
            *error = client->errorString();
            return false;
        }
    }
    return true;
}

bool makeContacts(ProsodyFixture &prosody, const QString &userA, const QString &passwordA,
                  const QString &userB, const QString &passwordB, QString *error)
{
    if (!prosody.addUser(userA, passwordA) || !prosody.addUser(userB, passwordB)) {
        *error = QStringLiteral("prosodyctl register failed");
        return false;
    }
    const auto login = [&prosody, error](TestClient &client, const QString &user,
                                         const QString &password) {
        TestClientOptions o;
        o.port = prosody.c2sPort();
        o.caFile = prosody.caCertificatePath();
        o.user = user;
        o.password = password;
        o.resource = QStringLiteral("setup");
        if (client.login(o))
            return true;
        *error = client.errorString();
        return false;
    };
    TestClient a(userA + QStringLiteral("-setup"));
    TestClient b(userB + QStringLiteral("-setup"));
    const QString suffix = QLatin1Char('@') + prosody.domain();
    if (!login(a, userA, passwordA) || !login(b, userB, passwordB) ||
        !subscribeMutually(a, userA + suffix, b, userB + suffix, error))
        return false;
    for (TestClient *client : {&a, &b}) {
        client->disconnectFromServer();
        if (!client->expectClosed()) {
            *error = client->errorString();
            return false;
        }
    }
    return true;
}
