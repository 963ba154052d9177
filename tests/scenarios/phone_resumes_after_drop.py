#!/usr/bin/python3
"""A phone with slixmpp's XEP-0198 plugin enables stream management through xbnc, loses its TCP
connection in the middle of bob's messages, connects again and resumes: it gets every message
exactly once, in order, those sent while it was away included, without binding again."""

import asyncio

import scenario
from scenario import ScenarioFailure, expect, within


def chat(bob, to, number):
    message = bob.client.make_message(mto=to, mbody="message %d" % number, mtype="chat")
    message["id"] = "resume-%d" % number
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
    laptop, laptop_address = scenario.session(args, "laptop")
    bob, bob_address = scenario.bob(args)
    await phone.login(*phone_address)
    await within(enabled, "phone enables stream management")
    expect(phone.client["xep_0198"].sm_id, "xbnc gave no resumption id")
    await laptop.login(*laptop_address)
    await bob.login(*bob_address)

    for number in range(1, 4):
        chat(bob, args.jid, number)
    for number in range(1, 4):
        await phone.expect_message(lambda m, n=number: m["id"] == "resume-%d" % n,
                                   "message %d" % number)
    # The network goes; xbnc is not told.
    phone.client.abort()
    await within(dropped, "phone loses its connection")

    for number in range(4, 7):
        chat(bob, args.jid, number)
    # The laptop's copy shows xbnc has handled the last one (and kept it for the phone).
    await laptop.expect_message(lambda m: m["id"] == "resume-6", "the last message")

    bound_before = str(phone.client.boundjid)
    phone.client.connect(address=phone_address)
    await within(resumed, "phone resumes its session")
    expect(str(phone.client.boundjid) == bound_before,
           "the resumed session is bound to %s, not %s" % (phone.client.boundjid, bound_before))
    for number in range(4, 7):
        message = await phone.expect_message(lambda m: m["id"].startswith("resume-"),
                                             "message %d" % number)
        expect(message["id"] == "resume-%d" % number,
               "after resuming, got %s where message %d was due" % (message["id"], number))
    await phone.ping_server()
    while not phone.messages.empty():
        extra = phone.messages.get_nowait()
        if extra["id"].startswith("resume-"):
            raise ScenarioFailure("phone received %s twice" % extra["id"])

    for actor in (phone, laptop, bob):
        await actor.logout()


if __name__ == "__main__":
    scenario.run(main, __doc__)
