# SPDX-License-Identifier: MIT
"""The README's formulas of results.csv: each printed component against the raw ns columns it
is made of, and the two identities on the printed columns. One copy for the tests that check
rows (test_make_run.sh, test_turns.sh), so that they cannot drift apart.

    import formulas
    raw, p = formulas.raw(row), formulas.printed(row)
    for comp, got, want in formulas.checked(raw, p): ...   # formulas whose points the row has
    formulas.adds_up(p, "rtt", formulas.RTT_PARTS)           # True when a part is blank too
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


def printed_ns(cell):
    """"-12.345" -> -12345; None if empty or not of that shape."""
    return int(cell.replace(".", "")) if re.fullmatch(r"-?\d+\.\d{3}", cell) else None


def raw(row):
    """The row's points in ns, by name without _ns ("c_send": ...); blank ones left out."""
    return {k[:-3]: int(v) for k, v in row.items()
            if k[:2] in ("c_", "s_") and k.endswith("_ns") and v != ""}


def printed(row):
    """Every component of FORMULAS as printed, in integer ns (None: blank)."""
    return {c: printed_ns(row[c + "_us"]) for c in FORMULAS}


def checked(raw_points, p):
    """(component, printed ns, ns from the raw points) for every formula whose points the row
    has."""
    return [(c, p[c], eval(f, {}, raw_points)) for c, f in FORMULAS.items()
            if all(x in raw_points for x in re.findall(r"[cs]_[a-z_]+", f))]


def adds_up(p, total, parts):
    """The printed parts add up to the printed total (True when any of them is blank)."""
    return None in [p[total]] + [p[c] for c in parts] or sum(p[c] for c in parts) == p[total]
