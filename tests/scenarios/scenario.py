"""Shared plumbing for xbnc's real-client scenarios (slixmpp).

Each scenario is a small script with named actors: phone and laptop log in to xbnc as the
account, bob logs in straight to Prosody. A scenario exits 0 when everything a user would
notice happened, and non-zero with a message otherwise. Every wait has a deadline.
"""

import argparse
import asyncio
import hashlib
import logging
import ssl
import sys

import slixmpp

STEP_TIMEOUT = 5.0  # seconds for any single expectation
SCENARIO_TIMEOUT = 30.0  # the whole script, as a last resort


class ScenarioFailure(Exception):
    pass


def parse_arguments(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="xbnc's client port")
    parser.add_argument("--fingerprint", required=True,
                        help="SHA-256 fingerprint of xbnc's certificate (its leaf)")
    parser.add_argument("--jid", required=True, help="the account, e.g. alice@localhost")
    parser.add_argument("--password", required=True)
    parser.add_argument("--bob-jid", required=True)
    parser.add_argument("--bob-password", required=True)
    parser.add_argument("--prosody-port", type=int, required=True)
    parser.add_argument("--prosody-ca", required=True, help="CA certificate of Prosody")
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args()


class Actor:
    """One XMPP client with a name, its received messages queued in arrival order."""

    def __init__(self, name, jid, password, sasl_mech=None):
        self.name = name
        self.client = slixmpp.ClientXMPP(jid, password, sasl_mech=sasl_mech)
        self.client.register_plugin("xep_0199")  # ping
        self.messages = asyncio.Queue()
        self.session_started = asyncio.get_event_loop().create_future()
        self.failure = None
        self.client.add_event_handler("session_start", self._on_session_start)
        self.client.add_event_handler("failed_all_auth", self._on_failed_auth)
        self.client.add_event_handler("message", self.messages.put_nowait)
        self.client.add_event_handler("disconnected", self._on_disconnected)

    def trust_ca(self, ca_file):
        """Full verification: chain to ca_file and the name of the JID's domain."""
        self.client.ca_certs = ca_file

    def pin_fingerprint(self, fingerprint):
        """Accept exactly the certificate with that SHA-256 fingerprint, whoever signed it."""
        expected = fingerprint.replace(":", "").lower()
        self.client.ssl_context.check_hostname = False
        self.client.ssl_context.verify_mode = ssl.CERT_NONE

        def check(pem):
            actual = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
            if actual != expected:
                self._fail("certificate fingerprint %s is not the pinned %s" % (actual, expected))
                self.client.abort()

        self.client.add_event_handler("ssl_cert", check)

    def _fail(self, message):
        self.failure = message
        if not self.session_started.done():
            self.session_started.set_exception(ScenarioFailure("%s: %s" % (self.name, message)))

    async def _on_session_start(self, _event):
        if not self.session_started.done():
            self.session_started.set_result(True)

    def _on_failed_auth(self, _event):
        self._fail("authentication failed")

    def _on_disconnected(self, _event):
        if not self.session_started.done():
            self._fail("disconnected before the session started")

    async def login(self, host, port, presence=True):
        self.client.connect(address=(host, port))
        await within(self.session_started, "%s logs in" % self.name)
        if self.failure:
            raise ScenarioFailure("%s: %s" % (self.name, self.failure))
        if presence:
            self.client.send_presence()

    async def expect_message(self, predicate, what):
        """The first queued message matching predicate; others stay queued in order."""
        skipped = []
        try:
            while True:
                message = await within(self.messages.get(), "%s receives %s" % (self.name, what))
                if predicate(message):
                    return message
                skipped.append(message)
        finally:
            for message in skipped:
                self.messages.put_nowait(message)

    async def ping_server(self):
        """A round trip: whatever was sent to this actor before the pong has arrived."""
        await within(self.client["xep_0199"].ping(jid=self.client.boundjid.domain,
                                                 timeout=STEP_TIMEOUT),
                     "%s pings its server" % self.name)

    async def logout(self):
        await within(self.client.disconnect(), "%s logs out" % self.name)


