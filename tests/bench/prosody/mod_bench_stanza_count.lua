-- Loaded only by the benchmarks' Prosody (bench_flow, issue #11 B5): counts the top-level
-- elements every client session exchanges with the server, per bound full JID, direction and
-- kind, so that a benchmark can tell how many stanzas a connection carried without xbnc counting
-- itself and without decrypting TLS. A presence is counted by its type (or <show/>) and by the
-- host it is addressed to (in) or comes from (out), so that room and roster presence are apart.
-- The counts are read with <iq type='get' to='HOST'><query xmlns='urn:xbnc:bench:stanza-count'/>
-- and never reset: a benchmark takes the difference of two readings.
local filters = require "util.filters";
local jid_host = require "util.jid".host;
local st = require "util.stanza";

local xmlns_count = "urn:xbnc:bench:stanza-count";

-- full JID -> key -> count; kept after a session ends so that what it sent still counts.
local counts = {};

local function key_for(direction, stanza)
	local key = direction .. " " .. stanza.name;
	if stanza.name == "presence" then
		local peer = direction == "in" and stanza.attr.to or stanza.attr.from;
		local availability = stanza.attr.type or stanza:get_child_text("show") or "available";
		key = key .. " " .. availability .. " " .. (peer and jid_host(peer) or "-");
	end
	return key;
end

local function count(session, direction, stanza)
	-- Before bind a session has no JID; what it exchanges then is login, not traffic.
	local who = session.full_jid;
	if who and stanza and stanza.name then
		local of_session = counts[who];
		if not of_session then
			of_session = {};
			counts[who] = of_session;
		end
		local key = key_for(direction, stanza);
		of_session[key] = (of_session[key] or 0) + 1;
	end
	return stanza;
end

local function add_counters(session)
	if session.type ~= "c2s_unauthed" and session.type ~= "c2s" then
		return;
	end
	filters.add_filter(session, "stanzas/in", function (stanza) return count(session, "in", stanza); end, 1000);
	filters.add_filter(session, "stanzas/out", function (stanza) return count(session, "out", stanza); end, -1000);
end

filters.add_filter_hook(add_counters);

function module.unload()
	filters.remove_filter_hook(add_counters);
end

module:hook("iq-get/host/" .. xmlns_count .. ":query", function (event)
	local reply = st.reply(event.stanza):tag("query", { xmlns = xmlns_count });
	for who, of_session in pairs(counts) do
		for key, n in pairs(of_session) do
			reply:tag("count", { jid = who, key = key, n = tostring(n) }):up();
		end
	end
	event.origin.send(reply);
	return true;
end);
