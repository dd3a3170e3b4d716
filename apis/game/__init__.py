"""The game service's front: poker tables over HTTP (port 3001), as DESIGN 7 describes."""
