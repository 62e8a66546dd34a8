"""The error the domain raises on purpose; app.api.errors turns it into the one JSON error shape."""
from apiflask import HTTPError


class ApiError(HTTPError):
    """A status, a machine code and a Chinese message for the person reading it."""

    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(status, message, detail=details, headers=headers, extra_data={"code": code})
