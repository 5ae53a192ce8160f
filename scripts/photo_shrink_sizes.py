"""The JPEG sizes Chromium's canvas makes of a 12 MP photo at each shrink step the report
form may use (static/asn-photo.js), to choose the steps; figures in the README.

    .venv/bin/python scripts/photo_shrink_sizes.py
"""

import base64
import io
import sys
from pathlib import Path

from PIL import Image, ImageFilter
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.asn.conftest import jpeg_bytes

SHRINK = """async ([b64, side, quality]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
  const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
  return blob.size;
}"""


def photo_like(width: int = 4000, height: int = 3000) -> bytes:
    """Texture like a camera photo: blurred noise over gradients (pure noise is the worst case)."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 60).filter(ImageFilter.GaussianBlur(1.2))
    image = Image.merge("RGB", (gradient, noise, Image.eval(gradient, lambda v: 255 - v)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def main() -> None:
    samples = {"photo-like": photo_like(), "noise (worst case)": jpeg_bytes(4000, 3000, 92)}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        for name, data in samples.items():
            encoded = base64.b64encode(data).decode()
            print(f"{name}: 4000x3000, {len(data) // 1000} KB")
            for side in (1600, 1280, 1024):
                sizes = [
                    f"q{quality}: {page.evaluate(SHRINK, [encoded, side, quality]) // 1000} KB"
                    for quality in (0.82, 0.72, 0.6, 0.5)
                ]
                print(f"  {side} px  " + ", ".join(sizes))
        browser.close()


if __name__ == "__main__":
    main()
