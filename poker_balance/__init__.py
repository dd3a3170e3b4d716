"""The poker service's client of the balance service: buy-in, cash-out and hand settlement."""

from poker_balance.client import BalanceCallError, BalanceClient, idempotency_key
from poker_balance.flows import BuyInResult, PokerBalance, PokerBalanceSettings

__all__ = [
    "BalanceCallError",
    "BalanceClient",
    "BuyInResult",
    "PokerBalance",
    "PokerBalanceSettings",
    "idempotency_key",
]
