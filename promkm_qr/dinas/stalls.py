"""Stall registry, imports and poster printing."""
