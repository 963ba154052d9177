#include "account_harness.h"

#include <algorithm>

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
    for (const auto &attribute : attributes)
        out.setAttribute(attribute.name, attribute.value);
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

AccountHarness::AccountHarness(std::chrono::milliseconds iqTimeout, PresenceAggregate::Idle idle)
    : account(Jid(u"alice@example.org"), *this, std::move(idle), iqTimeout)
{
}

void AccountHarness::fromUpstream(const QString &xml)
{
    account.fromUpstream(Element::fromXml(xml.toUtf8()));
}

void AccountHarness::fromSession(SessionId session, const QString &xml)
{
    account.fromSession(session, Element::fromXml(xml.toUtf8()));
}

void AccountHarness::bind(SessionId session, const QString &resource, bool withPresence)
{
    account.sessionBound(session, resource);
    if (withPresence)
        fromSession(session, QStringLiteral("<presence/>"));
    sent.clear();
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

void AccountHarness::toUpstream(const Element &stanza)
{
    sent.push_back(Sent{Sent::Upstream, 0, stanza});
}

void AccountHarness::toSession(SessionId session, const Element &stanza)
{
    sent.push_back(Sent{Sent::Session, session, stanza});
}

void AccountHarness::closeSession(SessionId session, Downstream::StreamError)
{
    sent.push_back(Sent{Sent::Close, session, Element()});
}

} // namespace xbnc::test
