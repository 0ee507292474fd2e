#!/usr/bin/env python3
"""Table and JSON of tests/bench/run.sh.

  report.py RAW MACHINE_JSON CONFIG_JSON OUT_JSON

RAW has tab-separated lines written by run.sh:
  value  FIGURE  SIDE(ferry|baseline)  RUN  NUMBER
  note   FIGURE  TEXT
FIGURE is one of FIXED below, or rss_<flow>_x<scale> (ferry's own peak RSS
in MiB), or paint_ms.  Prints the table on stdout, writes OUT_JSON.
"""
import json
import re
import statistics
import sys

# key: (label, unit, bar on "ratio" or "value" or None, op, bar, digits)
FIXED = {
    "backup_s": ("backup time", "s", "ratio", "<=", 0.35, 1),
    "backup_size_mb": ("bundle size", "MB", "ratio", "<=", 1.0, 1),
    "copy_mbps": ("copy throughput", "MB/s", "ratio", ">=", 1.0, 0),
    "restore_s": ("restore time", "s", "ratio", "<=", 1.15, 1),
    "restore_bundle_s": ("restore time vs tar x + pg_restore", "s", "ratio", "<=", 0.8, 1),
    "restore_staging_pct": ("restore: peak staging, % of the dump", "%", "value", "<=", 10, 1),
    "drill_s": ("drill time vs verify --deep", "s", None, None, None, 1),
    "drill_restore_s": ("drill: restore time (verify, load, gate)", "s", None, None, None, 1),
    "drill_content_s": ("drill: content check", "s", None, None, None, 1),
    "drill_content_pct": ("drill: content check's share", "%", None, None, None, 0),
    "migrate_s": ("migrate time", "s", "ratio", "<=", 0.45, 1),
    "paint_ms": ("wizard first paint", "ms", "value", "<=", 50, 0),
}
ORDER = ["backup_s", "backup_size_mb", "copy_mbps", "restore_s", "restore_bundle_s",
         "restore_staging_pct", "drill_s",
         "drill_restore_s", "drill_content_s", "drill_content_pct", "migrate_s"]


def spec(key):
    if key in FIXED:
        return FIXED[key]
    m = re.fullmatch(r"rss_(\w+)_x([0-9.]+)", key)
    if m:
        return ("peak RSS %s (scale %s)" % (m.group(1), m.group(2)), "MiB", "value", "<=", 64, 1)
    return (key, "", None, None, None, 2)


def main():
    raw, machine_path, config_path, out_path = sys.argv[1:5]
    values, notes, keys = {}, {}, []
    with open(raw) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "value":
                _, key, side, run, num = parts
                if key not in keys:
                    keys.append(key)
                values.setdefault(key, {}).setdefault(side, []).append((int(run), float(num)))
            elif parts[0] == "note":
                notes.setdefault(parts[1], []).append(parts[2])
                if parts[1] not in keys:
                    keys.append(parts[1])
    def rss_order(k):
        m = re.fullmatch(r"rss_(\w+)_x([0-9.]+)", k)
        return (float(m.group(2)), ["backup", "restore", "migrate"].index(m.group(1))
                if m.group(1) in ("backup", "restore", "migrate") else 9, k)
    keys = [k for k in ORDER if k in keys] + sorted((k for k in keys if k.startswith("rss_")), key=rss_order) + \
        [k for k in keys if k not in ORDER and not k.startswith("rss_")]

    figures = []
    for key in keys:
        label, unit, bar_on, op, bar, digits = spec(key)
        v = values.get(key, {})
        agg = max if key.startswith("rss_") else statistics.median
        ferry = agg(x for _, x in v["ferry"]) if v.get("ferry") else None
        base = agg(x for _, x in v["baseline"]) if v.get("baseline") else None
        ratio = ferry / base if ferry is not None and base else None
        checked = ratio if bar_on == "ratio" else ferry if bar_on == "value" else None
        if bar_on is None:
            result = None
        elif checked is None:
            result = "n/a"
        elif op == "<=":
            result = "pass" if checked <= bar else "MISS"
        else:
            result = "pass" if checked >= bar else "MISS"
        figures.append({
            "key": key, "figure": label, "unit": unit,
            "aggregate": "max" if key.startswith("rss_") else "median",
            "ferry": ferry, "baseline": base, "ratio": ratio,
            "bar": None if bar_on is None else {"on": bar_on, "op": op, "value": bar},
            "result": result,
            "runs": {s: [x for _, x in sorted(r)] for s, r in v.items()},
            "notes": notes.get(key, []),
            "_digits": digits,
        })

    def num(x, d):
        return "-" if x is None else ("%.*f" % (d, x))

    rows = [("figure", "ferry", "baseline", "ratio", "bar", "result")]
    for fg in figures:
        d = fg["_digits"]
        bar = "-" if fg["bar"] is None else "%s %s %g" % (
            "ratio" if fg["bar"]["on"] == "ratio" else "value", fg["bar"]["op"], fg["bar"]["value"])
        rows.append(("%s (%s)" % (fg["figure"], fg["unit"]), num(fg["ferry"], d) if fg["ferry"] is not None
                     else "n/a", num(fg["baseline"], d), num(fg["ratio"], 2), bar, fg["result"] or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = []
    for i, r in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(widths[j]) if j == 0 else c.rjust(widths[j]) if j < 4
                                        else c.ljust(widths[j]) for j, c in enumerate(r)) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("\n".join(lines))
    for fg in figures:
        for n in fg["notes"]:
            print("  %s: %s" % (fg["figure"], n))

    with open(machine_path) as f:
        machine = json.load(f)
    with open(config_path) as f:
        config = json.load(f)
    for fg in figures:
        del fg["_digits"]
    with open(out_path, "w") as f:
        json.dump({"machine": machine, "config": config, "figures": figures, "table": lines}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
