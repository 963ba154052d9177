#pragma once

#include "element.h"

#include <QtGlobal>

#include <deque>
#include <vector>

namespace xbnc {

// XEP-0198 bookkeeping of one stream-management session, both ways, kept by xbnc itself rather
// than by gloox (see UpstreamClient: gloox's counters restart at 0 on every reconnect while the
// server's go on, and it ignores the h of <failed/>). Counters are 32-bit and wrap, as the XEP
// says (§4: h wraps at 2^32).
//
// Outbound: every stanza sent after <enable/> is numbered and kept until the server's h covers
// it; what is left after a loss is what the server may not have — resent after <resumed h=…/>,
// or handed to the hub after <failed/>. Inbound: the number of stanzas received since <enabled/>,
// which is what xbnc answers <r/> and asks to resume with.
class StreamAcks
{
public:
    // A new session (sending <enable/>): nothing sent, nothing received, nothing kept. Tests
    // start the counters elsewhere to cross the wrap.
    void restart(quint32 sentBefore = 0, quint32 handledBefore = 0);

    void sent(const Element &stanza);
    // The server says it handled `h` stanzas in all. False when h is below what it acknowledged
    // before or above what was sent: the server is confused and nothing is dropped.
    bool acknowledged(quint32 h);
    // The stanzas the server has not acknowledged, oldest first, still kept.
    const std::deque<Element> &unacknowledged() const { return unacked_; }
    // The same, handed over and forgotten (after a failed resumption).
    std::vector<Element> takeUnacknowledged();

    void received() { ++handled_; }
    quint32 handled() const { return handled_; }
    quint32 sentCount() const { return sent_; }

private:
    quint32 sent_ = 0;
    quint32 acked_ = 0;
    quint32 handled_ = 0;
    std::deque<Element> unacked_; // numbers acked_+1 … sent_
};

} // namespace xbnc
