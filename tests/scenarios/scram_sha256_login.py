#!/usr/bin/python3
"""A client that insists on SCRAM-SHA-256 logs in to xbnc (and verifies xbnc's server
signature, which slixmpp does as part of SCRAM), binds its resource and pings."""

import scenario
from scenario import expect


async def main(args):
    phone, phone_address = scenario.session(args, "phone", sasl_mech="SCRAM-SHA-256")
    await phone.login(*phone_address)
    mechanism = phone.client["feature_mechanisms"].mech.name
    expect(mechanism == "SCRAM-SHA-256", "logged in with %s" % mechanism)
    # Every session is bound to xbnc's upstream full JID, the one the world sees.
    expect(str(phone.client.boundjid) == args.jid + "/xbnc",
           "bound %s" % phone.client.boundjid)
    await phone.ping_server()
    await phone.logout()


if __name__ == "__main__":
    scenario.run(main, __doc__)
