#!/usr/bin/env python3
"""Merges the row files of the comparison benchmarks (bench_rows.h) into one results.json and
one Markdown table, results.md, with the machine the figures were taken on."""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys


def first_line_with(path, prefix):
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def package_version(name):
    # dpkg, not the programs: `prosody --version` starts talking to the network on some setups.
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name],
                              capture_output=True, text=True, timeout=10, check=False)
        return done.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine(commit):
    mem = first_line_with("/proc/meminfo", "MemTotal")
    ram_gib = "unknown"
    if mem.endswith("kB"):
        ram_gib = "%.1f GiB" % (int(mem.split()[0]) / 1024 / 1024)
    return {
        "cpu": first_line_with("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "ram": ram_gib,
        "kernel": platform.release(),
        "prosody": package_version("prosody"),
        "qt": package_version("libqt6core6"),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
    }


def number(value):
    if value is None:
        return "–"
    if abs(value) >= 100 or value == int(value):
        return "%.0f" % value
    return "%.2f" % value


def met_text(met):
    return {True: "yes", False: "**no**", None: ""}[met]


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(rows, info):
    out = ["| id | what | unit | direct | xbnc | xbnc/direct | target | met | note |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = "–" if r.get("ratio") is None else "%.2f×" % r["ratio"]
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            cell(r["id"]), cell(r["what"]), cell(r["unit"]), number(r.get("direct")),
            number(r.get("xbnc")), ratio, cell(r.get("target", "")), met_text(r.get("met")),
            cell(r.get("note", ""))))
    out.append("")
    out.append("Machine: %s, %s cores, %s RAM, Linux %s; Prosody %s, Qt %s; %s, commit %s." % (
        info["cpu"], info["cores"], info["ram"], info["kernel"], info["prosody"], info["qt"],
        info["date"], info["commit"]))
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, help="directory for results.json and results.md")
    parser.add_argument("--commit", default="unknown")
    parser.add_argument("rows", nargs="*", help="row files written with --json")
    args = parser.parse_args()

    rows, benchmarks = [], []
    for path in args.rows:
        if not os.path.exists(path):
            continue  # an unmatched shell glob: no benchmark wrote rows
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        benchmarks.append(document["benchmark"])
        rows.extend(document["rows"])
    rows.sort(key=lambda r: r["id"])  # stable: each benchmark's own order within an id
    info = machine(args.commit)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"machine": info, "benchmarks": benchmarks, "rows": rows}, f, indent=2,
                  ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as f:
        f.write(markdown(rows, info))
    print("bench: %d rows from %s in %s" % (len(rows), ", ".join(benchmarks) or "nothing",
                                            args.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
