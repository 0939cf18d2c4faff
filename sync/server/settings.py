"""How one central store is served: what the options of `kiosk-central serve` set."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """The central store's settings; the defaults suit a store on a school network.

    `trusted_proxies` are the addresses or networks (`127.0.0.1`,
    `10.0.0.0/8`) of web servers in front of the store whose
    X-Forwarded-Proto and X-Forwarded-For are believed; nobody else's are.
    `max_upload_mb` bounds a CSV upload on the import page.
    """

    trusted_proxies: tuple[str, ...] = ()
    max_upload_mb: float = 10

    def __post_init__(self):
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"trusted proxy {proxy!r} is not an address or a network like 10.0.0.0/8") from None
        if not 0 < self.max_upload_mb <= 1024:
            raise ValueError(f"the largest upload must be from 1 byte to 1024 MB, not {self.max_upload_mb} MB")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * MB)

    def trusts(self, address: str) -> bool:
        """Whether the peer at `address` is a proxy named as trusted."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies)
