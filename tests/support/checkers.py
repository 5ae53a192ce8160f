"""The page checkers: axe-core and the Nu Html Checker (vnu) from npm, and our layout checks."""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
PAGE_CHECKS = Path(__file__).with_name("page_checks.js")
# axe-core's rules for WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""
RUN_LAYOUT = """() => [
  ...pageChecks.sideways(), ...pageChecks.unreachableScrollers(), ...pageChecks.smallTargets(),
]"""


def missing() -> str | None:
    """What is missing to run the checkers, or None."""
    if not AXE.exists() or not VNU.exists():
        return "run npm install (axe-core and vnu-jar from package.json)"
    if not shutil.which("java"):
        return "install the Debian package default-jre-headless"
    return None


def check_page(page) -> list[str]:
    """The open page's serious and critical WCAG 2.2 AA violations (axe-core) and layout
    problems for a phone or keyboard user, one line each. The browser context must bypass
    the app's CSP, which forbids the injected scripts."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
        page.add_script_tag(path=str(PAGE_CHECKS))
    found = page.evaluate(RUN_AXE, WCAG22_AA)
    return [
        f"axe {v['id']} ({v['impact']}) at {'; '.join(v['targets'])}"
        for v in found
        if v["impact"] in BLOCKING
    ] + page.evaluate(RUN_LAYOUT)


def vnu_errors(pages: dict[str, str]) -> dict[str, list[str]]:
    """The Nu Html Checker's errors per page (name: HTML), in one run of the checker."""
    with tempfile.TemporaryDirectory() as tmp:
        names = {}
        for i, (name, html) in enumerate(pages.items()):
            path = Path(tmp) / f"{i:04d}.html"
            path.write_text(html, encoding="utf-8")
            names[path.name] = name
        run = subprocess.run(
            # The HTML schema recurses deeply: 512k of stack overflows on this JVM.
            ["java", "-Xss4m", "-jar", str(VNU), "--errors-only", "--format", "json", tmp],
            capture_output=True,
            text=True,
            timeout=120,
        )
    # Exit status 1 means "errors found"; anything but a JSON report is the checker failing.
    assert run.stderr.startswith("{"), f"vnu did not run: {run.stderr[:500]}"
    errors: dict[str, list[str]] = {}
    for message in json.loads(run.stderr)["messages"]:
        url = message.get("url", "?")
        extract = " ".join(message.get("extract", "").split())[:80]
        errors.setdefault(names.get(Path(urlsplit(url).path).name, url), []).append(
            f"vnu line {message.get('lastLine', '?')}: {message['message']} [{extract}]"
        )
    return errors
