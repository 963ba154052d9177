#pragma once

#include <QString>

class ProsodyFixture;
class TestClient;

// Makes `a` and `b` (both logged in, with initial presence sent) subscribed to each other
// ("both") the way two users would: subscribe, approve, in both directions, then waits for the
// roster pushes that confirm it. Protocol only, so it works against any server.
bool subscribeMutually(TestClient &a, const QString &aBareJid, TestClient &b,
                       const QString &bBareJid, QString *error);

// On a running fixture: registers both accounts and makes them mutual contacts, by logging both
// in straight to Prosody (resource "setup") and out again.
bool makeContacts(ProsodyFixture &prosody, const QString &userA, const QString &passwordA,
                  const QString &userB, const QString &passwordB, QString *error);
