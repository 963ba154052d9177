#!/usr/bin/python3
"""phone and laptop are both logged in to xbnc; bob writes to the account's bare JID; each
session receives the message exactly once, still addressed to the bare JID as a server
delivers it. Then phone answers and bob sees it from the account's single upstream resource."""

import scenario
from scenario import ScenarioFailure, expect


async def main(args):
    phone, phone_address = scenario.session(args, "phone")
    laptop, laptop_address = scenario.session(args, "laptop")
    bob, bob_address = scenario.bob(args)
    await phone.login(*phone_address)
    await laptop.login(*laptop_address)
    await bob.login(*bob_address)

    hello = bob.client.make_message(mto=args.jid, mbody="hello from bob", mtype="chat")
    hello["id"] = "scenario-fanout-1"
    hello.send()

    for actor in (phone, laptop):
        message = await actor.expect_message(lambda m: m["id"] == "scenario-fanout-1",
                                             "bob's message")
        expect(message["to"] == actor.client.boundjid.bare,
               "%s got the message addressed to %s" % (actor.name, message["to"]))
        expect(message["from"].bare == args.bob_jid,
               "%s got the message from %s" % (actor.name, message["from"]))
        expect(message["body"] == "hello from bob",
               "%s got body %r" % (actor.name, message["body"]))
        # Exactly once: after a round trip nothing else with that id is waiting.
        await actor.ping_server()
        while not actor.messages.empty():
            extra = actor.messages.get_nowait()
            if extra["id"] == "scenario-fanout-1":
                raise ScenarioFailure("%s received bob's message twice" % actor.name)

    reply = phone.client.make_message(mto=args.bob_jid, mbody="hi bob", mtype="chat")
    reply["id"] = "scenario-fanout-2"
    reply.send()
    answer = await bob.expect_message(lambda m: m["id"] == "scenario-fanout-2", "phone's reply")
    expect(answer["from"] == args.jid + "/xbnc",
           "bob got phone's reply from %s, not the upstream resource" % answer["from"])
    expect(answer["body"] == "hi bob", "bob got body %r" % answer["body"])

    for actor in (phone, laptop, bob):
        await actor.logout()


if __name__ == "__main__":
    scenario.run(main, __doc__)
