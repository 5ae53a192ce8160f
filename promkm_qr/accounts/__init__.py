"""Accounts: the ASN roster, staff accounts and activation codes, apart from their pages."""
