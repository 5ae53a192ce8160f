"""The dinas dashboard: aggregates, charts, exports and the ASN roster import."""
