"""Printed by `make run`: where the app is and how to sign in to the demo."""

import os

from promkm_qr.demo import DEMO_LOGINS, DEMO_PASSWORD

if __name__ == "__main__":
    port = os.environ.get("PORT", "5000")
    print(f"""
promkm-qr is starting at http://127.0.0.1:{port}/  (Ctrl-C stops web, worker and beat)
QR codes point at {os.environ.get("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")}
Demo sign-ins, password "{DEMO_PASSWORD}":
  Petugas dinas (admin): {DEMO_LOGINS["dinas"]}
    (first sign-in: scan the two-step QR with an authenticator app)
  Pelaku UMKM (HP):      {DEMO_LOGINS["merchant"]}
  ASN (NIP):             {DEMO_LOGINS["asn"]}
""")
