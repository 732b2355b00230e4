"""DingTalk (钉钉) enterprise robot: stream and HTTP mode, replies and proactive messages."""
