"""The console adapter: chat with the bot in a terminal or through a pipe."""
