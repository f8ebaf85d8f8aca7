#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Abusive peers for test_abuse.sh: of pingpong-server (connections reset mid-message, bad and
oversized hellos, a stalled client) and of the agent's control port (garbage, FETCH for a
connection that is not the asker's), and a held flood of idle, garbage and reset connections
at either port (hold). Every wait is bounded; prints one result line."""
import socket, struct, sys, time

HELLO = struct.Struct(">IHHIIQ")  # magic, version, length, msg_size, flags, count
PPNG, PPCT = 0x50504E47, 0x50504354
CTL_VERSION = 2  # the control protocol this script speaks (docs/protocol.md)


def hello(msg_size, count=0, length=24, magic=PPNG, version=1):
    return HELLO.pack(magic, version, length, msg_size, 0, count) + b"\0" * max(0, length - 24)


def connect(host, port):
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(5)
    return s


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        part = s.recv(n - len(buf))
        if not part:
            raise ConnectionError("closed after %d of %d bytes" % (len(buf), n))
        buf += part
    return buf


def rst_flood(host, port, n):
    """n connections: a valid hello, half a message, then RST. Batches of 20 at once.
    Only a connection the server accepted (ok status) and that took the half message was
    reset mid-message; one whose hello was refused (a status, or closed before the reply)
    or that the server cut before the half message went out is counted apart."""
    done = resets = refused = cut = 0
    while done < n:
        batch = []
        for _ in range(min(20, n - done)):
            s = connect(host, port)
            s.sendall(hello(1000, 10))
            batch.append(s)
        for s in batch:
            try:
                reply = recv_exact(s, 12)
            except OSError:
                reply = None
            if reply is None or struct.unpack(">H", reply[6:8])[0] != 0:
                refused += 1
            else:
                try:
                    s.sendall(b"x" * 500)
                    resets += 1
                except OSError:
                    cut += 1
            reset(s)
        done += len(batch)
    print("reset", resets, "refused", refused, "cut", cut)


def bad_hellos(host, port):
    """Each must be refused with a reply status or a close, never crash or hang the server."""
    cases = {
        "bad magic": hello(100, magic=0xDEADBEEF),
        "length 300": hello(100, length=300),
        "length 65535": HELLO.pack(PPNG, 1, 65535, 100, 0, 0),
        "length 10": HELLO.pack(PPNG, 1, 10, 100, 0, 0),
        "msg_size 0": hello(0),
        "msg_size 2^31": hello(1 << 31),
        "msg_size 4G-1": hello(0xFFFFFFFF),
        "version 9": hello(100, version=9),
        "garbage 64 KiB": bytes(range(256)) * 256,
        "half a hello": hello(100)[:10],
    }
    refused = 0
    for name, data in cases.items():
        s = connect(host, port)
        try:
            s.sendall(data)
            if name == "half a hello":
                s.shutdown(socket.SHUT_WR)
            reply = s.recv(12)
            status = struct.unpack(">H", reply[6:8])[0] if len(reply) >= 8 else None
            if status != 0:
                refused += 1
            else:
                print("accepted:", name)
        except OSError:
            refused += 1
        s.close()
    # 16 MiB, the largest legal message, set up and dropped again, a few times
    for _ in range(3):
        s = connect(host, port)
        s.sendall(hello(16 << 20, 1))
        recv_exact(s, 12)
        s.sendall(b"y" * (1 << 20))
        reset(s)
    print("refused", refused, "of", len(cases))


def stall(host, port, secs):
    s = connect(host, port)
    s.sendall(hello(100, 10))
    recv_exact(s, 12)
    s.sendall(b"z" * 10)  # a tenth of a message, then nothing
    time.sleep(secs)
    print("stalled", secs)


def fetch_frame(family, cport, sport, caddr, saddr):
    fam = socket.AF_INET if family == 4 else socket.AF_INET6
    pad = lambda a: socket.inet_pton(fam, a).ljust(16, b"\0")
    payload = struct.pack(">BBHHH", 2 if family == 4 else 10, 0, 0, cport, sport) + pad(caddr) + pad(saddr) + b"\0" * 4
    return struct.pack(">IHHI", PPCT, CTL_VERSION, 1, len(payload)) + payload


def read_answer(s):
    """(events, 'END'|'ERROR'|'closed')"""
    events = 0
    while True:
        try:
            hdr = recv_exact(s, 12)
        except (OSError, ConnectionError):
            return events, "closed"
        magic, ver, typ, length = struct.unpack(">IHHI", hdr)
        body = recv_exact(s, length)
        if typ == 2:
            events += struct.unpack(">I", body[:4])[0]
        elif typ == 3:
            return events, "END"
        else:
            return events, "ERROR"


def own_and_others(host, port, ctl):
    """A real connection of ours (10 exchanges), then FETCHes: ours, and others' 4-tuples."""
    s = connect(host, port)
    s.sendall(hello(64, 10))
    recv_exact(s, 12)
    for _ in range(10):
        s.sendall(b"p" * 64)
        recv_exact(s, 64)
    caddr, cport = s.getsockname()[:2]
    saddr, sport = s.getpeername()[:2]
    s.close()
    time.sleep(0.5)
    out = []
    for name, tup in (("own", (cport, sport, caddr, saddr)),
                      ("port+1", (cport + 1, sport, caddr, saddr)),
                      ("other client", (cport, sport, "198.18.0.99", saddr)),
                      ("other server port", (cport, sport + 7, caddr, saddr))):
        c = connect(host, ctl)
        c.sendall(fetch_frame(4, *tup))
        n, how = read_answer(c)
        c.close()
        out.append("%s=%d/%s" % (name.replace(" ", "_"), n, how))
    print(" ".join(out))


