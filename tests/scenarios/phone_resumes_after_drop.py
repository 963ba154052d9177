#!/usr/bin/python3
"""A phone with slixmpp's XEP-0198 plugin enables stream management through xbnc, loses its TCP
connection in the middle of bob's messages, connects again and resumes: it gets every message
exactly once, in order, those sent while it was away included, without binding again."""

import scenario
from scenario import expect, within


async def main(args):
    phone, phone_address = scenario.session(args, "phone")
    sm = scenario.StreamManagement(phone)
    laptop, laptop_address = scenario.session(args, "laptop")
    bob, bob_address = scenario.bob(args)
    await phone.login(*phone_address)
    await within(sm.enabled, "phone enables stream management")
    expect(phone.client["xep_0198"].sm_id, "xbnc gave no resumption id")
    await laptop.login(*laptop_address)
    await bob.login(*bob_address)

    for number in range(1, 4):
        scenario.send_numbered_chat(bob, args.jid, "resume", number)
    for number in range(1, 4):
        await phone.expect_message(lambda m, n=number: m["id"] == "resume-%d" % n,
                                   "message %d" % number)
    # The network goes; xbnc is not told.
    phone.client.abort()
    await within(sm.dropped, "phone loses its connection")

    for number in range(4, 7):
        scenario.send_numbered_chat(bob, args.jid, "resume", number)
    # The laptop's copy shows xbnc has handled the last one (and kept it for the phone).
    await laptop.expect_message(lambda m: m["id"] == "resume-6", "the last message")

    bound_before = str(phone.client.boundjid)
    phone.client.connect(address=phone_address)
    await within(sm.resumed, "phone resumes its session")
    expect(str(phone.client.boundjid) == bound_before,
           "the resumed session is bound to %s, not %s" % (phone.client.boundjid, bound_before))
    await scenario.expect_exactly(phone, "resume", range(4, 7))

    for actor in (phone, laptop, bob):
        await actor.logout()


if __name__ == "__main__":
    scenario.run(main, __doc__)
