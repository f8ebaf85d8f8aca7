#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Latency CDFs of a results.csv with matplotlib: pingpong's alternative to pingpong-plot.

Same CSV in, same percentile table out (byte for byte) as pingpong-plot: the percentile is
user/common/stats.h's (linear interpolation between closest ranks, numpy's default), the numbers are
parsed with the same strict grammar, the table has the same columns and rounding.
"""
import argparse
import csv
import math
import os
import re
import sys
import tempfile

PROG = "plot_cdf.py"
# Drawing order and colours as in user/pingpong-plot.c and user/plot/plotfiles.c.
COMPONENTS = ["rtt", "client_stack", "network", "server_stack", "server_app",
              "client_dev", "wire", "server_dev", "rtt_app",
              "client_proc", "client_wakeup", "client_idle", "client_return",
              "server_proc", "server_wakeup", "server_idle", "server_return"]
DEFAULT_COMPONENTS = ["client_stack", "network", "server_stack", "server_app", "rtt",
                      "client_dev", "wire", "server_dev"]
COLORS = {"rtt": "#000000", "client_stack": "#1f77b4", "network": "#ff7f0e",
          "server_stack": "#2ca02c", "server_app": "#d62728", "client_dev": "#9467bd",
          "wire": "#8c564b", "server_dev": "#e377c2", "rtt_app": "#7f7f7f",
          # --sched: shades of each host's stack colour
          "client_proc": "#0d3d66", "client_wakeup": "#5fb0e6", "client_idle": "#acd6f2",
          "client_return": "#7d93a8", "server_proc": "#145214", "server_wakeup": "#72c66a",
          "server_idle": "#bde5b6", "server_return": "#8aa286"}
MAX_PERCENTILES = 16
CSV_MAX_LINE = 1 << 20
GRID_MAX_NINES = 8.0
# Characters a number may hold (user/plot/csvread.h): with them, float() and strtod agree exactly.
NOT_NUMBER_CHARS = str.maketrans("", "", "0123456789.+-eE")


class Failure(Exception):
    """A runtime failure: one line on stderr, exit status 1."""


class UsageError(Exception):
    """Bad usage: one line on stderr, exit status 2."""


def parse_number(text):
    """The number grammar of user/plot/csvread.h; None if text is not a finite decimal number."""
    if not text or text.translate(NOT_NUMBER_CHARS):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value + 0.0 if math.isfinite(value) else None


def percentile(x, p):
    """user/common/stats.c pp_percentile, operation for operation, so the doubles are identical."""
    n = len(x)
    h = float(n - 1) * p / 100.0
    lo = math.floor(h)
    if lo + 1 >= n:
        return float(x[n - 1])
    a, b = float(x[lo]), float(x[lo + 1])
    return a + (h - float(lo)) * (b - a)


def mean(x):
    """user/common/stats.c pp_mean: a left-to-right sum (np.cumsum, not numpy's pairwise sum)."""
    import numpy as np
    return float(np.cumsum(x)[-1]) / len(x) if len(x) else 0.0


def parse_percentiles(words):
    pct = []
    for word in words:
        for token in re.split(r"[,\s]+", word):
            if not token:
                continue
            if token.translate(NOT_NUMBER_CHARS):
                value = None
            else:
                try:
                    value = float(token)
                except ValueError:
                    value = None
            if value is None or not 0 <= value <= 100:
                raise UsageError(f"--percentiles must be numbers 0..100 (got '{word}')")
            if len(pct) == MAX_PERCENTILES:
                raise UsageError(f"--percentiles takes at most {MAX_PERCENTILES} values (got {word})")
            pct.append(value)
    if not pct:
        raise UsageError("--percentiles needs at least one value")
    return pct


def component_of(name):
    base = name[:-3] if len(name) > 3 and name.endswith("_us") else name
    return base if base in COMPONENTS else None


def parse_components(text):
    comps = []
    for name in re.split(r"[, ]+", text):
        if not name:
            continue
        comp = component_of(name)
        if comp is None or comp in comps:
            raise UsageError(f"--components must name components like rtt,network (got '{text}')")
        comps.append(comp)
    if not comps:
        raise UsageError(f"--components must name components like rtt,network (got '{text}')")
    return comps


def read_columns(path, comps, required):
    """Reads the header, then keeps only the cells of the wanted columns: {component: [cells]},
    the line number of each row, and the components whose column the header has."""
    try:
        f = open(path, newline="", encoding="utf-8", errors="surrogateescape")
    except OSError as e:
        raise Failure(f"cannot read {path}: {e.strerror}")
    with f:
        reader = csv.reader(f, quoting=csv.QUOTE_NONE, strict=False)
        header, cells, lines = None, {}, []
        try:
            for row in reader:
                if not row or row == [""]:
                    continue
                if header is None:
                    header = row
                    if any(not name for name in header) or len(set(header)) != len(header):
                        raise Failure(f"{path}:{reader.line_num}: header has an empty or repeated column name")
                    index = column_index(path, header, comps, required)
                    cells = {comp: [] for comp in index}
                    wanted = [(cells[comp].append, col) for comp, col in index.items()]
                    ncols = len(header)
                    continue
                if len(row) != ncols:
                    raise Failure(f"{path}:{reader.line_num}: row has a different number of cells than the header")
                for append, col in wanted:
                    append(row[col])
                lines.append(reader.line_num)
        except csv.Error as e:
            raise Failure(f"{path}:{reader.line_num}: {e}")
    if header is None:
        raise Failure(f"{path} is empty (no header line)")
    return cells, lines


def column_index(path, header, comps, required):
    index = {}
    for comp in comps:
        name = comp + "_us"
        if name in header:
            index[comp] = header.index(name)
        elif required:
            raise Failure(f"{path} has no column {name}")
    return index


def load_samples(path, comps, required):
    """{component: sorted numpy array of its non-empty cells} in comps order, and the row count."""
    import numpy as np

    columns, lines = read_columns(path, comps, required)
    samples = {}
    for comp, cells in columns.items():
        present = [c for c in cells if c]
        values = None
        if not "".join(present).translate(NOT_NUMBER_CHARS):
            try:
                values = np.array(present, dtype=np.float64)
            except ValueError:
                values = None
        if values is None or not np.isfinite(values).all():
            bad_cell(path, comp, cells, lines)
        values = values + 0.0  # -0 reads as 0, as in user/plot/csvread.c
        values.sort()
        samples[comp] = values
    if not lines:
        raise Failure(f"{path} has a header but no rows")
    if not columns:
        raise Failure(f"{path} has none of the latency columns (rtt_us, client_stack_us, ...)")
    return samples, len(lines)


def bad_cell(path, comp, cells, lines):
    """Raises the one-line error for the first cell of a column that is not a finite number."""
    for cell, line in zip(cells, lines):
        if not cell or parse_number(cell) is not None:
            continue
        shown = cell[:31]
        if not cell.translate(NOT_NUMBER_CHARS):
            try:
                if not math.isfinite(float(cell)):
                    raise Failure(f"{path}:{line}: {comp}_us: '{shown}' is not finite")
            except ValueError:
                pass
        raise Failure(f"{path}:{line}: {comp}_us: '{shown}' is not a decimal number")
    raise Failure(f"{path}: {comp}_us: unreadable column")


def check_log_axis(samples):
    """A log axis shows positive values only: says which components it leaves out."""
    left_out = [c for c, x in samples.items() if x[-1] <= 0]
    if len(left_out) == len(samples):
        raise Failure("no positive values to draw on a log axis (drop --logx)")
    if left_out:
        print(f"{PROG}: no positive values, not drawn on the log axis: {', '.join(left_out)}", file=sys.stderr)


def print_table(samples, pct):
    labels = "".join(" %10s" % ("p%.10g" % p) for p in pct)
    print("%-13s %9s%s %10s %10s  (us)" % ("component", "count", labels, "max", "mean"))
    for comp, x in samples.items():
        row = "%-13s %9d" % (comp, len(x))
        row += "".join(" %10.3f" % percentile(x, p) for p in pct)
        row += " %10.3f %10.3f" % (float(x[-1]), mean(x))
        print(row)


def nines_top(n):
    return max(math.log10(n), 1.0)


def nines(p, n):
    top = nines_top(n)
    if p >= 100:
        return top
    return min(-math.log10(1 - p / 100), top)


def quantile_grid(n):
    """user/plot/quantiles.c pp_quantile_grid: the body in steps of 0.25%, the tail in steps of nines."""
    top = min(nines_top(n), GRID_MAX_NINES)
    grid = [i * 0.25 for i in range(361)]
    grid += [100 * (1 - 10 ** (-i / 100.0)) for i in range(101, int(top * 100 + 1e-9))]
    return grid + [100.0]


def x_range(drawn, pct, logx):
    """user/plot/plotfiles.c put_x_range: linear x is cut a little past the highest percentile."""
    p_hi = max([99.0] + list(pct))
    x_hi = max(percentile(x, p_hi) for x in drawn.values())
    x_max = max(float(x[-1]) for x in drawn.values())
    x_min = min(float(x[0]) for x in drawn.values())
    if logx:
        min_pos = min(float(x[x > 0][0]) for x in drawn.values())
        return min_pos / 1.25, x_max * 1.25, ""
    lo, hi, note = min(0.0, x_min), x_max * 1.03, ""
    if x_max > x_hi * 1.2:
        hi = x_hi * 1.15
        note = "x axis cut at %.0f µs; the slowest reach %.0f µs (--logx shows all)" % (hi, x_max)
    return lo, (hi if hi > lo else lo + 1), note


def plot(samples, rows, args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401 (matplotlib.ticker below)

    drawn = {c: x for c, x in samples.items() if not args.logx or x[-1] > 0}
    n_max = max(len(x) for x in samples.values())
    fig, ax = plt.subplots(figsize=(12, 7.5), dpi=100)
    for comp, x in drawn.items():
        grid = quantile_grid(len(x))
        pts = [(percentile(x, p), nines(p, len(x))) for p in grid]
        marks = [(percentile(x, p), nines(p, len(x))) for p in args.percentiles]
        if args.logx:
            pts = [pt for pt in pts if pt[0] > 0]
            marks = [pt for pt in marks if pt[0] > 0]
        line, = ax.plot([p[0] for p in pts], [p[1] for p in pts], color=COLORS[comp],
                        lw=3 if comp == "rtt" else 2, label=comp)
        line.set_gid("cdf_" + comp)
        ax.plot([m[0] for m in marks], [m[1] for m in marks], "o", color=COLORS[comp], ms=5)
    top = nines_top(n_max)
    ticks = {0.0: "0%", nines(50, n_max): "50%"}
    for k in range(1, int(math.floor(top + 1e-9)) + 1):
        ticks[float(k)] = "%.10g%%" % (100 - 100 * 10 ** -k)
    for p in args.percentiles:
        y = nines(p, n_max)
        if y < top and abs(y - round(y)) > 1e-6 and p != 50:  # p50, p90, p99... have a tick
            ticks[y] = "%.10g%%" % p
        ax.axhline(nines(p, n_max), color="#a0a0a0", lw=1, ls="--", zorder=0)
    ax.set_yticks(list(ticks))
    ax.set_yticklabels(list(ticks.values()))
    ax.set_ylim(0, top)
    lo, hi, note = x_range(drawn, args.percentiles, args.logx)
    if args.logx:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: "%g" % v))
    ax.set_xlim(lo, hi)
    if note:
        ax.text(0.99, 0.02, note, transform=ax.transAxes, ha="right", fontsize=9, color="#606060")
    ax.set_xlabel("latency (µs)")
    ax.set_ylabel("exchanges at or below (%)")
    title = args.title if args.title is not None else "%s: %d exchange%s" % (
        os.path.basename(args.input), rows, "" if rows == 1 else "s")
    ax.set_title(title)
    ax.grid(True, color="#e0e0e0")
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    save_atomically(fig, args.output, args.format)
    plt.close(fig)


