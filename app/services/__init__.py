"""The domain: services build and flush; the caller (a request or a command) commits."""
