# SPDX-License-Identifier: MIT
"""The ftrace witness (lib.sh witness_start/witness_stop) against our events.

ftrace calls its probe first (it was registered before the agents attached), then ours, in the
same tracepoint call, so each of our events belongs to the latest witness hit of the same
tracepoint on the same device (or socket) at or before it. Witness hits left over carried no
event of ours.

A hit left over proves nothing by itself: our program may have run and lost the event (a filter
bug, a batch overwritten, a full store). Only one kernel is known to skip programs: the sandbox
kernel this project is developed on runs no tracing BPF program while a thread of its PID 1 is
current, network softirqs on top of it included (lib.sh pid1_exempt tells that kernel apart).
So a missing point is excused only there, and only by a left-over hit
  - that ran on a thread of PID 1 (tgid 1, as ftrace recorded it),
  - of the same tracepoint on the same host (device, or socket ends for tcp_probe),
  - between the message's neighbouring points that are present (so it is that packet's hit),
  - carrying as much payload as that packet (its length at another point, where one is seen),
  - not used before to excuse another point.
On any other kernel nothing is excused: every point must be there.
"""
import bisect
import collections

# Largest header before the payload: Ethernet 14 (xmit only), IPv4 20 / IPv6 40, TCP 60.
MAX_HDR = {4: 20 + 60, 6: 40 + 60}
POINT_OF_EVENT = {'net_dev_queue:': 'xmit', 'netif_receive_skb:': 'rx', 'tcp_probe:': 'tcp'}
# ftrace filters (lib.sh witness_start) that keep out what cannot carry data at all
FTRACE_FILTERS = {'net/net_dev_queue': 'len > %d' % (14 + MAX_HDR[4]),
                  'net/netif_receive_skb': 'len > %d' % MAX_HDR[4],
                  'tcp/tcp_probe': 'data_len > 0'}


def witnessed(point, payload, family):
    """Whether FTRACE_FILTERS surely keep a packet of this TCP payload (with the smallest
    headers): events of smaller packets (a handshake's hello) are not claimed."""
    ip = 20 if family == 4 else 40
    least = {'xmit': 14 + ip + 20, 'rx': ip + 20, 'tcp': 0}[point]
    limit = {'xmit': 14 + MAX_HDR[4], 'rx': MAX_HDR[4], 'tcp': 0}[point]
    return payload > 0 and least + payload > limit


class Hit:
    __slots__ = ('ts_ns', 'context', 'tgid', 'lo', 'hi', 'used')

    def __init__(self, ts_ns, context, tgid=0, lo=0, hi=1 << 31):
        # lo..hi: the TCP payload the packet can carry, from its length (headers vary)
        self.ts_ns, self.context, self.tgid, self.used = ts_ns, context, tgid, False
        self.lo, self.hi = lo, hi


def field(fields, key):
    """The value of ' key=value' in an event's fields ('' if absent)."""
    at = fields.find(' ' + key + '=')
    if at < 0:
        return ''
    at += len(key) + 2
    end = fields.find(' ', at)
    return fields[at:end if end >= 0 else len(fields)].rstrip()


def read(path, devs, port, family):
    """Data-carrying witness hits on the testbed's devices (xmit, rx) or sockets (tcp), as
    {(point, host): [Hit] in time order}. devs: {device name: host}.
    A line: "comm-pid (tgid) [cpu] flags sec.usec: event: key=value ..." (trace_clock mono)."""
    hits = collections.defaultdict(list)
    ip = 20 if family == 4 else 40
    # net_dev_queue's len counts from the Ethernet header, netif_receive_skb's from the IP one
    below = {'xmit': 14 + ip, 'rx': ip}
    for line in open(path, errors='replace'):
        head, sep, rest = line.partition(': ')
        if not sep or head.startswith('#'):
            continue
        event, _, fields = rest.partition(' ')
        point = POINT_OF_EVENT.get(event)
        if point is None:
            continue
        fields = ' ' + fields
        if point == 'tcp':
            lo = hi = int(field(fields, 'data_len') or 0)
            # the receiving socket's own ends: src is local, so the server's has src port PORT
            sport = int(field(fields, 'src').rpartition(':')[2] or 0)
            dport = int(field(fields, 'dest').rpartition(':')[2] or 0)
            host = 'server' if sport == port else 'client' if dport == port else None
        else:
            host = devs.get(field(fields, 'dev'))
            # a TCP header is 20..60 bytes
            n = int(field(fields, 'len') or 0) - below[point]
            lo, hi = max(n - 60, 1), n - 20
        if host is None or hi <= 0:
            continue
        paren = head.rfind('(')
        tgid, _, tail = head[paren + 1:].partition(')')
        tail = tail.split()
        if paren < 0 or len(tail) != 3:
            continue
        # "(-------)": ftrace recorded no tgid (the idle task, a softirq on an idle CPU)
        tgid = tgid.strip()
        tgid_n = int(tgid) if tgid.isdigit() else 0
        flags, (sec, _, usec) = tail[1], tail[2].partition('.')
        if not usec.isdigit():
            continue
        context = '%s %s (tgid %s)' % ('softirq on' if 's' in flags else 'task',
                                       head[:paren].strip(), tgid)
        hits[(point, host)].append(Hit(int(sec) * 1000000000 + int(usec) * 1000, context,
                                       tgid_n, lo, hi))
    for lst in hits.values():
        lst.sort(key=lambda h: h.ts_ns)
    return hits


