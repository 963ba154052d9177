#!/usr/bin/python3
"""A phone with slixmpp's XEP-0198 plugin has stream management on through xbnc when xbnc is
restarted (SIGTERM, then started again on the same data). Its connection drops as if the
network went; bob writes to alice while xbnc is down. The phone connects to the new xbnc and
resumes the same session, without binding again: it gets what it missed exactly once, in
order."""

import asyncio

import scenario
from scenario import ScenarioFailure, expect, within


def chat(bob, to, number):
    message = bob.client.make_message(mto=to, mbody="message %d" % number, mtype="chat")
    message["id"] = "restart-%d" % number
    message.send()


async def main(args):
    loop = asyncio.get_event_loop()
    phone, phone_address = scenario.session(args, "phone")
    phone.client.register_plugin("xep_0198")
    enabled = loop.create_future()
    resumed = loop.create_future()
    dropped = loop.create_future()
    phone.client.add_event_handler(
        "sm_enabled", lambda s: enabled.done() or enabled.set_result(s))
    phone.client.add_event_handler(
        "session_resumed", lambda s: resumed.done() or resumed.set_result(s))
    phone.client.add_event_handler(
        "disconnected", lambda e: dropped.done() or dropped.set_result(e))
    bob, bob_address = scenario.bob(args)
    await phone.login(*phone_address)
    await within(enabled, "phone enables stream management")
    await bob.login(*bob_address)

    for number in range(1, 4):
        chat(bob, args.jid, number)
    for number in range(1, 4):
        await phone.expect_message(lambda m, n=number: m["id"] == "restart-%d" % n,
                                   "message %d" % number)

    bound_before = str(phone.client.boundjid)
    restarted = asyncio.ensure_future(scenario.restart_xbnc())
    await within(dropped, "phone loses its connection when xbnc stops")
    # While xbnc is down, the server keeps these for the account.
    for number in range(4, 7):
        chat(bob, args.jid, number)
    await bob.ping_server()
    port = await restarted

    phone.client.connect(address=(phone_address[0], port))
    await within(resumed, "phone resumes its session on the restarted xbnc")
    expect(str(phone.client.boundjid) == bound_before,
           "the resumed session is bound to %s, not %s" % (phone.client.boundjid, bound_before))
    for number in range(4, 7):
        message = await phone.expect_message(lambda m: m["id"].startswith("restart-"),
                                             "message %d" % number)
        expect(message["id"] == "restart-%d" % number,
               "after resuming, got %s where message %d was due" % (message["id"], number))
    await phone.ping_server()
    while not phone.messages.empty():
        extra = phone.messages.get_nowait()
        if extra["id"].startswith("restart-"):
            raise ScenarioFailure("phone received %s twice" % extra["id"])

    for actor in (phone, bob):
        await actor.logout()


if __name__ == "__main__":
    scenario.run(main, __doc__)
