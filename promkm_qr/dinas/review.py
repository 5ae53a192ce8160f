"""The review queue of flagged and disputed reports."""