def save_atomically(fig, path, fmt):
    """Writes beside the target under a temporary name, then renames: never a partial file."""
    directory = os.path.dirname(path) or "."
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".")
    except OSError as e:
        raise Failure(f"cannot write {path}: {e.strerror}")
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format=fmt)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise Failure(f"cannot write {path}: {e.strerror}")
        raise


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse_args(argv):
    parser = Parser(prog=PROG, description="Latency CDF per component of a results.csv (matplotlib); "
                    "prints the percentile table pingpong-plot prints (microseconds).")
    parser.add_argument("-i", "--input", required=True, help="results.csv from pingpong-client")
    parser.add_argument("-o", "--output", required=True, help=".png or .svg, written whole or not at all")
    parser.add_argument("-p", "--percentiles", nargs="+", action="append", metavar="P",
                        help="percentiles 0..100, space or comma separated (default 50 90 99 99.9)")
    parser.add_argument("-l", "--logx", action="store_true", help="logarithmic latency axis")
    parser.add_argument("-c", "--components", help="comma-separated, e.g. rtt,network "
                        "(default: all but rtt_app and the --sched ones, those that have values)")
    parser.add_argument("-t", "--title", help='plot title (default "<input>: <N> exchanges")')
    parser.add_argument("-q", "--quiet", action="store_true", help="no table on stdout")
    args = parser.parse_args(argv)
    words = [w for group in args.percentiles for w in group] if args.percentiles else ["50,90,99,99.9"]
    args.percentiles = parse_percentiles(words)
    args.required = args.components is not None
    args.components = parse_components(args.components) if args.required else DEFAULT_COMPONENTS
    ext = os.path.splitext(args.output)[1].lower()
    if ext not in (".png", ".svg"):
        raise UsageError(f"--output must end in .png or .svg (got '{args.output}')")
    args.format = ext[1:]
    return args


