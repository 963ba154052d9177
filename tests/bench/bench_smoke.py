#!/usr/bin/env python3
"""ctest bench_smoke: packaging/bench --quick on an existing build tree must produce a
results.json and results.md holding bench_flow's rows (every B1 and B5 figure) and
bench_idle_sessions' (B4 at 1 and 10 sessions), each with both sides. It asserts what was
written, never a timing.
   bench_smoke.py SOURCE_DIR BUILD_DIR"""

import json
import os
import subprocess
import sys
import tempfile


def main():
    source, build = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, XBNC_BENCH_NO_BUILD="1", XBNC_BENCH_BUILD_DIR=build,
                   XBNC_BENCH_OUT=out,
                   # Only the benchmarks that take --quick; add others here once they do.
                   XBNC_BENCH_ONLY="bench_flow bench_idle_sessions")
        done = subprocess.run([os.path.join(source, "packaging", "bench"), "--quick"], env=env,
                              check=False)
        if done.returncode != 0:
            print("packaging/bench --quick exited with %d" % done.returncode)
            return 1
        with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
            results = json.load(f)
        with open(os.path.join(out, "results.md"), encoding="utf-8") as f:
            table = f.read()
    problems = []
    for name in ("bench_flow", "bench_idle_sessions"):
        if name not in results["benchmarks"]:
            problems.append("%s wrote no rows" % name)
    rows = [r for r in results["rows"] if r["id"] in ("B1", "B5")]
    # The quick run measures N = 1 and 3: latency p50, p99, highest rate, bytes and stanzas per
    # room message for each; then the presence churn of 2 sessions: upstream and seen by a
    # contact, per connect and per leave (closed, dropped).
    if len(rows) != 16:
        problems.append("expected 16 B1/B5 rows, got %d" % len(rows))
    idle = [r for r in results["rows"] if r["id"] == "B4"]
    if [r["what"] for r in idle] != ["idle TLS sessions: KiB per session at %d" % n
                                     for n in (1, 10)]:
        problems.append("expected B4 rows at 1 and 10 idle sessions, got %s"
                        % [r["what"] for r in idle])
    for r in rows + idle:
        if r["direct"] is None or r["xbnc"] is None:
            problems.append("row without both sides: %s" % r["what"])
    stanzas = [r for r in rows if r["what"].startswith("server → receivers: stanzas")]
    if len(stanzas) != 2 or any(r["met"] is None for r in stanzas):
        problems.append("expected 2 stanzas-per-message rows with a target")
    for n, r in zip((1, 3), stanzas):
        # Counted by Prosody: each direct session gets its own copy of every message.
        if r["direct"] != n:
            problems.append("direct N=%d got %s copies per message" % (n, r["direct"]))
    churn = [r for r in rows if "per session" in r["what"]]
    if len(churn) != 6 or any(r["met"] is None for r in churn):
        problems.append("expected 6 presence churn rows with a target, got %d" % len(churn))
    for key in ("cpu", "cores", "kernel", "prosody", "qt", "commit"):
        if key not in results["machine"]:
            problems.append("machine lacks %s" % key)
    if "| B1 |" not in table or "| B4 |" not in table or "| B5 |" not in table:
        problems.append("results.md lacks the B1/B4/B5 rows:\n" + table)
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
