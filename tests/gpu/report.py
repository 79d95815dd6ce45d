#!/usr/bin/env python3
"""Writes scripts/gpu-check's markdown report from its phase table and the checks' results.

  report.py --phases phases.tsv --results results.jsonl --env env.txt --logs DIR --out report.md

phases.tsv: one line per phase, tab-separated: name, status (ok, FAIL, timeout, skipped),
seconds, command, log file, note. results.jsonl: the records of tests/gpu/gpu_common.Results.
Standard library only (it runs wherever python3 does).
"""

import argparse
import json
import os


def tail(path, lines=25):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--phases", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--env", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--title", default="gpu-check report")
    a = p.parse_args()
    phases = []
    if os.path.exists(a.phases):
        with open(a.phases) as f:
            for line in f:
                cols = line.rstrip("\n").split("\t")
                phases.append((cols + [""] * 6)[:6])
    results = []
    if os.path.exists(a.results):
        with open(a.results) as f:
            results = [json.loads(line) for line in f if line.strip()]
    out = [f"# {a.title}", ""]
    out += ["## Machine", "", "```", open(a.env).read().rstrip() if os.path.exists(a.env) else
            "(no environment recorded)", "```", ""]
    out += ["## Phases", "", "| phase | status | seconds | command | note |", "|---|---|---|---|---|"]
    for name, status, secs, cmd, _, note in phases:
        out.append(f"| {name} | {status} | {secs} | `{cmd.replace('|', '/')}` | {note} |")
    out.append("")
    sections = {}
    for r in results:
        sections.setdefault(r["section"], []).append(r)
    if sections:
        out += ["## Figures and checks", ""]
    for section, recs in sections.items():
        out += [f"### {section}", "", "| check | value | unit | verdict | note |", "|---|---|---|---|---|"]
        for r in recs:
            v = r["value"]
            v = f"{v:.4g}" if isinstance(v, float) else ("" if v is None else str(v))
            verdict = {True: "ok", False: "**FAIL**", None: ""}[r["ok"]]
            note = str(r["note"]).replace("\n", " ").replace("|", "/")
            out.append(f"| {r['name']} | {v} | {r['unit']} | {verdict} | {note} |")
        cmds = [r["command"] for r in recs if r["command"]]
        if cmds:
            out += ["", "Commands:", "", "```"] + list(dict.fromkeys(cmds)) + ["```"]
        out.append("")
    bad = [ph for ph in phases if ph[1] not in ("ok", "skipped")]
    if bad:
        out += ["## Logs of phases that did not pass (last lines)", ""]
        for name, status, _, _, log, _ in bad:
            out += [f"### {name} ({status})", "", "```", tail(log).rstrip(), "```", ""]
    failed = sum(1 for r in results if r["ok"] is False)
    out.append(f"Checks: {sum(1 for r in results if r['ok'] is True)} ok, {failed} failed; "
               f"phases: {', '.join(f'{n} {s}' for n, s, *_ in phases)}.")
    with open(a.out, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
