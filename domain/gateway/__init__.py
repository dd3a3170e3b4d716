"""Real-time delivery to players: channels, subscriptions, pub/sub fan-out, chat, presence."""
