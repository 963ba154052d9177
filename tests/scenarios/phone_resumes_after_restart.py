#!/usr/bin/python3
"""A phone with slixmpp's XEP-0198 plugin has stream management on through xbnc when xbnc is
restarted (SIGTERM, then started again on the same data). Its connection drops as if the
network went; bob writes to alice while xbnc is down. The phone connects to the new xbnc and
resumes the same session, without binding again: it gets what it missed exactly once, in
order."""

import asyncio

import scenario
from scenario import expect, within


async def main(args):
    phone, phone_address = scenario.session(args, "phone")
    sm = scenario.StreamManagement(phone)
    bob, bob_address = scenario.bob(args)
    await phone.login(*phone_address)
    await within(sm.enabled, "phone enables stream management")
    await bob.login(*bob_address)

    for number in range(1, 4):
        scenario.send_numbered_chat(bob, args.jid, "restart", number)
    for number in range(1, 4):
        await phone.expect_message(lambda m, n=number: m["id"] == "restart-%d" % n,
                                   "message %d" % number)

    bound_before = str(phone.client.boundjid)
    restarted = asyncio.ensure_future(scenario.restart_xbnc())
    await within(sm.dropped, "phone loses its connection when xbnc stops")
    # While xbnc is down, the server keeps these for the account.
    for number in range(4, 7):
        scenario.send_numbered_chat(bob, args.jid, "restart", number)
    await bob.ping_server()
    port = await restarted

    phone.client.connect(address=(phone_address[0], port))
    await within(sm.resumed, "phone resumes its session on the restarted xbnc")
    expect(str(phone.client.boundjid) == bound_before,
           "the resumed session is bound to %s, not %s" % (phone.client.boundjid, bound_before))
    await scenario.expect_exactly(phone, "restart", range(4, 7))

    for actor in (phone, bob):
        await actor.logout()


if __name__ == "__main__":
    scenario.run(main, __doc__)
