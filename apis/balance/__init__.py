"""Fronts of the balance context: gRPC (rpc/), HTTP (rest/) and the process serving both."""