def send_numbered_chat(actor, to, prefix, number):
    """A chat message with id prefix-number, the kind expect_exactly() counts."""
    message = actor.client.make_message(mto=to, mbody="message %d" % number, mtype="chat")
    message["id"] = "%s-%d" % (prefix, number)
    message.send()


async def expect_exactly(actor, prefix, numbers):
    """Messages with ids prefix-N for each N, in that order, then nothing more with that prefix
    up to a ping round trip: nothing lost, nothing doubled."""
    for number in numbers:
        message = await actor.expect_message(lambda m: m["id"].startswith(prefix + "-"),
                                             "message %d" % number)
        expect(message["id"] == "%s-%d" % (prefix, number),
               "got %s where message %d was due" % (message["id"], number))
    await actor.ping_server()
    while not actor.messages.empty():
        extra = actor.messages.get_nowait()
        if extra["id"].startswith(prefix + "-"):
            raise ScenarioFailure("%s received %s twice" % (actor.name, extra["id"]))


class StreamManagement:
    """slixmpp's XEP-0198 plugin on an actor, with its events as futures a scenario awaits."""

    def __init__(self, actor):
        loop = asyncio.get_event_loop()
        actor.client.register_plugin("xep_0198")
        self.enabled = loop.create_future()
        self.resumed = loop.create_future()
        self.dropped = loop.create_future()
        for event, future in (("sm_enabled", self.enabled), ("session_resumed", self.resumed),
                              ("disconnected", self.dropped)):
            actor.client.add_event_handler(
                event, lambda e, f=future: f.done() or f.set_result(e))


RESTART_REQUEST = "xbnc-scenario: restart xbnc"


async def restart_xbnc(step_timeout=STEP_TIMEOUT * 3):
    """Asks the test harness to stop xbnc (SIGTERM) and start it again on the same data; returns
    the port it listens on now (the fingerprint stays: the certificate is in data_dir)."""
    print(RESTART_REQUEST, flush=True)
    loop = asyncio.get_event_loop()
    try:
        line = await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline),
                                      step_timeout)
    except asyncio.TimeoutError:
        raise ScenarioFailure("timed out: the harness restarts xbnc") from None
    if not line.strip().isdigit():
        raise ScenarioFailure("the harness could not restart xbnc: %r" % line)
    return int(line)


async def within(awaitable, step):
    try:
        return await asyncio.wait_for(awaitable, STEP_TIMEOUT)
    except asyncio.TimeoutError:
        raise ScenarioFailure("timed out: %s" % step) from None


def expect(condition, message):
    if not condition:
        raise ScenarioFailure(message)


def session(args, resource, sasl_mech=None):
    """An actor logging in to xbnc as the account with that resource."""
    actor = Actor(resource, "%s/%s" % (args.jid, resource), args.password, sasl_mech)
    actor.pin_fingerprint(args.fingerprint)
    return actor, (args.host, args.port)


def bob(args):
    """The contact, logged in straight to Prosody."""
    actor = Actor("bob", "%s/desk" % args.bob_jid, args.bob_password)
    actor.trust_ca(args.prosody_ca)
    return actor, ("127.0.0.1", args.prosody_port)


def run(scenario, description):
    """Runs scenario(args) with a global deadline; exits 0 on success, 1 with a message."""
    args = parse_arguments(description)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.ERROR,
                        format="%(levelname)s %(name)s: %(message)s")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    failure = None
    try:
        loop.run_until_complete(asyncio.wait_for(scenario(args), SCENARIO_TIMEOUT))
    except ScenarioFailure as error:
        failure = str(error)
    except asyncio.TimeoutError:
        failure = "the scenario did not finish within %s s" % SCENARIO_TIMEOUT
    finally:
        # Let slixmpp's background tasks end quietly instead of warning at exit.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    if failure:
        print("FAIL: %s" % failure, file=sys.stderr)
        sys.exit(1)
    print("PASS")
    sys.exit(0)
