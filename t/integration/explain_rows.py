# SPDX-License-Identifier: MIT
"""Incomplete rows of a results.csv against the ftrace witness (lib.sh): every point a row lacks
must be excused by witness.explains (a PID 1 hit of that packet on the sandbox kernel), or the
row is unexplained. Exit 1 when any row is; one line per kind of excuse, as a note.

usage: explain_rows.py RESULTS_CSV WITNESS DEVS PORT FAMILY SIZE EXEMPT [client] [notcp]
  DEVS: CLIENT_DEV=client,SERVER_DEV=server; EXEMPT: 1 on the sandbox kernel (pid1_detect);
  client: a run without the server's events (only the client's columns are asked for)
  notcp: a run without --tcp-point (the default): c_tcp_ns and s_tcp_ns are not asked for
"""
import collections
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import witness  # noqa: E402

# A message's points in causal order, as results.csv columns, with the host each is taken on.
PING = (('send', 'c_send_ns', 'client'), ('xmit', 'c_xmit_ns', 'client'),
        ('rx', 's_rx_ns', 'server'), ('tcp', 's_tcp_ns', 'server'), ('recv', 's_recv_ns', 'server'))
PONG = (('send', 's_send_ns', 'server'), ('xmit', 's_xmit_ns', 'server'),
        ('rx', 'c_rx_ns', 'client'), ('tcp', 'c_tcp_ns', 'client'), ('recv', 'c_recv_ns', 'client'))

# --sched's points: never required (docs/design.md 1.7), and not asked for by these runs
SCHED_POINTS = {h + '_' + p + '_ns' for h in 'cs' for p in ('wake', 'idle', 'oncpu')}


def main():
    path, wpath, devs, port, family, size, exempt = sys.argv[1:8]
    flags = set(sys.argv[8:])
    client_only, no_tcp = 'client' in flags, 'notcp' in flags
    devs = dict(d.split('=') for d in devs.split(','))
    unrun = witness.unrun(witness.read(wpath, devs, int(port), int(family)))
    payload = int(size) if int(size) <= 1400 else None  # one segment, either family
    excused, unexplained, rows = collections.Counter(), [], 0
    for row in csv.DictReader(open(path)):
        if row['incomplete'] != '1':
            continue
        rows += 1
        lacks = [c for c in row if c.endswith('_ns') and row[c] == '' and c not in SCHED_POINTS
                 and not (client_only and c.startswith('s_'))
                 and not (no_tcp and c in ('c_tcp_ns', 's_tcp_ns'))]
        for message in (PING, PONG):
            message = [m for m in message if not (no_tcp and m[0] == 'tcp')]
            times = {pt: int(row[col]) if row[col] else None for pt, col, _ in message}
            for pt, col, host in message:
                if row[col] or pt in ('send', 'recv') or col not in lacks:
                    continue
                t0, t1 = witness.window(times, pt)
                # without the other host's points, the client's own round trip bounds it
                t0 = t0 if t0 is not None else int(row['c_send_ns'] or 0) or None
                t1 = t1 if t1 is not None else int(row['c_recv_ns'] or 0) or None
                h = (witness.explains(unrun, pt, host, t0, t1, payload, exempt == '1')
                     if t0 is not None and t1 is not None else None)
                if h:
                    excused['%s: %s' % (col, h.context)] += 1
                    lacks.remove(col)
        if lacks:  # syscall points, wire points, or packet points nothing excuses
            unexplained.append('seq %s lacks %s' % (row['seq'], ' '.join(lacks)))
    if excused:
        print('  note: %d incomplete rows; excused by PID 1 hits the witness saw: %s'
              % (rows, '; '.join('%s x%d' % kv for kv in excused.most_common(6))))
    for u in unexplained[:10]:
        print('  unexplained: ' + u)
    sys.exit(1 if unexplained else 0)


main()