def ensure_matplotlib(argv):
    """`python3 plot_cdf.py` may find a Python without matplotlib (a pyenv one, say): then
    this runs again under Debian's, once."""
    try:
        import matplotlib  # noqa: F401
        import numpy  # noqa: F401
        return
    except ImportError:
        pass
    debian = "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(debian) and os.access(debian, os.X_OK) \
            and not os.environ.get("PP_PLOT_CDF_REEXEC"):
        os.environ["PP_PLOT_CDF_REEXEC"] = "1"
        os.execv(debian, [debian, os.path.abspath(__file__)] + argv)
    raise Failure("needs numpy and matplotlib (Debian: apt install python3-matplotlib)")


def main(argv):
    try:
        args = parse_args(argv)
        ensure_matplotlib(argv)
        samples, rows = load_samples(args.input, args.components, args.required)
        empty = [c for c, x in samples.items() if len(x) == 0]
        samples = {c: x for c, x in samples.items() if len(x) > 0}
        if not samples:
            raise Failure(f"{args.input} has no latency values in any of its {rows} rows")
        if empty:
            print(f"{PROG}: not measured in any row, not drawn: {', '.join(empty)}", file=sys.stderr)
        if args.logx:
            check_log_axis(samples)
        if not args.quiet:
            print_table(samples, args.percentiles)
            sys.stdout.flush()
        plot(samples, rows, args)
    except UsageError as e:
        print(f"{PROG}: {e} (see --help)", file=sys.stderr)
        return 2
    except Failure as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
