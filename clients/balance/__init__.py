"""The one client of the balance service (gRPC), and the table money flows built on it."""

from clients.balance.client import BalanceCallError, BalanceClient, idempotency_key
from clients.balance.table_money import BuyInResult, PokerBalance, PokerBalanceSettings

__all__ = [
    "BalanceCallError",
    "BalanceClient",
    "BuyInResult",
    "PokerBalance",
    "PokerBalanceSettings",
    "idempotency_key",
]
