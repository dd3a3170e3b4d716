"""Ids an attacker would try: SQL, Redis key patterns, separators, control characters, size."""

from __future__ import annotations

HOSTILE_IDS = [
    "",
    " ",
    "*",
    "a*",
    "?",
    "a?b",
    "[a-z]",
    "a:b",
    "user:*",
    "{a}",
    "a}{b",
    "a\nb",
    "a\r\nFLUSHALL",
    "' OR '1'='1",
    "a'; DROP TABLE products; --",
    "1 UNION SELECT password FROM users",
    "$(reboot)",
    "../a",
    "a/b",
    "%2e%2e",
    "\x00",
    "\x7f",
    "ä",
    "x" * 65,
    "x" * 10_000,
]
