#!/usr/bin/python3
"""phone logs in to xbnc with a real client library and fetches its roster: bob is there with
a mutual subscription, exactly as on the server."""

import scenario
from scenario import expect


async def main(args):
    phone, phone_address = scenario.session(args, "phone")
    await phone.login(*phone_address, presence=False)
    result = await scenario.within(phone.client.get_roster(), "phone fetches its roster")
    items = result["roster"]["items"]
    expect(args.bob_jid in items, "bob is missing from the roster: %s" % list(items))
    subscription = items[args.bob_jid]["subscription"]
    expect(subscription == "both", "bob's subscription is %r, not 'both'" % subscription)
    await phone.logout()


if __name__ == "__main__":
    scenario.run(main, __doc__)
