"""The drawing canvas: a Telegram Mini App served by aiohttp inside the bot's event loop.

``initdata`` checks Telegram's signed init data, ``tokens`` signs the
``start_param`` the bot puts in a group's link, ``limits`` paces each user,
``drawings`` is what a drawing does in the bot (guess, post, judge in a game),
``routes`` the HTTP handlers, ``server`` the server's start and stop, and
``static/draw.html`` the page itself (plain HTML and JavaScript, no build step).
"""
