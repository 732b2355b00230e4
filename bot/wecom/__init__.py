"""WeCom (企业微信) self-built app: the callback, the API client and the outbox sender."""
