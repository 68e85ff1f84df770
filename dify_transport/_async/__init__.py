"""The async clients, written by hand.

``dify_transport/_sync/`` is generated from these modules by ``scripts/unasync.py``
(``--check`` runs in ``make test``): edit here, then regenerate.
"""
