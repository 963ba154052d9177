#include "server_stanza_counts.h"

#include "prosody_fixture.h"
#include "test_client.h"
#include "xml_node.h"

namespace {

constexpr QStringView countNamespace = u"urn:xbnc:bench:stanza-count";
constexpr int answerTimeoutMs = 10000;

} // namespace

void ServerStanzaCounts::enableOn(ProsodyFixture &prosody)
{
    prosody.addPluginPath(QStringLiteral(XBNC_BENCH_PROSODY_MODULES));
    prosody.enableModules({QStringLiteral("bench_stanza_count")});
}

std::optional<ServerStanzaCounts> ServerStanzaCounts::read(TestClient &asker, QString *error)
{
    static int nextId = 0;
    const QString id = QStringLiteral("stanza-count-%1").arg(++nextId);
    asker.send("<iq type='get' id='" + id.toUtf8() + "' to='localhost'><query xmlns='" +
               countNamespace.toUtf8() + "'/></iq>");
    const std::optional<XmlNode> reply = asker.readUntil(
        [&id](const XmlNode &n) { return n.name == u"iq" && n.attribute(u"id") == id; },
        QDeadlineTimer(answerTimeoutMs));
    const XmlNode *query = reply ? reply->child(u"query", countNamespace) : nullptr;
    if (!query) {
        *error = reply ? QStringLiteral("the server did not count stanzas (is "
                                        "mod_bench_stanza_count loaded?): ") +
                             QString::fromUtf8(reply->toXml())
                       : asker.errorString();
        return std::nullopt;
    }
    ServerStanzaCounts counts;
    for (const XmlNode &c : query->children) {
        // The asker's own IQs are left out: reading the counts must not change them.
        if (c.name == u"count" && c.attribute(u"jid") != asker.fullJid())
            counts.counts_[c.attribute(u"jid")][c.attribute(u"key")] =
                c.attribute(u"n").toLongLong();
    }
    return counts;
}

std::map<QString, qint64> ServerStanzaCounts::byKey(QStringView jidPrefix,
                                                    QStringView keyPrefix) const
{
    std::map<QString, qint64> result;
    for (const auto &[jid, ofSession] : counts_) {
        if (!jid.startsWith(jidPrefix))
            continue;
        for (const auto &[key, n] : ofSession) {
            if (key.startsWith(keyPrefix))
                result[key] += n;
        }
    }
    return result;
}

qint64 ServerStanzaCounts::sum(QStringView jidPrefix, QStringView keyPrefix) const
{
    qint64 total = 0;
    for (const auto &[key, n] : byKey(jidPrefix, keyPrefix))
        total += n;
    return total;
}

std::map<QString, qint64> countsAdded(const ServerStanzaCounts &before,
                                      const ServerStanzaCounts &after, QStringView jidPrefix,
                                      QStringView keyPrefix)
{
    std::map<QString, qint64> added = after.byKey(jidPrefix, keyPrefix);
    for (const auto &[key, n] : before.byKey(jidPrefix, keyPrefix))
        added[key] -= n;
    std::erase_if(added, [](const auto &entry) { return entry.second == 0; });
    return added;
}
