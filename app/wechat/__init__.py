"""WeChat: the client the product uses and the local emulator it talks to in development and tests."""
