"""A merchant registers a stall; it stays pending until dinas approve it."""
