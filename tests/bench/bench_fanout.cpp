// Fan-out through the hub: N messages from upstream to S sessions, serialised as the edge does:
// once per stanza, the bytes shared by its recipients (they are all bound to the same JID). Run as
// a whole process and time it from outside, e.g.
//   /usr/bin/time -v build/tests/bench/bench_fanout 100000 10 [chat|room]
// "chat" (default): 1:1 messages to the account, which go to every session. "room": groupchat
// messages from a room all S sessions joined, logged in the room's history as they pass.
// It prints the stanza count it delivered so a run that did nothing is visible.
#include "account.h"

#include <QCoreApplication>
#include <QLoggingCategory>

#include <cstdio>
#include <cstring>

using namespace xbnc;

namespace {

class SerialisingOutput : public Account::Output
{
public:
    qint64 bytes = 0;
    qint64 stanzas = 0;
    void toUpstream(const Element &) override {}
    void toSession(SessionId session, const Element &stanza) override
    {
        toSessions({session}, stanza);
    }
    void toSessions(const std::vector<SessionId> &sessions, const Element &stanza) override
    {
        out_.clear();
        stanza.appendXml(out_);
        bytes += out_.size() * qint64(sessions.size());
        stanzas += qint64(sessions.size());
    }
    std::vector<Element> sessionReplaced(SessionId) override { return {}; }

private:
    QByteArray out_;
};

} // namespace

int main(int argc, char **argv)
{
    QLoggingCategory::setFilterRules(QStringLiteral("*.debug=false\nxbnc.*.info=false"));
    QCoreApplication app(argc, argv);
    const int messages = argc > 1 ? std::atoi(argv[1]) : 100000;
    const int sessions = argc > 2 ? std::atoi(argv[2]) : 10;
    const bool room = argc > 3 && std::strcmp(argv[3], "room") == 0;

    SerialisingOutput output;
    Account account(Jid(u"alice@example.org"), output);
    account.upstreamOnline(Jid(u"alice@example.org/xbnc"));
    for (int s = 1; s <= sessions; ++s)
        account.sessionBound(SessionId(s), QStringLiteral("device%1").arg(s));
    if (room) {
        // Every session joins; the room answers the first join once.
        for (int s = 1; s <= sessions; ++s)
            account.fromSession(SessionId(s),
                                Element::fromXml("<presence to='team@conference.example.org/al'>"
                                                 "<x xmlns='http://jabber.org/protocol/muc'/>"
                                                 "</presence>"));
        account.fromUpstream(Element::fromXml(
            "<presence from='team@conference.example.org/al' to='alice@example.org/xbnc'><x "
            "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
            "role='participant'/><status code='110'/></x></presence>"));
        account.fromUpstream(Element::fromXml(
            "<message from='team@conference.example.org' to='alice@example.org/xbnc' "
            "type='groupchat'><subject>Lunch</subject></message>"));
        output.stanzas = output.bytes = 0;
    }

    // A typical chat message: body, origin-id, stanza-id, a chat state and a receipt request.
    const QByteArray wire =
        "<message from='bob@example.org/phone' to='alice@example.org/xbnc' type='chat' "
        "id='a1b2c3d4'><body>Are we still on for lunch tomorrow at noon?</body>"
        "<origin-id xmlns='urn:xmpp:sid:0' id='9f8e7d6c-5b4a-3c2d-1e0f'/>"
        "<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.org' id='Zx81kq2LmN'/>"
        "<active xmlns='http://jabber.org/protocol/chatstates'/>"
        "<request xmlns='urn:xmpp:receipts'/></message>";
    const QByteArray roomWire =
        "<message from='team@conference.example.org/bob' to='alice@example.org/xbnc' "
        "type='groupchat' id='a1b2c3d4'><body>Are we still on for lunch tomorrow at noon?</body>"
        "<origin-id xmlns='urn:xmpp:sid:0' id='9f8e7d6c-5b4a-3c2d-1e0f'/>"
        "<stanza-id xmlns='urn:xmpp:sid:0' by='team@conference.example.org' id='%1'/>"
        "<active xmlns='http://jabber.org/protocol/chatstates'/></message>";
    for (int i = 0; i < messages; ++i) {
        // parse once per message, as upstream does; room messages carry distinct stanza-ids
        const QByteArray bytes =
            room ? QByteArray(roomWire).replace("%1", QByteArray::number(i)) : wire;
        account.fromUpstream(Element::fromXml(bytes));
    }
    std::printf("%lld stanzas, %lld bytes delivered to %d sessions\n",
                static_cast<long long>(output.stanzas), static_cast<long long>(output.bytes),
                sessions);
    return output.stanzas == qint64(messages) * sessions ? 0 : 1;
}
