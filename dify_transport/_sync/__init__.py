"""The sync clients, generated from ``dify_transport/_async/`` by ``scripts/unasync.py``."""
