"""The one client of the balance service (gRPC), and the table money flows built on it."""

from clients.balance.client import BalanceCallError, BalanceClient
from clients.balance.table_money import Move, TableMoney

__all__ = ["BalanceCallError", "BalanceClient", "Move", "TableMoney"]
