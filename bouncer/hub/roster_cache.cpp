#include "roster_cache.h"

#include "xmpp_ns.h"

#include <QRandomGenerator>

#include <algorithm>

namespace xbnc {

namespace {

const QString savedNs = QStringLiteral("urn:xbnc:roster-cache");

bool isItem(const Element &e)
{
    return e.name() == u"item" && e.xmlns() == xmlns::roster && e.hasAttribute(u"jid");
}

Element removalOf(const QString &jid)
{
    Element item(QStringLiteral("item"), xmlns::roster);
    item.setAttribute(QStringLiteral("jid"), jid);
    item.setAttribute(QStringLiteral("subscription"), QStringLiteral("remove"));
    return item;
}

} // namespace

QString RosterCache::version() const
{
    return epoch_ + u'-' + QString::number(changes_);
}

quint64 RosterCache::setItem(const QString &jid, Element item)
{
    removals_.erase(jid);
    items_[jid] = Entry{std::move(item), ++changes_};
    return changes_;
}

void RosterCache::remove(const QString &jid)
{
    items_.erase(jid);
    removals_[jid] = Entry{removalOf(jid), ++changes_};
    forgetOldRemovals();
}

void RosterCache::forgetOldRemovals()
{
    while (removals_.size() > size_t(maxRemovals)) {
        auto oldest =
            std::min_element(removals_.begin(), removals_.end(), [](const auto &a, const auto &b) {
                return a.second.change < b.second.change;
            });
        // A client that has not seen this removal can no longer be told about it.
        oldestExact_ = oldest->second.change;
        removals_.erase(oldest);
    }
}

std::vector<Element> RosterCache::replace(const Element &query)
{
    std::map<QString, Element> incoming;
    for (const Element &child : query.children())
        if (isItem(child))
            incoming.emplace(child.attribute(u"jid"), child);
    if (!filled_) {
        filled_ = true;
        if (epoch_.isEmpty())
            epoch_ = QString::number(QRandomGenerator::global()->generate(), 16);
        for (auto &[jid, item] : incoming)
            items_[jid] = Entry{std::move(item), changes_};
        return {};
    }
    // What changed while xbnc was away from the server: the same pushes the server would have
    // sent, so sessions that hold the roster stay current.
    std::vector<Element> pushes;
    for (auto &[jid, item] : incoming) {
        auto known = items_.find(jid);
        if (known != items_.end() && known->second.item == item)
            continue;
        setItem(jid, std::move(item));
        pushes.push_back(pushFor(items_.at(jid)));
    }
    std::vector<QString> gone;
    for (const auto &[jid, entry] : items_)
        if (!incoming.count(jid))
            gone.push_back(jid);
    for (const QString &jid : gone) {
        remove(jid);
        if (auto it = removals_.find(jid); it != removals_.end())
            pushes.push_back(pushFor(it->second));
    }
    return pushes;
}

std::optional<Element> RosterCache::apply(const Element &query)
{
    if (!filled_)
        return std::nullopt;
    const Element *item = nullptr;
    for (const Element &child : query.children())
        if (isItem(child))
            item = &child;
    if (!item) // RFC 6121 §2.1.6: exactly one item; anything else changes nothing
        return std::nullopt;
    const QString jid = item->attribute(u"jid");
    if (item->attribute(u"subscription") == u"remove") {
        remove(jid);
        if (auto it = removals_.find(jid); it != removals_.end())
            return pushFor(it->second);
        return pushFor(Entry{removalOf(jid), changes_});
    }
    setItem(jid, *item);
    return pushFor(items_.at(jid));
}

RosterCache::Answer RosterCache::answer(const std::optional<QString> &clientVer) const
{
    Answer full{fullRoster(), {}};
    if (!clientVer) {
        full.roster->removeAttribute(u"ver"); // the client does not version: none given
        return full;
    }
    if (*clientVer == version())
        return {};
    bool ok = false;
    const quint64 held = clientVer->section(u'-', -1).toULongLong(&ok);
    if (!ok || clientVer->section(u'-', 0, -2) != epoch_ || held < oldestExact_ || held > changes_)
        return full;
    std::vector<const Entry *> changed;
    for (const auto *entries : {&items_, &removals_})
        for (const auto &[jid, entry] : *entries)
            if (entry.change > held)
                changed.push_back(&entry);
    // More changes than contacts: the whole roster is the shorter answer.
    if (changed.size() > items_.size())
        return full;
    std::sort(changed.begin(), changed.end(),
              [](const Entry *a, const Entry *b) { return a->change < b->change; });
    Answer answer;
    for (const Entry *entry : changed)
        answer.pushes.push_back(pushFor(*entry));
    return answer;
}

Element RosterCache::pushFor(const Entry &entry) const
{
    Element query(QStringLiteral("query"), xmlns::roster);
    query.setAttribute(QStringLiteral("ver"), epoch_ + u'-' + QString::number(entry.change));
    query.addChild(entry.item);
    return query;
}

Element RosterCache::fullRoster() const
{
    Element query(QStringLiteral("query"), xmlns::roster);
    query.setAttribute(QStringLiteral("ver"), version());
    for (const auto &[jid, entry] : items_)
        query.addChild(entry.item);
    return query;
}

Element RosterCache::toElement() const
{
    Element saved(QStringLiteral("roster"), savedNs);
    saved.setAttribute(QStringLiteral("epoch"), epoch_);
    saved.setAttribute(QStringLiteral("changes"), QString::number(changes_));
    saved.setAttribute(QStringLiteral("oldest-exact"), QString::number(oldestExact_));
    for (const auto *entries : {&items_, &removals_})
        for (const auto &[jid, entry] : *entries) {
            Element &e = saved.addChild(Element(QStringLiteral("entry"), savedNs));
            e.setAttribute(QStringLiteral("change"), QString::number(entry.change));
            e.addChild(entry.item);
        }
    return saved;
}

std::optional<RosterCache> RosterCache::fromElement(const Element &saved)
{
    if (saved.name() != u"roster" || saved.xmlns() != savedNs)
        return std::nullopt;
    bool changesOk = false, oldestOk = false;
    RosterCache cache(saved.attribute(u"epoch"));
    cache.changes_ = saved.attribute(u"changes").toULongLong(&changesOk);
    cache.oldestExact_ = saved.attribute(u"oldest-exact").toULongLong(&oldestOk);
    if (cache.epoch_.isEmpty() || !changesOk || !oldestOk)
        return std::nullopt;
    for (const Element &e : saved.children()) {
        const Element *item = e.firstChild(u"item", xmlns::roster);
        bool ok = false;
        const quint64 change = e.attribute(u"change").toULongLong(&ok);
        if (!item || !isItem(*item) || !ok || change > cache.changes_)
            return std::nullopt;
        auto &entries =
            item->attribute(u"subscription") == u"remove" ? cache.removals_ : cache.items_;
        entries[item->attribute(u"jid")] = Entry{*item, change};
    }
    cache.filled_ = true;
    return cache;
}

} // namespace xbnc
