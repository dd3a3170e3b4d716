"""Events: the gateway's sessions and the game's hand results, stored once each, and read back."""
