"""The balance service's gRPC front: `balance.v1.BalanceService` with health and reflection."""
