"""Proof under faults: a real `saga up` under steady load while its parts are SIGKILLed.

`saga prove` (and the short version in tests/proof/) starts a platform, submits orders and
hammers balances, kills and lets the supervisor restart every part, then checks from the
databases that nothing was lost, duplicated or left half-done, and prints what it measured.
"""
