#!/usr/bin/python3
"""The demo's contact: bob, who accepts subscriptions, answers every message, and sits in
demo@conference.localhost so there is a room to join."""
import asyncio
import sys

import slixmpp

ROOM = "demo@conference.localhost"


class EchoBot(slixmpp.ClientXMPP):
    def __init__(self, password):
        super().__init__("bob@localhost/echo", password)
        self.register_plugin("xep_0045")
        self.auto_authorize = True
        self.auto_subscribe = True
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.on_message)

    async def start(self, _event):
        self.send_presence(pstatus="echo bot: say something")
        await self.get_roster()
        self.send_presence_subscription(pto="alice@localhost")
        muc = self.plugin["xep_0045"]
        await muc.join_muc_wait(ROOM, "bob", maxstanzas=0)
        try:
            # A new room stays locked until its owner submits the configuration form.
            form = await muc.get_room_config(ROOM)
            form["values"]["muc#roomconfig_persistentroom"] = True
            await muc.set_room_config(ROOM, form)
        except Exception as error:  # the room existed already: nothing to configure
            print("room configuration skipped:", error, file=sys.stderr)

    def on_message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            msg.reply("echo: " + msg["body"]).send()


def main():
    host, port, password, certificate = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    bot = EchoBot(password)
    bot.ssl_context.load_verify_locations(certificate)
    bot.connect((host, port))
    asyncio.get_event_loop().run_forever()


if __name__ == "__main__":
    main()
