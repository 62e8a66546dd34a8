"""Development identities: the emulator answers login code dev-<name> with this openid."""
import hashlib


def dev_openid(appid, name):
    """Stable per (appid, name), shaped like a real openid (28 characters starting with 'o')."""
    digest = hashlib.sha256(f"{appid}:{name}".encode()).hexdigest()
    return "o" + digest[:27]
