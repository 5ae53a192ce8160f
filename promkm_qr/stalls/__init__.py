"""Stall registry services: codes, signed QR links, import, posters."""
