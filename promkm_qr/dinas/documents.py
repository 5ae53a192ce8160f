"""Monthly receipts and verification reports: batches, progress, downloads."""
