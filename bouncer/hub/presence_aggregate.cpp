#include "presence_aggregate.h"

namespace xbnc {

namespace {

int priorityOf(const Element &presence)
{
    const Element *priority = presence.firstChild(u"priority");
    return priority ? priority->text().trimmed().toInt() : 0;
}

} // namespace

PresenceAggregate::PresenceAggregate(Idle idle) : idle_(std::move(idle))
{
}

void PresenceAggregate::update(SessionId session, const Element &presence)
{
    if (presence.attribute(u"type") == u"unavailable") {
        remove(session);
        return;
    }
    Element copy = presence;
    copy.removeAttribute(u"to");
    copy.removeAttribute(u"from");
    copy.removeAttribute(u"id");
    sessions_.insert(session, Entry{std::move(copy), ++sequence_});
}

void PresenceAggregate::remove(SessionId session)
{
    sessions_.remove(session);
}

int PresenceAggregate::availability(const Element &presence)
{
    const Element *show = presence.firstChild(u"show");
    const QString value = show ? show->text().trimmed() : QString();
    if (value == u"chat")
        return 5;
    if (value.isEmpty())
        return 4;
    if (value == u"dnd")
        return 3;
    if (value == u"away")
        return 2;
    return 1;
}

std::optional<SessionId> PresenceAggregate::leader() const
{
    std::optional<SessionId> best;
    const Entry *bestEntry = nullptr;
    for (auto it = sessions_.cbegin(); it != sessions_.cend(); ++it) {
        const Entry &entry = it.value();
        if (bestEntry) {
            const int a = availability(entry.presence), b = availability(bestEntry->presence);
            if (a != b) {
                if (a < b)
                    continue;
            } else {
                const int pa = priorityOf(entry.presence), pb = priorityOf(bestEntry->presence);
                if (pa < pb || (pa == pb && entry.sequence < bestEntry->sequence))
                    continue;
            }
        }
        best = it.key();
        bestEntry = &entry;
    }
    return best;
}

Element PresenceAggregate::current() const
{
    if (const auto session = leader()) {
        Element presence = sessions_.value(*session).presence;
        // A negative priority would stop the server from delivering messages sent to the bare
        // JID to xbnc, and so to every other session too.
        if (Element *priority = presence.firstChild(u"priority");
            priority && priority->text().trimmed().toInt() < 0)
            priority->setText(QStringLiteral("0"));
        return presence;
    }
    Element presence(QStringLiteral("presence"), QStringLiteral("jabber:client"));
    if (!idle_.show.isEmpty())
        presence.addChild(Element(QStringLiteral("show"), presence.xmlns())).setText(idle_.show);
    if (!idle_.status.isEmpty())
        presence.addChild(Element(QStringLiteral("status"), presence.xmlns()))
            .setText(idle_.status);
    presence.addChild(Element(QStringLiteral("priority"), presence.xmlns()))
        .setText(QString::number(idle_.priority));
    return presence;
}

} // namespace xbnc
