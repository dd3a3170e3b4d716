"""The balance service's HTTP front (FastAPI, port 3002)."""
