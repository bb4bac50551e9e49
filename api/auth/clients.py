"""The client's address for the login throttle, and which proxies may name it.

Only a peer in `STEMBUS_TRUSTED_PROXIES` may set the client address through
`X-Forwarded-For`: the header is read right to left (each proxy appends the address it saw),
trusted proxies are skipped, and the first other address is the client. Any other peer's header
is ignored (anyone can send one), and so is a header with a malformed entry: the peer itself is
then the client, so a client cannot escape its budget by writing the header.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from fastapi import Request

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=64)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _address(text: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(addr: IpAddress, networks: tuple[IpNetwork, ...]) -> bool:
    return any(addr.version == n.version and addr in n for n in networks)


def client_address(request: Request, proxies: tuple[str, ...]) -> str:
    peer = request.client.host if request.client else "unknown"
    networks = trusted_networks(proxies)
    peer_addr = _address(peer)
    if not networks or peer_addr is None or not _trusted(peer_addr, networks):
        return peer
    header = ",".join(request.headers.getlist("x-forwarded-for"))
    if not header.strip():
        return peer
    hops = [_address(h) for h in header.split(",")]
    if any(h is None for h in hops):
        return peer  # malformed: ignore the whole header
    for hop in reversed(hops):
        assert hop is not None
        if not _trusted(hop, networks):
            return str(hop)
    return peer  # every hop is a trusted proxy: the innermost one is as near as we get
