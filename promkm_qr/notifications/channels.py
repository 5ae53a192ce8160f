"""What a channel adapter answers besides a message id: try again later, or never."""


class Retry(Exception):
    """The channel is down or answered oddly: try again after a pause."""


class Refused(Exception):
    """The channel will never deliver to this recipient (a refused number)."""
