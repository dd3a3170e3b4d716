"""The player web app driven in a real Chromium: for its browser tests and its screenshots."""
