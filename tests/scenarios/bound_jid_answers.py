#!/usr/bin/python3
"""A session is bound to the JID the world sees (§2.0): phone logs in to xbnc with disco and
software version of its own; bob, straight on Prosody, asks disco#info and jabber:iq:version of
exactly the JID phone was bound to, and gets phone's own answers from that JID -- not
service-unavailable from the server, not xbnc answering in phone's place."""

import scenario
from scenario import ScenarioFailure, expect
from slixmpp.exceptions import IqError, IqTimeout

SOFTWARE_NAME = "phone-scenario-client"
SOFTWARE_VERSION = "2.0.7"
FEATURE = "urn:xbnc:scenario:bound-jid-answers"


async def ask(actor, request, what):
    """The result of an IQ request; a failure names the error condition that came back."""
    try:
        return await scenario.within(request, "%s: %s" % (actor.name, what))
    except IqError as error:
        raise ScenarioFailure("%s: %s was answered with an error: %s" % (
            actor.name, what, error.iq["error"]["condition"])) from None
    except IqTimeout:
        raise ScenarioFailure("%s: %s was never answered" % (actor.name, what)) from None


async def main(args):
    phone, phone_address = scenario.session(args, "phone")
    phone.client.register_plugin("xep_0030")
    phone.client.register_plugin("xep_0092", pconfig={"software_name": SOFTWARE_NAME,
                                                      "version": SOFTWARE_VERSION})
    bob, bob_address = scenario.bob(args)
    bob.client.register_plugin("xep_0030")
    bob.client.register_plugin("xep_0092")
    await phone.login(*phone_address)
    await bob.login(*bob_address)

    bound = phone.client.boundjid
    expect(bound.bare == args.jid, "phone was bound to %s, not the account" % bound)
    # Something only phone can know, registered for the JID it was bound to.
    phone.client["xep_0030"].add_feature(FEATURE, jid=bound)
    # What phone answers for itself (slixmpp returns the bare disco#info payload here).
    own = await phone.client["xep_0030"].get_info(jid=bound, local=True)
    own_features = set(own["features"])
    expect(FEATURE in own_features and "jabber:iq:version" in own_features,
           "phone's own disco#info lacks its features: %s" % sorted(own_features))
    # phone's presence has reached xbnc once a round trip through it is done.
    await phone.ping_server()

    info = await ask(bob, bob.client["xep_0030"].get_info(jid=bound.full,
                                                          timeout=scenario.STEP_TIMEOUT),
                     "disco#info of %s" % bound)
    expect(info["type"] == "result", "disco#info came back as %s" % info["type"])
    expect(info["from"] == bound, "disco#info answered by %s, not %s" % (info["from"], bound))
    features = set(info["disco_info"]["features"])
    expect(features == own_features, "bob saw features %s, phone has %s" % (
        sorted(features), sorted(own_features)))
    identities = {(category, kind) for category, kind, _lang, _name in
                  info["disco_info"]["identities"]}
    own_identities = {(category, kind) for category, kind, _lang, _name in
                      own["identities"]}
    expect(identities == own_identities, "bob saw identities %s, phone has %s" % (
        sorted(identities), sorted(own_identities)))

    version = await ask(bob, bob.client["xep_0092"].get_version(bound.full,
                                                                timeout=scenario.STEP_TIMEOUT),
                        "jabber:iq:version of %s" % bound)
    expect(version["type"] == "result", "version came back as %s" % version["type"])
    expect(version["from"] == bound, "version answered by %s, not %s" % (version["from"], bound))
    expect(version["software_version"]["name"] == SOFTWARE_NAME,
           "bob saw software %r, not phone's" % version["software_version"]["name"])
    expect(version["software_version"]["version"] == SOFTWARE_VERSION,
           "bob saw version %r, not phone's" % version["software_version"]["version"])

    for actor in (phone, bob):
        await actor.logout()


if __name__ == "__main__":
    scenario.run(main, __doc__)
