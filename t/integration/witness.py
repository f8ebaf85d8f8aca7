"""The ftrace witness (lib.sh witness_start/witness_stop) against our events: which tracepoint
hits carrying a message's data reached the kernel's tracepoint but never ran our program.

ftrace calls its probe first (it was registered before the agents attached), then ours, in the
same tracepoint call, so each of our events belongs to the latest witness hit of the same
tracepoint on the same device (or socket) at or before it. Witness hits left over carried no
event of ours: the kernel did not run our program for them. A point missing from our events is
explained only by such a hit, on the right device, carrying data, inside the message's life.
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


class Hit:
    __slots__ = ('ts_ns', 'context', 'used')

    def __init__(self, ts_ns, context):
        self.ts_ns, self.context, self.used = ts_ns, context, False


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
    limit = {'xmit': 14 + MAX_HDR[family], 'rx': MAX_HDR[family]}
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
            if int(field(fields, 'data_len') or 0) == 0:
                continue
            # the receiving socket's own ends: src is local, so the server's has src port PORT
            sport = int(field(fields, 'src').rpartition(':')[2] or 0)
            dport = int(field(fields, 'dest').rpartition(':')[2] or 0)
            host = 'server' if sport == port else 'client' if dport == port else None
        else:
            host = devs.get(field(fields, 'dev'))
            if int(field(fields, 'len') or 0) <= limit[point]:
                continue
        if host is None:
            continue
        paren = head.rfind('(')
        tgid, _, tail = head[paren + 1:].partition(')')
        tail = tail.split()
        if paren < 0 or len(tail) != 3:
            continue
        flags, (sec, _, usec) = tail[1], tail[2].partition('.')
        if not usec.isdigit():
            continue
        context = '%s %s (tgid %s)' % ('softirq on' if 's' in flags else 'task',
                                       head[:paren].strip(), tgid.strip())
        hits[(point, host)].append(Hit(int(sec) * 1000000000 + int(usec) * 1000, context))
    for lst in hits.values():
        lst.sort(key=lambda h: h.ts_ns)
    return hits


def claim(hits, events):
    """Marks the witness hit behind each of our data-carrying events (events: [(point, host,
    ts_ns)]); returns how many found none."""
    index = {k: [h.ts_ns for h in v] for k, v in hits.items()}
    unplaced = 0
    for point, host, ts in sorted(events, key=lambda e: e[2]):
        lst, times = hits.get((point, host), []), index.get((point, host), [])
        free = lambda h: not h.used
        # ftrace prints truncated microseconds, so its hit reads at most 1 us after ours; now
        # and then (a few in 10,000) its stamp is tens of us late: then the hit is just after
        i = bisect.bisect_right(times, ts + 1000) - 1
        while i >= 0 and not free(lst[i]) and ts - lst[i].ts_ns < 20000:
            i -= 1
        if i < 0 or not free(lst[i]) or ts - lst[i].ts_ns >= 20000:
            j = bisect.bisect_right(times, ts + 1000)
            while j < len(lst) and not free(lst[j]) and lst[j].ts_ns - ts < 100000:
                j += 1
            if j < len(lst) and free(lst[j]) and lst[j].ts_ns - ts < 100000:
                i = j
            else:
                while i >= 0 and not free(lst[i]):
                    i -= 1
        if i < 0:
            unplaced += 1
        else:
            lst[i].used = True
    return unplaced


def unrun(hits):
    """{(point, host): [Hit]}: data-carrying hits that ran no program of ours."""
    return {k: [h for h in v if not h.used] for k, v in hits.items()}


def explains(unrun_hits, point, host, t0, t1):
    """A data-carrying hit of point on host between t0 and t1 (ns) that ran no program."""
    lst = unrun_hits.get((point, host), [])
    i = bisect.bisect_left([h.ts_ns for h in lst], t0 - 1000)
    return next((h for h in lst[i:] if h.ts_ns <= t1 + 1000), None)
