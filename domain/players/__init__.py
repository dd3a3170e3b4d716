"""Players: profiles (display names) and the stats derived from hand results."""
