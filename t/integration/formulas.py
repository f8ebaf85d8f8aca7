# SPDX-License-Identifier: MIT
"""The README's formulas of results.csv: each printed component against the raw ns columns it
is made of, and the two identities on the printed columns. One copy for the tests that check
rows (test_make_run.sh, test_turns.sh), so that they cannot drift apart.

    import formulas
    raw, p = formulas.raw(row), formulas.printed(row)
    for comp, got, want in formulas.checked(raw, p): ...   # formulas whose points the row has
    formulas.adds_up(p, "rtt", formulas.RTT_PARTS)           # True when a part is blank too

With --sched each host's stack also comes in parts (kept out of FORMULAS, whose every formula a
full row without --sched has; the parts clamp, so they are functions, not expressions):

    for comp, got, want in formulas.checked_sched(raw, p): ...   # hosts with the parts' points
    formulas.adds_up(p, "client_stack", formulas.STACK_PARTS["client"])
    formulas.idle_within_wakeup(p, "client")                     # 0 <= idle <= wakeup
"""
import re

FORMULAS = {
    "rtt": "c_recv - c_send",
    "client_stack": "(c_xmit - c_send) + (c_recv - c_rx)",
    "server_stack": "(s_recv - s_rx) + (s_xmit - s_send)",
    "server_app": "s_send - s_recv",
    "network": "(c_rx - c_xmit) - (s_xmit - s_rx)",
    "client_dev": "(c_wire_tx - c_xmit) + (c_rx - c_wire_rx)",
    "server_dev": "(s_rx - s_wire_rx) + (s_wire_tx - s_xmit)",
    "wire": "(c_wire_rx - c_wire_tx) - (s_wire_tx - s_wire_rx)",
}
RTT_PARTS = ("client_stack", "server_stack", "server_app", "network")
NETWORK_PARTS = ("client_dev", "wire", "server_dev")
# --sched: stack = proc + wakeup + return; idle is a part of wakeup, not a fourth term
STACK_PARTS = {"client": ("client_proc", "client_wakeup", "client_return"),
               "server": ("server_proc", "server_wakeup", "server_return")}
SCHED_COMPONENTS = tuple(f"{h}_{part}" for h in ("client", "server")
                         for part in ("proc", "wakeup", "idle", "return"))


def stack_parts(raw_points, host):
    """One host's proc, wakeup, idle and return in ns ({"client_proc": ...}), as docs/design.md
    splits its stack; {} unless send, xmit, rx, oncpu and recv are all there. The switch-in
    counts only within [rx, recv) (else all is processing; at recv it is the kernel's mark
    of a thread on a CPU since its previous recv); the wake-up only within (rx, oncpu]
    (else it runs from rx); the idle exit only within the wake-up."""
    c = host[0] + "_"
    if not all(c + x in raw_points for x in ("send", "xmit", "rx", "oncpu", "recv")):
        return {}
    send, xmit, rx, r, recv = (raw_points[c + x] for x in ("send", "xmit", "rx", "oncpu", "recv"))
    wake, idle = raw_points.get(c + "wake"), raw_points.get(c + "idle")
    if r < rx or r >= recv:
        w = r = recv
    else:
        w = wake if wake is not None and rx < wake <= r else rx
    i = idle if idle is not None and w <= idle <= r else w
    return {host + "_proc": (xmit - send) + (w - rx), host + "_wakeup": r - w,
            host + "_idle": i - w, host + "_return": recv - r}


def printed_ns(cell):
    """"-12.345" -> -12345; None if empty or not of that shape."""
    return int(cell.replace(".", "")) if re.fullmatch(r"-?\d+\.\d{3}", cell) else None


def raw(row):
    """The row's points in ns, by name without _ns ("c_send": ...); blank ones left out."""
    return {k[:-3]: int(v) for k, v in row.items()
            if k[:2] in ("c_", "s_") and k.endswith("_ns") and v != ""}


def printed(row):
    """Every component of FORMULAS, and the --sched parts where the file has their columns,
    as printed, in integer ns (None: blank)."""
    p = {c: printed_ns(row[c + "_us"]) for c in FORMULAS}
    p.update({c: printed_ns(row[c + "_us"]) for c in SCHED_COMPONENTS if c + "_us" in row})
    return p


def checked(raw_points, p):
    """(component, printed ns, ns from the raw points) for every formula whose points the row
    has."""
    return [(c, p[c], eval(f, {}, raw_points)) for c, f in FORMULAS.items()
            if all(x in raw_points for x in re.findall(r"[cs]_[a-z_]+", f))]


def checked_sched(raw_points, p):
    """(component, printed ns or None, ns from the raw points) for every --sched part of each
    host whose points the row has: a blank part there is a mismatch too."""
    return [(c, p.get(c), want) for host in ("client", "server")
            for c, want in stack_parts(raw_points, host).items()]


def idle_within_wakeup(p, host):
    """0 <= idle <= wakeup on the printed columns (True when either is blank)."""
    idle, wakeup = p.get(host + "_idle"), p.get(host + "_wakeup")
    return None in (idle, wakeup) or 0 <= idle <= wakeup


def adds_up(p, total, parts):
    """The printed parts add up to the printed total (True when any of them is blank)."""
    return (None in [p.get(total)] + [p.get(c) for c in parts]
            or sum(p[c] for c in parts) == p[total])
