"""The kiosk's HTTP session to the central store: retries with capped exponential backoff, spread at random."""

from __future__ import annotations

import random
from itertools import takewhile

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


class SpreadRetry(Retry):
    """urllib3's Retry, each wait drawn at random between none and the capped exponential backoff ("full jitter"),
    the first one included.

    When the store answers 503 to kiosks that came at one moment (the
    network back after an outage, or a district's kiosks at the top of the
    hour), waits of 0, 1, 2 and 4 s plus a fifth of a second brought them
    back together, and the store stood idle between the herds: with 200
    kiosks, runs of several seconds in which it stored nothing. Spread at
    random, they come back one after another.
    """

    def get_backoff_time(self) -> float:
        errors = len(list(takewhile(lambda h: h.redirect_location is None, reversed(self.history))))
        if errors == 0:
            return 0.0
        return random.uniform(0.0, min(self.backoff_max, self.backoff_factor * 2 ** (errors - 1)))


def make_session(ca_file: str = "", retries: int = 4, backoff: float = 0.5) -> requests.Session:
    """A session that retries connection errors, lost answers and 5xx, each wait drawn at random up to a capped
    exponential backoff (`SpreadRetry`)."""
    retry = SpreadRetry(
        total=retries, connect=retries, read=retries, status=retries, other=retries,
        backoff_factor=backoff, backoff_max=10.0,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,  # POST too: every push is idempotent
        # A Retry-After from a proxy could stall the process for hours: the
        # wait stays capped by backoff_max instead.
        raise_on_status=False, respect_retry_after_header=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.verify = ca_file or True
    return session