def control_garbage(host, ctl):
    """Each is refused (ERROR or close) within the agent's timeout."""
    cases = [
        b"GET / HTTP/1.0\r\n\r\n",
        struct.pack(">IHHI", PPCT, CTL_VERSION, 1, 0x7FFFFFFF),         # FETCH, huge length
        struct.pack(">IHHI", PPCT, CTL_VERSION, 2, 4) + b"\0" * 4,      # EVENTS sent to the agent
        struct.pack(">IHHI", PPCT, 9, 1, 44) + b"\0" * 44,              # unknown version
        struct.pack(">IHHI", PPCT, CTL_VERSION, 1, 44) + b"\xff" * 44,  # bad family
        bytes(range(256)) * 16,
    ]
    refused = 0
    for data in cases:
        c = connect(host, ctl)
        try:
            c.sendall(data)
            n, how = read_answer(c)
            refused += how != "END"
        except OSError:
            refused += 1
        c.close()
    print("refused", refused, "of", len(cases))


def hold(host, port, idle, garbage, secs):
    """For secs seconds: idle connections that send one byte and stay (one closed by the peer
    is opened again, at most once per 20 ms round each), and garbage connections that send
    junk, or reset at once, spread over the time (in rounds of 20 ms). Non-blocking, one loop."""
    import selectors, random, errno as E
    sel = selectors.DefaultSelector()
    rng = random.Random(1)
    end = time.monotonic() + secs
    stats = dict(idle_opened=0, idle_closed_by_peer=0, garbage=0, reset=0, refused=0)
    idle_socks = set()
    junk = [b"GET / HTTP/1.0\r\n\r\n", b"\x00" * 64, bytes(range(256)),
            struct.pack(">IHHI", PPCT, CTL_VERSION, 1, 0x7FFFFFFF), struct.pack(">IHHI", PPCT, 9, 1, 44) + b"\0" * 44,
            struct.pack(">IHHI", PPCT, CTL_VERSION, 2, 4) + b"\0" * 4, b"SSH-2.0-OpenSSH_9.0\r\n"]
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET

    def nb_connect():
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex((host, port))
        if rc not in (0, E.EINPROGRESS):
            s.close()
            stats["refused"] += 1
            return None
        return s

    rounds = max(1, int(secs / 0.02))
    per_round = garbage / rounds
    owed = 0.0
    while time.monotonic() < end:
        # idle: keep the count up
        while len(idle_socks) < idle:
            s = nb_connect()
            if s is None:
                break
            idle_socks.add(s)
            sel.register(s, selectors.EVENT_WRITE, "idle-new")
            stats["idle_opened"] += 1
        owed += per_round
        while owed >= 1 and stats["garbage"] + stats["reset"] < garbage:
            owed -= 1
            s = nb_connect()
            if s is None:
                continue
            kind = "reset" if rng.random() < 0.5 else "junk"
            sel.register(s, selectors.EVENT_WRITE, kind)
        for key, ev in sel.select(timeout=0.02):
            s, kind = key.fileobj, key.data
            if kind == "idle-new":
                try:
                    s.send(b"\x50")   # one byte of a header, then nothing
                    sel.modify(s, selectors.EVENT_READ, "idle")
                except OSError:
                    sel.unregister(s); idle_socks.discard(s); s.close()
                    stats["idle_closed_by_peer"] += 1
            elif kind == "idle":
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(s); idle_socks.discard(s); s.close()
                    stats["idle_closed_by_peer"] += 1
            else:
                sel.unregister(s)
                if kind == "junk":
                    try:
                        s.send(rng.choice(junk))
                    except OSError:
                        pass
                    stats["garbage"] += 1
                    s.close()
                else:
                    stats["reset"] += 1
                    reset(s)
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    print(" ".join("%s=%d" % kv for kv in stats.items()))


if __name__ == "__main__":
    mode, host = sys.argv[1], sys.argv[2]
    args = [int(a) for a in sys.argv[3:]]
    {"rst": lambda: rst_flood(host, *args), "bad": lambda: bad_hellos(host, *args),
     "stall": lambda: stall(host, *args), "fetch": lambda: own_and_others(host, *args),
     "garbage": lambda: control_garbage(host, *args),
     "hold": lambda: hold(host, *args)}[mode]()
