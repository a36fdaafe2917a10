# The serial console core: a line -> command parser (commands.py), plain-ASCII rendering
# (render.py), passphrase login with a time-limited lock-out (login.py), the per-connection
# session that mixes human line mode and framed machine mode (session.py), and the node side
# of the companion-board link (companion.py). Sans-I/O: bytes and `now` in, bytes out.
