#!/usr/bin/env python3
"""bench/report.py — turn the result lines of a `make bench` run (bench/lib.sh
says their format) into the markdown of bench/RESULTS.md.

    bench/report.py RESULTS.tsv [HEADER.md] > RESULTS.md

Per part: one row per figure with the median of each subject over the rounds,
the ratio ser / subject per round (same round, so the same state of a noisy
machine) and the median and range of those ratios, then the per-round values.
A ratio below 1 means ser needs less, except on rows whose unit is a rate or a
count of successes (marked "higher is better"), where above 1 is better.
"""
import statistics
import sys
from collections import OrderedDict, defaultdict

HIGHER_BETTER = ("calls/s", "MB/s", "ok", "% ok", "established")
ORDER = ["ser", "kamailio-fm", "kamailio", "stunnel", "socat+stunnel", "socat",
         "ser2net-buf", "ser2net", "sipload", "sipp", "floor"]


def higher_is_better(unit):
    return any(unit.endswith(u) for u in HIGHER_BETTER)


def fmt(v):
    if v is None:
        return "—"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def subject_key(s):
    return (ORDER.index(s) if s in ORDER else len(ORDER), s)


def read(path):
    parts = OrderedDict()
    for line in open(path, encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        kind, part = f[0], f[1] if len(f) > 1 else ""
        p = parts.setdefault(part, {"desc": [], "cmds": [], "rows": OrderedDict(),
                                    "notes": [], "meta": [], "text": OrderedDict()})
        if kind == "R" and len(f) >= 7:
            _, _, row, subject, rnd, value, unit = f[:7]
            note = f[7] if len(f) > 7 else ""
            try:
                val = float(value)
            except ValueError:
                continue
            r = p["rows"].setdefault(row, {"unit": unit, "v": defaultdict(dict)})
            r["v"][subject][int(rnd)] = val
            if note and note not in p["notes"]:
                p["notes"].append(f"{row}, {subject}, round {rnd}: {note}")
        elif kind == "C" and len(f) >= 3 and f[2] not in p["cmds"]:
            p["cmds"].append(f[2])
        elif kind == "D" and len(f) >= 3 and f[2] not in p["desc"]:
            p["desc"].append(f[2])
        elif kind == "M" and len(f) >= 3:
            p["meta"].append(f[2])
        elif kind == "T" and len(f) >= 4:
            p["text"].setdefault(f[2], []).append(f[3])
    return parts


def ratios(r, first, subject):
    """first / subject per round where both have a value."""
    ser, other = r["v"].get(first, {}), r["v"].get(subject, {})
    return [ser[k] / other[k] for k in sorted(ser) if k in other and other[k]]


def ratio_cell(rs):
    if not rs:
        return "—"
    med = statistics.median(rs)
    if len(rs) == 1:
        return f"{med:.2f}"
    return f"**{med:.2f}** ({min(rs):.2f}–{max(rs):.2f})"


def part_table(name, p, out):
    subjects = sorted({s for r in p["rows"].values() for s in r["v"]}, key=subject_key)
    # Ratios are of ser to each other subject, or (in a part without ser,
    # such as the load clients' check) of the first subject to the others.
    first = "ser" if "ser" in subjects else subjects[0]
    others = [s for s in subjects if s != first]
    out.append(f"## {name}\n")
    for d in p["desc"]:
        out.append(d + "\n")
    if p["meta"]:
        out.append("- " + "; ".join(p["meta"]) + "\n")
    head = ["figure", "unit"] + subjects + [f"{first} / {s}" for s in others]
    out.append("| " + " | ".join(head) + " |")
    out.append("| " + " | ".join(["---", "---"] + ["---:"] * (len(head) - 2)) + " |")
    for row, r in p["rows"].items():
        unit = r["unit"] + (" (higher is better)" if higher_is_better(r["unit"]) else "")
        cells = [row, unit]
        for s in subjects:
            vals = list(r["v"].get(s, {}).values())
            cells.append(fmt(statistics.median(vals)) if vals else "—")
        cells += [ratio_cell(ratios(r, first, s)) for s in others]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    rounds = sorted({k for r in p["rows"].values() for v in r["v"].values() for k in v})
    if len(rounds) > 1:
        out.append("<details><summary>per round</summary>\n")
        out.append("| figure | subject | " + " | ".join(f"round {k}" for k in rounds) + " |")
        out.append("| --- | --- | " + " | ".join("---:" for _ in rounds) + " |")
        for row, r in p["rows"].items():
            for s in sorted(r["v"], key=subject_key):
                out.append(f"| {row} | {s} | " +
                           " | ".join(fmt(r["v"][s].get(k)) for k in rounds) + " |")
        out.append("\n</details>\n")
    if p["notes"]:
        out.append("Notes from the run:\n")
        out += [f"- {n}" for n in p["notes"]]
        out.append("")
    for title, lines in p["text"].items():
        out.append(f"{title}:\n\n```")
        out += lines
        out.append("```\n")
    if p["cmds"]:
        out.append("Commands:\n\n```")
        out += p["cmds"]
        out.append("```\n")


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: report.py RESULTS.tsv [HEADER.md]")
    out = []
    if len(sys.argv) > 2:
        out.append(open(sys.argv[2], encoding="utf-8").read().rstrip() + "\n")
    for name, p in read(sys.argv[1]).items():
        if p["rows"] or p["text"]:
            part_table(name, p, out)
    print("\n".join(out))


if __name__ == "__main__":
    main()