def claim(hits, events, exempt=False):
    """Marks the witness hit behind each of our data-carrying events (events: [(point, host,
    ts_ns, payload)]); returns those that found none (an event without a hit is a witness that
    missed something, or an event of ours from nowhere: the caller fails on it).
    A hit fits an event when it is free, carries the event's payload, and, on the sandbox
    kernel (exempt), did not run on a PID 1 thread: the kernel runs no program of ours there."""
    index = {k: [h.ts_ns for h in v] for k, v in hits.items()}
    unplaced = []
    for point, host, ts, payload in sorted(events, key=lambda e: e[2]):
        lst, times = hits.get((point, host), []), index.get((point, host), [])
        # ftrace's probe runs before ours in the same call, and prints truncated microseconds,
        # so its hit reads at most 1 us after ours. Now and then the two stamps are further
        # apart: ftrace's stamp 20..35 us late, or, on a loaded host, our probe milliseconds
        # after ftrace's (seen: 2.77 ms, the vCPU descheduled in between). The nearest fitting
        # hit at most 20 ms before ours first, else one at most 100 us after.
        def nearest(ok):
            k = bisect.bisect_right(times, ts + 1000) - 1
            while k >= 0 and ts - times[k] < 20000000:
                if ok(lst[k]):
                    return lst[k]
                k -= 1
            k = bisect.bisect_right(times, ts + 1000)
            while k < len(lst) and times[k] - ts < 100000:
                if ok(lst[k]):
                    return lst[k]
                k += 1
            return None
        free = lambda h: not h.used and not (exempt and h.tgid == 1)
        # Now and then (1 in 10,000 messages at 64 KiB) our tcp event and ftrace's tcp_probe
        # line of the same call give different payloads: our probe reads the skb later than
        # ftrace's (milliseconds later when the vCPU was descheduled in between, as above), and
        # meanwhile the receive queue coalesced it with the next one (ours 65536, ftrace 64260
        # + 1276). Then the nearest free hit of that point and host in the same window,
        # whatever its payload: still one hit for one event, never a hit on a PID 1 thread on
        # the sandbox kernel.
        best = nearest(lambda h: free(h) and h.lo <= payload <= h.hi) or nearest(free)
        if best is None:
            unplaced.append((point, host, ts, payload))
        else:
            best.used = True
    return unplaced


def unrun(hits):
    """{(point, host): [Hit]}: data-carrying hits that no event of ours claimed."""
    return {k: [h for h in v if not h.used] for k, v in hits.items()}


def explains(unrun_hits, point, host, t0, t1, payload=None, exempt=False):
    """The left-over hit that excuses a missing point of one packet, used up by this call, or
    None. t0..t1 (ns): the packet's neighbouring points that are present (send or xmit before,
    tcp or recv after); payload: its TCP payload length seen at another point, if any.
    exempt: the sandbox kernel is in use (lib.sh pid1_exempt); without it nothing is excused."""
    if not exempt:
        return None
    lst = unrun_hits.get((point, host), [])
    # ftrace stamps are truncated to the microsecond and now and then tens of us late
    i = bisect.bisect_left([h.ts_ns for h in lst], t0 - 1000)
    for h in lst[i:]:
        if h.ts_ns > t1 + 1000:
            break
        if not h.used and h.tgid == 1 and (payload is None or h.lo <= payload <= h.hi):
            h.used = True
            return h
    return None


# Which points of a message neighbour which: a message's life on both hosts, in causal order.
CHAIN = ('send', 'xmit', 'rx', 'tcp', 'recv')


def window(times, point):
    """(t0, t1): the nearest present points before and after POINT in CHAIN; times: {point:
    ns or None} of one message (sender's send and xmit, receiver's rx, tcp and recv)."""
    at = CHAIN.index(point)
    before = [times[p] for p in CHAIN[:at] if times.get(p) is not None]
    after = [times[p] for p in CHAIN[at + 1:] if times.get(p) is not None]
    return (before[-1] if before else None, after[0] if after else None)


def describe(hits, event):
    """One line on an unplaced event and the witness hits near it, for the test's output."""
    point, host, ts, payload = event
    near = [h for h in hits.get((point, host), []) if -20000000 < h.ts_ns - ts < 200000]
    return '%s.%s at %d payload %d; hits from 20 ms before to 200 us after: %s' % (host, point, ts, payload, ', '.join(
        '%+.1f us %d..%d%s%s' % ((h.ts_ns - ts) / 1000, h.lo, h.hi, ' tgid 1' if h.tgid == 1 else '',
                                 ' used' if h.used else '') for h in near[:8]) or 'none')
