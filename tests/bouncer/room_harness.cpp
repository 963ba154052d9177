#include "room_harness.h"

namespace xbnc::test {

const QString RoomHarness::jid = QStringLiteral("room@conference.example.org");

RoomHarness::RoomHarness() : room(jid, *this, [this] { return now; })
{
}

void RoomHarness::fromUpstream(const QString &xml)
{
    const Element stanza = Element::fromXml(xml.toUtf8());
    if (stanza.name() == u"presence")
        room.presenceFromUpstream(stanza);
    else if (stanza.name() == u"message")
        room.groupchatFromUpstream(stanza);
    else if (stanza.name() == u"iq")
        room.selfPingAnswered(stanza);
}

void RoomHarness::fromSession(SessionId session, const QString &xml)
{
    const Element stanza = Element::fromXml(xml.toUtf8());
    if (stanza.name() == u"presence")
        room.presenceFromSession(session, stanza);
    else if (stanza.name() == u"message")
        room.groupchatFromSession(session, stanza);
    else if (stanza.name() == u"iq")
        roomToSession(session, room.answerSelfPing(session, stanza));
}

void RoomHarness::advance(std::chrono::seconds by)
{
    now = now.addSecs(by.count());
    room.tick(now);
}

QString RoomHarness::describe(const Sent &sent) const
{
    if (sent.upstream)
        return QStringLiteral("upstream: ") + canonical(sent.stanza);
    return QStringLiteral("session %1: ").arg(sent.session) + canonical(sent.stanza);
}

QString RoomHarness::expectUpstream(const QString &xml)
{
    const QString want = canonical(xml);
    if (sent_.empty())
        return QStringLiteral("nothing sent; expected upstream: ") + want;
    const Sent next = sent_.front();
    sent_.pop_front();
    if (!next.upstream || canonical(next.stanza) != want)
        return QStringLiteral("got %1\nwant upstream: %2").arg(describe(next), want);
    return {};
}

QString RoomHarness::expectToSession(SessionId session, const QString &xml)
{
    return expectToSessions({session}, xml);
}

QString RoomHarness::expectToSessions(const QList<SessionId> &sessions, const QString &xml)
{
    const QString want = canonical(xml);
    QList<SessionId> waiting = sessions;
    while (!waiting.isEmpty()) {
        if (sent_.empty())
            return QStringLiteral("nothing sent; expected for %1 more sessions: %2")
                .arg(waiting.size())
                .arg(want);
        const Sent next = sent_.front();
        sent_.pop_front();
        if (next.upstream || !waiting.contains(next.session) || canonical(next.stanza) != want)
            return QStringLiteral("got %1\nwant for sessions %2: %3")
                .arg(describe(next), QString::number(waiting.size()), want);
        waiting.removeOne(next.session);
    }
    return {};
}

QString RoomHarness::expectNothing()
{
    if (sent_.empty())
        return {};
    return QStringLiteral("unexpected %1").arg(describe(sent_.front()));
}

void RoomHarness::roomToUpstream(const Element &stanza)
{
    sent_.push_back(Sent{true, 0, stanza});
}

void RoomHarness::roomToSession(SessionId session, const Element &stanza)
{
    sent_.push_back(Sent{false, session, stanza});
}

void RoomHarness::roomToSessions(const std::set<SessionId> &sessions, const Element &stanza)
{
    for (SessionId session : sessions)
        roomToSession(session, stanza);
}

void RoomHarness::roomToSessionSerialized(SessionId session, const QList<QByteArray> &stanzas)
{
    serializedReplays.append({session, stanzas.join()});
    for (const QByteArray &stanza : stanzas)
        roomToSession(session, Element::fromXml(stanza));
}

namespace smallRoom {

QString bob()
{
    return QStringLiteral(
        "<presence from='room@conference.example.org/bob' to='alice@example.org/xbnc'><x "
        "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
        "role='participant'/></x></presence>");
}

QString self(const QString &nick, const QString &codes)
{
    return QStringLiteral("<presence from='room@conference.example.org/%1' "
                          "to='alice@example.org/xbnc'><x "
                          "xmlns='http://jabber.org/protocol/muc#user'><item "
                          "affiliation='member' role='participant'/><status code='110'/>%2</x>"
                          "</presence>")
        .arg(nick, codes);
}

QString history()
{
    return QStringLiteral(
        "<message from='room@conference.example.org/bob' to='alice@example.org/xbnc' "
        "type='groupchat' id='h1'><body>Tea?</body><stanza-id xmlns='urn:xmpp:sid:0' "
        "by='room@conference.example.org' id='s1'/><delay xmlns='urn:xmpp:delay' "
        "from='room@conference.example.org' stamp='2027-01-15T07:00:00Z'/></message>");
}

QString subject()
{
    return QStringLiteral("<message from='room@conference.example.org' "
                          "to='alice@example.org/xbnc' type='groupchat'><subject>Tea</subject>"
                          "</message>");
}

QString join(const QString &nick, const QString &payload)
{
    return QStringLiteral("<presence to='room@conference.example.org/%1'><x "
                          "xmlns='http://jabber.org/protocol/muc'>%2</x></presence>")
        .arg(nick, payload);
}

} // namespace smallRoom

QString joinedRoom(RoomHarness &h, const QList<SessionId> &sessions)
{
    h.fromSession(sessions.first(), smallRoom::join());
    if (QString problem = h.expectUpstream(smallRoom::join()); !problem.isEmpty())
        return problem;
    for (const QString &stanza :
         {smallRoom::bob(), smallRoom::self(), smallRoom::history(), smallRoom::subject()}) {
        h.fromUpstream(stanza);
        if (QString problem = h.expectToSession(sessions.first(), stanza); !problem.isEmpty())
            return problem;
    }
    for (SessionId session : sessions.mid(1))
        h.fromSession(session, smallRoom::join());
    h.clear();
    if (h.room.phase() != Room::Phase::Joined)
        return QStringLiteral("the room is not joined");
    return {};
}

} // namespace xbnc::test
