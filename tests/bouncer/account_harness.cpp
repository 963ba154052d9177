#include "account_harness.h"

#include <QDateTime>

#include <algorithm>
#include <utility>

namespace xbnc::test {

namespace {
Element sorted(const Element &in)
{
    if (in.isText())
        return in;
    Element out(in.name(), in.xmlns());
    auto attributes = in.attributes();
    std::sort(attributes.begin(), attributes.end(),
              [](const auto &a, const auto &b) { return a.name < b.name; });
    const bool delay = in.name() == u"delay" && in.xmlns() == u"urn:xmpp:delay";
    for (const auto &attribute : attributes) {
        QString value = attribute.value;
        if (delay && attribute.name == u"stamp") {
            const QDateTime stamp = QDateTime::fromString(value, Qt::ISODateWithMs);
            if (stamp.isValid())
                value = stamp.toUTC().toString(Qt::ISODateWithMs);
        }
        out.setAttribute(attribute.name, value);
    }
    for (const Element &c : in.children()) {
        if (c.isText() && c.text().trimmed().isEmpty())
            continue; // indentation in test literals
        out.addChild(sorted(c));
    }
    return out;
}
} // namespace

QString canonical(const Element &element)
{
    return QString::fromUtf8(sorted(element).toXml());
}

QString canonical(const QString &xml)
{
    QString error;
    const Element element = Element::fromXml(xml.toUtf8(), u"jabber:client", &error);
    if (element.isNull())
        return QStringLiteral("<unparsable: %1: %2>").arg(error, xml);
    return canonical(element);
}

QString withOwnCaps(const QString &presence, const QStringList &sessionFeatures,
                    const QString &clientType)
{
    caps::Caps own;
    own.identities.push_back({QStringLiteral("client"), clientType, {}, QStringLiteral("xbnc")});
    own.features = OwnCaps::ownFeatures() + sessionFeatures;
    own.features.removeDuplicates();
    Element element = Element::fromXml(presence.toUtf8());
    element.addChild(caps::element(OwnCaps::node, caps::ver(own)));
    return QString::fromUtf8(element.toXml());
}

QString idlePresence()
{
    return withOwnCaps(
        QStringLiteral("<presence><show>away</show><priority>0</priority></presence>"));
}

AccountHarness::AccountHarness(std::chrono::milliseconds iqTimeout, PresenceAggregate::Idle idle)
    : account(Jid(u"alice@example.org"), *this, std::move(idle), iqTimeout)
{
    Room::Timing timing;
    timing.silence = std::chrono::seconds(0);
    account.setRoomTiming(timing);
}

void AccountHarness::fromUpstream(const QString &xml)
{
    Element stanza = Element::fromXml(xml.toUtf8());
    if (auto it = ownIds_.constFind(stanza.attribute(u"id")); it != ownIds_.constEnd())
        stanza.setAttribute(QStringLiteral("id"), it.value());
    account.fromUpstream(std::move(stanza));
}

void AccountHarness::roomsTick()
{
    roomPings_ = true;
    account.roomsTick();
    roomPings_ = false;
}

void AccountHarness::fromSession(SessionId session, const QString &xml)
{
    account.fromSession(session, Element::fromXml(xml.toUtf8()));
}

void AccountHarness::bind(SessionId session, const QString &resource, bool withPresence)
{
    account.sessionBound(session, resource);
    resources_[session] = resource;
    if (withPresence)
        fromSession(session, QStringLiteral("<presence/>"));
    sent.clear();
}

void AccountHarness::online()
{
    account.upstreamOnline(Jid(boundJid));
    sent.clear();
}

QString AccountHarness::expectServerInfoAndRoster()
{
    const QString info =
        expectUpstream(QStringLiteral("<iq type='get' id='xbnc-serverinfo' to='example.org'><query "
                                      "xmlns='http://jabber.org/protocol/disco#info'/></iq>"));
    if (!info.isEmpty())
        return info;
    return expectUpstream(
        QStringLiteral("<iq type='get' id='xbnc-roster'><query xmlns='jabber:iq:roster'/></iq>"));
}

AccountHarness::Sent AccountHarness::take()
{
    if (sent.empty())
        return Sent{Sent::Close, 0, Element()};
    Sent next = sent.front();
    sent.pop_front();
    return next;
}

QString AccountHarness::describe(const Sent &s) const
{
    switch (s.target) {
    case Sent::Upstream:
        return QStringLiteral("upstream: ") + canonical(s.stanza);
    case Sent::Session:
        return QStringLiteral("session %1: ").arg(s.session) + canonical(s.stanza);
    case Sent::Close:
        return QStringLiteral("close session %1").arg(s.session);
    }
    return {};
}

QString AccountHarness::expectUpstream(const QString &xml)
{
    if (sent.empty())
        return QStringLiteral("nothing sent; expected upstream: ") + canonical(xml);
    const Sent next = take();
    const QString want = canonical(xml);
    if (next.target != Sent::Upstream || canonical(next.stanza) != want)
        return QStringLiteral("got %1\nwant upstream: %2").arg(describe(next), want);
    // xbnc asks a room's disco#info right behind its join (Account::roomToUpstream).
    const bool join = next.stanza.name() == u"presence" && !next.stanza.hasAttribute(u"type") &&
                      next.stanza.firstChild(u"x", u"http://jabber.org/protocol/muc");
    if (join)
        return expectRoomInfo(Jid(next.stanza.attribute(u"to")).bareString());
    return {};
}

QString AccountHarness::expectToSession(SessionId session, const QString &xml)
{
    if (sent.empty())
        return QStringLiteral("nothing sent; expected session %1: ").arg(session) + canonical(xml);
    const Sent next = take();
    const QString want = canonical(xml);
    if (next.target != Sent::Session || next.session != session || canonical(next.stanza) != want)
        return QStringLiteral("got %1\nwant session %2: %3")
            .arg(describe(next))
            .arg(session)
            .arg(want);
    return {};
}

QString AccountHarness::expectClose(SessionId session)
{
    if (sent.empty())
        return QStringLiteral("nothing sent; expected close of %1").arg(session);
    const Sent next = take();
    if (next.target != Sent::Close || next.session != session)
        return QStringLiteral("got %1\nwant close of session %2").arg(describe(next)).arg(session);
    return {};
}

QString AccountHarness::expectNothing()
{
    if (sent.empty())
        return {};
    return QStringLiteral("unexpected %1").arg(describe(sent.front()));
}

QString AccountHarness::expectRelayed(SessionId session, const QStringList &fromServer)
{
    for (const QString &xml : fromServer)
        if (QString problem = expectToSession(session, relayedTo(xml, resourceOf(session)));
            !problem.isEmpty())
            return problem;
    return {};
}

QString AccountHarness::expectFanOut(const QList<SessionId> &sessions, const QString &fromServer)
{
    QList<SessionId> waiting = sessions;
    while (!waiting.isEmpty()) {
        if (sent.empty())
            return QStringLiteral("nothing sent; still expected for sessions %1: %2")
                .arg(QString::number(waiting.size()), canonical(fromServer));
        const Sent next = take();
        if (next.target != Sent::Session || !waiting.contains(next.session))
            return QStringLiteral("got %1\nwant one copy each for %2 sessions: %3")
                .arg(describe(next), QString::number(waiting.size()), canonical(fromServer));
        const QString want = canonical(relayedTo(fromServer, resourceOf(next.session)));
        if (canonical(next.stanza) != want)
            return QStringLiteral("got %1\nwant session %2: %3")
                .arg(describe(next))
                .arg(next.session)
                .arg(want);
        waiting.removeOne(next.session);
    }
    return {};
}

QString AccountHarness::ownRequestName(const Element &iq)
{
    // xbnc's own requests get unpredictable ids; tests name them by what they ask.
    if (iq.name() != u"iq" || (iq.attribute(u"type") != u"get" && iq.attribute(u"type") != u"set"))
        return {};
    if (iq.firstChild(u"enable", u"urn:xmpp:carbons:2"))
        return QStringLiteral("xbnc-carbons");
    if (const Element *pubsub = iq.firstChild(u"pubsub", u"http://jabber.org/protocol/pubsub")) {
        if (const Element *items = pubsub->firstChild(u"items"))
            if (items->attribute(u"node") == u"urn:xmpp:bookmarks:1")
                return QStringLiteral("xbnc-bookmarks");
        // XEP-0357 publishes, named by the app server's node.
        if (const Element *publish = pubsub->firstChild(u"publish"))
            if (const Element *item = publish->firstChild(u"item");
                item && item->firstChild(u"notification", u"urn:xmpp:push:0"))
                return QStringLiteral("xbnc-push-") + publish->attribute(u"node");
    }
    if (const Element *query = iq.firstChild(u"query", u"jabber:iq:private");
        query && query->firstChild(u"storage", u"storage:bookmarks") &&
        iq.attribute(u"type") == u"get")
        return QStringLiteral("xbnc-bookmarks-legacy");
    // Sessions' own requests of these two are named alike; ownIds_ keeps the latest.
    if (iq.firstChild(u"disable", u"urn:xmpp:push:0"))
        return QStringLiteral("xbnc-push-off");
    if (iq.firstChild(u"query", u"jabber:iq:roster") && iq.attribute(u"type") == u"get")
        return QStringLiteral("xbnc-roster");
    if (const Element *query = iq.firstChild(u"query", u"http://jabber.org/protocol/disco#info");
        query && !query->hasAttribute(u"node") && iq.attribute(u"to") == u"example.org")
        return QStringLiteral("xbnc-serverinfo");
    return {};
}

void AccountHarness::toUpstream(const Element &stanza)
{
    QString name = ownRequestName(stanza);
    if (name.isEmpty() && stanza.firstChild(u"ping", u"urn:xmpp:ping") &&
        stanza.attribute(u"type") == u"get" && roomPings_)
        name = QStringLiteral("xbnc-selfping-") + Jid(stanza.attribute(u"to")).bareString();
    if (name.isEmpty())
        return sent.push_back(Sent{Sent::Upstream, 0, stanza});
    ownIds_.insert(name, stanza.attribute(u"id"));
    Element named = stanza;
    named.setAttribute(QStringLiteral("id"), name);
    sent.push_back(Sent{Sent::Upstream, 0, named});
}

void AccountHarness::toSession(SessionId session, const Element &stanza)
{
    sent.push_back(Sent{Sent::Session, session, stanza});
}

std::vector<Element> AccountHarness::sessionReplaced(SessionId session)
{
    sent.push_back(Sent{Sent::Close, session, Element()});
    return std::exchange(unacknowledged[session], {});
}

QString relayedTo(const QString &fromServer, const QString &)
{
    return fromServer; // every session is bound to alice@example.org/xbnc
}

// ---------------------------------------------------------------- rooms

const QString RoomScript::jid = QStringLiteral("room@conference.example.org");

QStringList RoomScript::all() const
{
    QStringList stanzas = occupants;
    stanzas << self << history;
    if (!subject.isEmpty()) // a room that never sent one
        stanzas << subject;
    return stanzas;
}

RoomScript standardRoom()
{
    RoomScript room;
    room.occupants = {
        QStringLiteral("<presence from='room@conference.example.org/bob' "
                       "to='alice@example.org/xbnc'><c xmlns='http://jabber.org/protocol/caps' "
                       "hash='sha-1' node='https://dino.im' ver='q1'/><x "
                       "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' "
                       "jid='bob@example.org/pc' role='moderator'/></x></presence>"),
        QStringLiteral("<presence from='room@conference.example.org/carol' "
                       "to='alice@example.org/xbnc'><show>away</show><x "
                       "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
                       "jid='carol@example.org/phone' role='participant'/></x></presence>"),
    };
    room.self = QStringLiteral(
        "<presence from='room@conference.example.org/alice' to='alice@example.org/xbnc'><x "
        "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' "
        "jid='alice@example.org/xbnc' role='participant'/><status code='100'/><status "
        "code='110'/><status code='170'/></x></presence>");
    room.history = {
        QStringLiteral("<message from='room@conference.example.org/bob' "
                       "to='alice@example.org/xbnc' type='groupchat' id='h1'><body>Anyone for "
                       "tea?</body><stanza-id xmlns='urn:xmpp:sid:0' "
                       "by='room@conference.example.org' id='s1'/><delay xmlns='urn:xmpp:delay' "
                       "from='room@conference.example.org' stamp='2026-11-26T19:00:00Z'/>"
                       "</message>"),
        QStringLiteral("<message from='room@conference.example.org/carol' "
                       "to='alice@example.org/xbnc' type='groupchat' id='h2'><body>Yes "
                       "please</body><stanza-id xmlns='urn:xmpp:sid:0' "
                       "by='room@conference.example.org' id='s2'/><delay xmlns='urn:xmpp:delay' "
                       "from='room@conference.example.org' stamp='2026-11-26T19:01:00Z'/>"
                       "</message>"),
    };
    room.subject = QStringLiteral("<message from='room@conference.example.org/bob' "
                                  "to='alice@example.org/xbnc' type='groupchat' id='subj1'>"
                                  "<subject>Tea time</subject></message>");
    return room;
}

QString joinPresence(const QString &nick, const QString &payload)
{
    return QStringLiteral("<presence to='%1'><x xmlns='http://jabber.org/protocol/muc'>%2</x>"
                          "</presence>")
        .arg(RoomScript::occupant(nick), payload);
}

QString roomInfoRequest(const QString &roomJid)
{
    return QStringLiteral("<iq type='get' id='xbnc-roominfo-%1' to='%1'><query "
                          "xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        .arg(roomJid);
}

QString AccountHarness::takeRoomInfo(const QString &roomJid)
{
    const QString wanted = canonical(roomInfoRequest(roomJid));
    for (auto it = sent.begin(); it != sent.end(); ++it) {
        if (it->target != Sent::Upstream)
            continue;
        Element named = it->stanza;
        named.setAttribute(QStringLiteral("id"), QStringLiteral("xbnc-roominfo-") + roomJid);
        if (canonical(named) != wanted)
            continue;
        ownIds_.insert(named.attribute(u"id"), it->stanza.attribute(u"id"));
        sent.erase(it);
        return {};
    }
    return QStringLiteral("no disco#info of %1 from xbnc among the outputs").arg(roomJid);
}

QString AccountHarness::expectRoomInfo(const QString &roomJid)
{
    if (sent.empty() || sent.front().target != Sent::Upstream)
        return QStringLiteral("expected xbnc's disco#info of %1 next, got %2")
            .arg(roomJid, sent.empty() ? QStringLiteral("nothing") : describe(sent.front()));
    Sent next = sent.front();
    sent.pop_front();
    const QString id = next.stanza.attribute(u"id");
    next.stanza.setAttribute(QStringLiteral("id"), QStringLiteral("xbnc-roominfo-") + roomJid);
    if (canonical(next.stanza) != canonical(roomInfoRequest(roomJid)))
        return QStringLiteral("expected xbnc's disco#info of %1 next, got %2")
            .arg(roomJid, describe(next));
    ownIds_.insert(next.stanza.attribute(u"id"), id);
    return {};
}

QString joinFirst(AccountHarness &h, SessionId session, const RoomScript &script)
{
    h.fromSession(session, joinPresence(script.nick));
    if (QString problem = h.expectUpstream(joinPresence(script.nick)); !problem.isEmpty())
        return QStringLiteral("joining upstream: ") + problem;
    for (const QString &stanza : script.all())
        h.fromUpstream(stanza);
    if (QString problem = h.expectRelayed(session, script.all()); !problem.isEmpty())
        return QStringLiteral("the room's answer: ") + problem;
    QString problem = h.expectNothing();
    h.clear();
    return problem;
}

} // namespace xbnc::test
