"""The supervisors' dashboard: server-rendered pages on the same use cases as the chat, signed in from the chat."""
