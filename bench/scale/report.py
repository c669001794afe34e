"""bench/scale/report.py - the table of bench/scale/run: each structure at
each size, and how its figures grew from the smallest size to the largest.
usage: report.py RESULTS.jsonl OUTDIR"""
import json
import sys
from collections import defaultdict

COLUMNS = {
    "cache": [("load_ms", "load, ms"), ("cache_bytes_per_node", "cache B/node"),
              ("bytes_per_node_with_watches", "B/node with watch records"),
              ("read_one_node_ns", "read of one node, ns"),
              ("read_every_node_ns", "read of every node in turn, ns")],
    "router": [("decisions_per_s", "decisions/s"), ("change_to_route_p50_us", "change to new route p50, µs"),
               ("change_cpu_us", "CPU per change, µs")],
    "index": [("put_per_s", "puts/s (8 clients)"), ("get_per_s", "gets/s (cache)"),
              ("find_per_s", "finds/s (cache)")],
    "queue": [("put_per_s", "puts/s (1,000 per multi)"), ("size_ms", "size, ms"),
              ("take_per_s", "takes/s (exactly-once)")],
    "copy": [("cp_s", "zkc cp, s"), ("copy_s", "one request at a time, s")],
}


def growth(small, large, n_small, n_large):
    """How a figure grew when the size grew k times: flat, linear, or the
    exponent in between."""
    if not small or not large or small <= 0 or large <= 0:
        return ""
    import math
    k = n_large / n_small
    e = math.log(large / small) / math.log(k)
    word = "flat" if abs(e) < 0.15 else "linear" if abs(e - 1) < 0.15 else \
        "falls linearly" if abs(e + 1) < 0.15 else f"n^{e:.2f}"
    return f"×{large / small:.2f} for ×{k:g} size ({word})"


def main():
    path, outdir = sys.argv[1], sys.argv[2]
    zkc = defaultdict(dict)   # what -> n -> result
    peers = defaultdict(dict)  # n -> peer -> load_ms
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            res = r["result"]
            if r["peer"] == "zkc":
                what = "copy" if res["what"] == "seqcopy" else res["what"]
                zkc[what].setdefault(res["n"], {}).update(res)
            else:
                peers[r["n"]][r["peer"]] = res.get("load_ms")
    lines = []
    for what, cols in COLUMNS.items():
        sizes = sorted(zkc.get(what, {}))
        if not sizes:
            continue
        extra = ["kazoo TreeCache load, ms", "CuratorCache load, ms"] if what == "cache" else []
        lines.append(f"**{what}**")
        lines.append("")
        lines.append("| size | " + " | ".join(c[1] for c in cols) + "".join(f" | {e}" for e in extra) + " |")
        lines.append("|---:|" + "---:|" * (len(cols) + len(extra)))
        for n in sizes:
            res = zkc[what][n]
            cells = [f"{res.get(k, 0):,.1f}" if res.get(k, 0) < 100 else f"{res.get(k, 0):,.0f}" for k, _ in cols]
            if what == "cache":
                cells += [f"{peers[n].get(p, 0) or 0:,.0f}" for p in ("kazoo", "curator")]
            lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
        if len(sizes) > 1:
            a, b = sizes[0], sizes[-1]
            cells = [growth(zkc[what][a].get(k), zkc[what][b].get(k), a, b) for k, _ in cols]
            if what == "cache":
                cells += [growth(peers[a].get(p), peers[b].get(p), a, b) for p in ("kazoo", "curator")]
            lines.append("| growth | " + " | ".join(cells) + " |")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    with open(f"{outdir}/table.md", "w") as f:
        f.write(text + "\n")
    with open(f"{outdir}/results.json", "w") as f:
        json.dump({"zkc": zkc, "peers_tree_load_ms": peers}, f, indent=2)


if __name__ == "__main__":
    main()
