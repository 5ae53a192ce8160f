"""The web's CPU per submission in two checkouts, in process, taking turns block by block.

    python bench/web_ab.py BEFORE_DIR AFTER_DIR [--blocks 10] [--rounds 30]

This machine's speed drifts by a third or more within minutes, so two runs of
bench/submit_web.py one after the other compare the machine as much as the code. Here each
checkout runs in a long-lived process of its own (bench/submit_web.py's set-up and rounds,
each on a fresh PostgreSQL database), and the two take turns: a block of rounds in one, then
in the other, the order flipping every block. Each checkout needs this file and
bench/submit_web.py as of this commit (copy them into an older one). Prints the median CPU
of the form and of the POST of each side, then one JSON line.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARMUP = 20


def serve() -> None:
    """Child: set up in this checkout, then answer each line "N" with N rounds' CPU figures."""
    sys.path.insert(0, str(ROOT))
    from bench import stack
    from bench.submit import phone_photos, prepare
    from bench.submit_web import signed_in_round

    parser = argparse.ArgumentParser()
    stack.add_service_arguments(parser)
    args, _rest = parser.parse_known_args()
    env, _work, _url, drop = stack.environment("web-ab", args.postgres, args.redis)
    try:
        app = stack.migrated_app(env)
        (nip,), token = prepare(app, 1)
        submission = signed_in_round(app, nip, token, phone_photos(10))
        for n in range(WARMUP):
            submission(n)
        done = WARMUP
        print("ready", flush=True)
        for line in sys.stdin:
            rounds = [submission(done + i) for i in range(int(line))]
            done += len(rounds)
            print(json.dumps(rounds), flush=True)
    finally:
        drop()


def main() -> None:
    """Start both sides, alternate their blocks and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30, help="rounds per block")
    args = parser.parse_args()

    sides = {}
    for label, folder in (("before", args.before), ("after", args.after)):
        folder = Path(folder).resolve()
        child = subprocess.Popen(
            [folder / ".venv/bin/python", folder / "bench/web_ab.py", "--serve"],
            cwd=folder,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        while (line := child.stdout.readline()) and line.strip() != "ready":
            pass
        if not line:
            sys.exit(f"{folder}: the child stopped before it was ready")
        sides[label] = (child, [])
    order = list(sides)
    for block in range(args.blocks):
        for label in order if block % 2 == 0 else order[::-1]:
            child, rounds = sides[label]
            child.stdin.write(f"{args.rounds}\n")
            child.stdin.flush()
            rounds += json.loads(child.stdout.readline())
    figures = {"rounds_per_side": args.blocks * args.rounds}
    for label, (child, rounds) in sides.items():
        child.stdin.close()
        child.wait()
        form = 1000 * statistics.median(r[0] for r in rounds)
        post = 1000 * statistics.median(r[1] for r in rounds)
        print(f"{label}: form {form:.2f} ms, POST {post:.2f} ms", file=sys.stderr)
        figures[f"{label}_form_cpu_ms"] = round(form, 2)
        figures[f"{label}_post_cpu_ms"] = round(post, 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve()
    else:
        main()
