"""What a session shows of the browser that holds it: a short device name, a masked address."""

import ipaddress

# First match wins: Edge, Opera and Samsung Internet also name Chrome and Safari in their
# User-Agent, and Chrome names Safari.
BROWSERS = (
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("UCBrowser/", "UC Browser"),
    ("FxiOS/", "Firefox"),
    ("Firefox/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
# An iPhone says "like Mac OS X" and Android says "Linux": the phones come first.
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def device_summary(user_agent: str | None) -> str:
    """ "Chrome · Android" from a User-Agent header; empty when neither part is recognised."""
    text = user_agent or ""
    browser = next((name for mark, name in BROWSERS if mark in text), None)
    system = next((name for mark, name in SYSTEMS if mark in text), None)
    return " · ".join(part for part in (browser, system) if part)


def mask_address(address: str | None) -> str | None:
    """The network of an address, not the address: IPv4 to its /24, IPv6 to its /48."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
