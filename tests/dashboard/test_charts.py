"""Server-side SVG charts: bars proportional to the numbers, text escaped, no inline style."""

import re

from promkm_qr.dashboard.charts import bar_chart, column_chart


def test_bars_are_proportional_and_labels_escaped():
    rows = [
        {"label": "<Taman & co>", "count": 1, "amount": 50_000},
        {"label": "Kartoharjo", "count": 2, "amount": 100_000},
    ]
    svg = str(bar_chart(rows, "Per kecamatan"))
    assert "&lt;Taman &amp; co&gt;" in svg and "<Taman" not in svg
    assert "Rp100.000" in svg and "style=" not in svg
    widths = [
        float(w)
        for w in re.findall(
            r'<rect x="200" y="[\d.]+" width="([\d.]+)" height="18" fill="#0b6e4f"', svg
        )
    ]
    assert widths[1] == 2 * widths[0]


def test_column_chart_of_an_empty_period_draws_no_bar_heights():
    rows = [{"label": "2026-03-01", "count": 0, "amount": 0}]
    svg = str(column_chart(rows, "Per hari"))
    assert 'height="0.0"' in svg and "<title>Per hari</title>" in svg and ">01<" in svg
