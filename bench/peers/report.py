"""bench/peers/report.py - turns the JSON lines of bench/peers/run into a
markdown table (medians over rounds, with min-max spread), results.json and
peers.png. usage: report.py RESULTS.jsonl OUTDIR SETTINGS"""
import json
import statistics
import textwrap
import sys
from collections import defaultdict

PEERS = ["zkc", "zkc-go", "zkc-python", "curator", "kazoo", "go-zookeeper"]
# zkc's own bindings are columns, not peers to compare zkc with
OURS = ("zkc", "zkc-go", "zkc-python")
# each binding beside the client of its own language: (ours, theirs, column)
LANG_PAIRS = [("zkc-python", "kazoo", "zkc-python vs kazoo"),
              ("zkc-go", "go-zookeeper", "zkc-go vs go-zookeeper")]
# the goals: zkc from Python at least 2x kazoo on these rows
PY_GOAL_ROWS = [("lock", "rate_per_s"), ("counter8", "rate_per_s")]
# (table scenario, metric, label, higher is better)
ROWS = [
    ("lock", "rate_per_s", "lock acquire+release, 1 client, cycles/s", True),
    ("lock_sticky", "rate_per_s", "lock cycles/s, zkc sticky mode", True),
    ("handoff", "rate_per_s", "lock hand-offs/s, 8 clients", True),
    ("counter1", "rate_per_s", "counter adds/s, 1 client", True),
    ("counter8", "rate_per_s", "counter adds/s, 8 clients", True),
    ("counter8", "fairness", "counter, 8 clients: fewest/most adds per client", True),
    ("counter8", "min_window_ops", "counter, 8 clients: fewest adds of a client in a 1 s window", True),
    ("queue", "rate_per_s", "queue put+take/s, 1 client", True),
    ("get", "p50_us", "get p50, µs", False),
    ("pipelined_get", "rate_per_s", "pipelined gets/s (100 in flight)", True),
    ("cache", "p50_us", "cache read p50, µs", False),
    ("cache", "change_to_cache_p50_us", "change-to-cache p50, µs", False),
    ("failover", "p50_us", "write p50 while the leader is killed, µs", False),
    ("failover", "max_us", "longest write wait when the leader is killed, ms", False),
]
CPU_ROWS = ["lock", "handoff", "counter8", "queue", "get", "pipelined_get"]


def value(res, metric):
    if metric == "fairness":
        per = res.get("per_client") or []
        return min(per) / max(per) if per and max(per) > 0 else 0.0
    v = res.get(metric)
    if v is None or v < 0:
        return None
    return float(v) / 1000 if res.get("scenario") == "failover" and metric == "max_us" else float(v)


def speedup(a, b, higher):
    """How many times better a is than b (> 1: a is better), or None."""
    if a is None or b is None or a <= 0 or b <= 0:
        return None
    return a / b if higher else b / a


