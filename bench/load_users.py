"""Locust users for bench/load.py: ASN reporting with photos, merchants confirming, staff.

Run by bench/load.py (which starts the stack and writes the accounts file named by
PROMKM_LOAD_ACCOUNTS); every accepted submission's one-time key is appended to the file
named by PROMKM_LOAD_ACCEPTED so the run can check the database for each of them.
"""

import itertools
import json
import os
import random
import re
import uuid
from datetime import UTC, datetime, timedelta

from locust import HttpUser, between, task

ACCOUNTS = json.load(open(os.environ["PROMKM_LOAD_ACCOUNTS"]))  # noqa: SIM115
PHOTO = open(ACCOUNTS["photo"], "rb").read()  # noqa: SIM115
ACCEPTED = open(os.environ["PROMKM_LOAD_ACCEPTED"], "a")  # noqa: SIM115
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_addresses = itertools.count(1)


def csrf(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF.search(html)
    return (match.group(1) or match.group(2)) if match else ""


class Person(HttpUser):
    """Someone on their own phone: a forwarded address of their own, signed in once."""

    abstract = True
    wait_time = between(1, 5)
    role = ""

    def on_start(self):
        n = next(_addresses)
        self.client.headers["X-Forwarded-For"] = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        # Over HTTPS the CSRF check wants a same-origin Referer, as a browser sends.
        self.client.headers["Referer"] = f"{self.host}/"
        if os.environ.get("PROMKM_LOAD_CA"):  # through nginx: trust its certificate only
            self.client.trust_env = False
            self.client.verify = os.environ["PROMKM_LOAD_CA"]
        page = self.client.get("/auth/masuk", name="sign-in page").text
        with self.client.post(
            "/auth/masuk", name="sign in", allow_redirects=False, catch_response=True,
            data={"csrf_token": csrf(page), "role": self.role,
                  "identifier": self.identifier(), "password": ACCOUNTS["password"]},
        ) as response:  # fmt: skip
            if response.status_code == 302:
                response.success()
            else:
                response.failure(f"sign-in answered {response.status_code}")


class Asn(Person):
    """An ASN opening poster links and reporting purchases with a photo (most traffic)."""

    weight = 8
    role = "asn"

    def identifier(self) -> str:
        return random.choice(ACCOUNTS["asn"])

    @task
    def report_a_purchase(self):
        token = random.choice(ACCOUNTS["tokens"])
        form = self.client.get(f"/q/{token}", name="/q/<token> -> form")
        key = re.search(r'name="form_key"[^>]*value="([^"]+)"', form.text)
        if not key:
            return  # the GET itself is counted as failed when it did not answer 200
        when = datetime.now(UTC) + timedelta(hours=7) - timedelta(minutes=random.randint(1, 600))
        fields = {
            "csrf_token": csrf(form.text), "form_key": key.group(1),
            "amount": f"Rp{random.choice([15, 20, 25, 50])}.000", "goods_category": "makanan",
            "description": "Nasi pecel", "purchased_at": when.strftime("%Y-%m-%dT%H:%M"),
            "payment_method": "tunai",
        }  # fmt: skip
        with self.client.post(
            f"/asn/lapor/{token}", name="/asn/lapor/<token> submit", data=fields,
            files={"photo": (f"{uuid.uuid4().hex}.jpg", PHOTO, "image/jpeg")},
            allow_redirects=False, catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code == 302:
                response.success()
                ACCEPTED.write(key.group(1) + "\n")
                ACCEPTED.flush()
            else:
                response.failure(f"submit answered {response.status_code}")

    @task
    def history(self):
        self.client.get("/asn/riwayat", name="/asn/riwayat")


class Merchant(Person):
    """A merchant looking at sales and confirming one."""

    weight = 2
    role = "merchant"

    def identifier(self) -> str:
        return random.choice(ACCOUNTS["merchants"])

    @task
    def confirm_one(self):
        page = self.client.get("/umkm/", name="/umkm/").text
        ids = re.findall(r'name="report_id" value="(\d+)"', page)
        if ids:
            self.client.post(
                "/umkm/laporan/konfirmasi",
                name="/umkm confirm",
                data={"csrf_token": csrf(page), "report_id": random.choice(ids)},
            )


class Staff(Person):
    """Dinas staff on the dashboard, now and then printing one kelurahan's posters."""

    weight = 1
    role = "dinas"

    def identifier(self) -> str:
        return ACCOUNTS["staff"]

    @task(5)
    def dashboard(self):
        self.client.get("/dinas/dasbor", name="/dinas/dasbor")

    @task(1)
    def poster_batch(self):
        page = self.client.get("/dinas/poster", name="/dinas/poster").text
        kelurahan = re.findall(r'<select id="kelurahan"[^>]*>(.*?)</select>', page, re.S)
        values = re.findall(r'value="(\d+)"', kelurahan[0]) if kelurahan else []
        if values:
            self.client.post(
                "/dinas/poster",
                name="/dinas/poster start",
                data={
                    "csrf_token": csrf(page),
                    "scope": "kelurahan",
                    "kelurahan": random.choice(values),
                    "format": "stickers",
                },
            )
