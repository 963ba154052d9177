#pragma once

#include "test_client.h"

#include <QString>

class BouncerFixture;
class TcpRelay;

// Where the benchmark's phone keeps its session: through xbnc, or straight on Prosody. Both put
// a TcpRelay in front of the server, which counts the bytes on the wire and cuts the connection.
class ResumeTarget
{
public:
    virtual ~ResumeTarget() = default;

    virtual QString name() const = 0;
    // How the phone logs in (through the relay), with resource "phone".
    virtual TestClientOptions phoneOptions() const = 0;
    // The bare JID bob writes his 1:1 messages to, and the phone's nick in rooms.
    virtual QString account() const = 0;
    QString nick() const { return account().section(QLatin1Char('@'), 0, 0); }
    TcpRelay &relay() const { return *relay_; }

    // Everything the target needs in a room bob has just created before the phone joins it.
    virtual bool prepareRoom(const QString &room, QString *error) = 0;
    // Called just before the phone's connection is cut; waitHibernating() then returns once
    // the server knows the connection is gone and holds the session.
    virtual void beforeCut() = 0;
    virtual bool waitHibernating(QString *error) = 0;
    // Returns once the server holding the session has every missed message (bob has already
    // seen the room's echo of his last one).
    virtual bool waitMissedIn(const QString &room, const QString &lastChat,
                              const QString &lastGroupchat, QString *error) = 0;

protected:
    explicit ResumeTarget(TcpRelay *relay) : relay_(relay) {}

private:
    TcpRelay *relay_;
};

// The phone is alice's device through xbnc. xbnc's copy of each message is proved by a second
// session of alice ("laptop", no stream management) that is in every room too.
class XbncTarget : public ResumeTarget
{
public:
    XbncTarget(BouncerFixture &fixture, TcpRelay *relay) : ResumeTarget(relay), fixture_(fixture) {}

    QString name() const override { return QStringLiteral("xbnc"); }
    TestClientOptions phoneOptions() const override;
    QString account() const override { return QStringLiteral("alice@localhost"); }
    bool prepareRoom(const QString &room, QString *error) override;
    void beforeCut() override;
    bool waitHibernating(QString *error) override;
    bool waitMissedIn(const QString &room, const QString &lastChat, const QString &lastGroupchat,
                      QString *error) override;

private:
    BouncerFixture &fixture_;
    TestClient *laptop_ = nullptr;
    qsizetype logMark_ = 0;
};

// The phone is carol's device straight on Prosody with mod_smacks. Prosody handles bob's
// stanzas one after the other, so the room's echo of his last message to bob means every
// earlier one is already in carol's hibernation queue.
class ProsodyTarget : public ResumeTarget
{
public:
    ProsodyTarget(BouncerFixture &fixture, TcpRelay *relay) : ResumeTarget(relay), fixture_(fixture)
    {
    }

    QString name() const override { return QStringLiteral("prosody"); }
    TestClientOptions phoneOptions() const override;
    QString account() const override { return QStringLiteral("carol@localhost"); }
    bool prepareRoom(const QString &, QString *) override { return true; }
    void beforeCut() override;
    bool waitHibernating(QString *error) override;
    bool waitMissedIn(const QString &, const QString &, const QString &, QString *) override
    {
        return true;
    }

private:
    QByteArray log() const; // Prosody's log file as written so far

    BouncerFixture &fixture_;
    qsizetype logMark_ = 0;
};