def fmt(v):
    if v is None:
        return "–"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def main():
    path, outdir, settings = sys.argv[1], sys.argv[2], sys.argv[3]
    runs = defaultdict(list)   # (scenario, peer) -> [result]
    loads = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            runs[(r["table_scenario"], r["result"]["peer"])].append(r["result"])
            loads.append(r["load1"])
    table, summary = [], {}
    header = "| scenario | " + " | ".join(PEERS) + " | zkc vs fastest peer | " + \
        " | ".join(c for _, _, c in LANG_PAIRS) + " |"
    table += [header, "|---|" + "---:|" * (len(PEERS) + 1 + len(LANG_PAIRS))]
    goals = []   # lines of the goals' check, after the table
    for sc, metric, label, higher in ROWS:
        cells, med = [], {}
        for p in PEERS:
            vals = [v for v in (value(r, metric) for r in runs.get((sc, p), [])) if v is not None]
            if not vals:
                cells.append("–")
                continue
            m = statistics.median(vals)
            med[p] = m
            cells.append(f"{fmt(m)} ({fmt(min(vals))}–{fmt(max(vals))})" if len(vals) > 1 else fmt(m))
            summary.setdefault(f"{sc}.{metric}", {})[p] = {"median": m, "min": min(vals), "max": max(vals), "n": len(vals)}
        others = {p: v for p, v in med.items() if p not in OURS and v > 0}
        ratio = ""
        if "zkc" in med and others and med["zkc"] > 0:
            best = max(others.values()) if higher else min(others.values())
            r = med["zkc"] / best if higher else best / med["zkc"]
            ratio = f"{r:.2f}×"
            summary[f"{sc}.{metric}"]["zkc_vs_fastest_peer_x"] = r
        pair_cells = []
        for ours, theirs, column in LANG_PAIRS:
            r = speedup(med.get(ours), med.get(theirs), higher)
            pair_cells.append("" if r is None else f"{r:.2f}×")
            if r is not None:
                summary[f"{sc}.{metric}"][f"{ours}_vs_{theirs}_x".replace("-", "_")] = r
        table.append(f"| {label} | " + " | ".join(cells) + f" | {ratio} | " +
                     " | ".join(pair_cells) + " |")
        if metric in ("fairness", "min_window_ops"):
            continue
        if (sc, metric) in PY_GOAL_ROWS:
            r = speedup(med.get("zkc-python"), med.get("kazoo"), higher)
            if r is not None:
                goals.append(f"- {label}: zkc-python {r:.2f}× kazoo (goal ≥ 2×): "
                             f"{'met' if r >= 2 else 'NOT met'}")
        # where zkc from C beats go-zookeeper (so also wherever it beats
        # the fastest peer), zkc from Go should too
        c_vs = speedup(med.get("zkc"), med.get("go-zookeeper"), higher)
        go_vs = speedup(med.get("zkc-go"), med.get("go-zookeeper"), higher)
        if c_vs is not None and c_vs > 1 and go_vs is not None:
            goals.append(f"- {label}: zkc (C) {c_vs:.2f}× go-zookeeper, zkc-go {go_vs:.2f}× "
                         f"(goal > 1×): {'met' if go_vs > 1 else 'NOT met'}")
    table.append("")
    table.append("Client CPU per operation, µs (median over rounds):")
    table.append("")
    table.append("| scenario | " + " | ".join(PEERS) + " |")
    table.append("|---|" + "---:|" * len(PEERS))
    for sc in CPU_ROWS:
        cells = []
        for p in PEERS:
            vals = [r["cpu_us_per_op"] for r in runs.get((sc, p), []) if r.get("cpu_us_per_op", -1) >= 0]
            cells.append(fmt(statistics.median(vals)) if vals else "–")
        table.append(f"| {sc} | " + " | ".join(cells) + " |")
    impl = sorted({(p, r.get("implementation")) for (sc, p), rs in runs.items() for r in rs if r.get("implementation")})
    table.append("")
    table.append("Implementations: " + "; ".join(f"{p} {sc_impl}" for p, sc_impl in impl))
    if goals:
        table.append("")
        table.append("Goals (from the medians above):")
        table.append("")
        table += goals
    table.append("")
    table.append(f"Settings: {settings}. Load average (1 min) during the runs: "
                 f"{min(loads):.2f}–{max(loads):.2f}." if loads else f"Settings: {settings}.")
    text = "\n".join(table)
    print(text)
    with open(f"{outdir}/table.md", "w") as f:
        f.write(text + "\n")
    with open(f"{outdir}/results.json", "w") as f:
        json.dump({"settings": settings, "metrics": summary}, f, indent=2)
    plot(summary, f"{outdir}/peers.png")
    print(f"\nwrote {outdir}/table.md, {outdir}/results.json, {outdir}/peers.png", file=sys.stderr)


def plot(summary, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, series = [], {p: [] for p in PEERS}
    for sc, metric, label, higher in ROWS:
        m = summary.get(f"{sc}.{metric}")
        if not m or metric in ("fairness", "min_window_ops") or len([p for p in PEERS if p in m and not p.startswith("zkc")]) < 1:
            continue
        best = max(v["median"] for p, v in m.items() if p in PEERS) if higher else \
            min(v["median"] for p, v in m.items() if p in PEERS)
        labels.append(textwrap.fill(label, 18))
        for p in PEERS:
            v = m.get(p, {}).get("median")
            series[p].append(0 if not v else (v / best if higher else best / v))
    fig, ax = plt.subplots(figsize=(14, 6))
    w = 0.8 / len(PEERS)
    for i, p in enumerate(PEERS):
        ax.bar([x + (i - (len(PEERS) - 1) / 2) * w for x in range(len(labels))], series[p], w,
               label=p)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=7, rotation=30, ha="right")
    ax.set_ylabel("relative to the best (1.0 = best; higher is better)")
    ax.set_title("zkc and its peers, same run, medians over rounds")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
