"""A backend proxy: a web page chats with a Dify app; the key stays on the server.

Run it with ``python -m examples.proxy`` (needs ``pip install -e '.[examples]'``);
see ``examples/proxy/README.md``.
"""
