#!/bin/bash
# SPDX-License-Identifier: MIT
# Wire capture in the testbed: both hosts capture while a TCP echo runs (64 B and 64 KiB
# messages); the events carry the right flows, cover every payload byte by seq exactly once,
# match across hosts, lie inside the run on CLOCK_MONOTONIC, and --pcap-out is a valid file.
. "$(dirname "$0")/lib.sh"

PORT=5301
PROBE=$BUILD/t/capture_probe
if [ ! -x "$PROBE" ]; then
	make -C "$ROOT" --no-print-directory BUILD="$BUILD" "$PROBE" >/dev/null ||
		fail "cannot build $PROBE"
fi
tb_up

# A TCP echo peer and a client that prints its CLOCK_MONOTONIC window and local port.
cat >"$TMP/echo.py" <<'PY'
import socket, sys, time
def recvn(s, n):
    b = bytearray()
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: raise SystemExit("peer closed")
        b += c
    return b
if sys.argv[1] == "server":
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((sys.argv[2], int(sys.argv[3]))); ls.listen(4)
    while True:
        c, _ = ls.accept(); size = int(recvn(c, 8))
        while True:
            try: c.sendall(recvn(c, size))
            except SystemExit: break
        c.close()
else:
    addr, port, size, count = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    start = time.monotonic_ns()
    s = socket.create_connection((addr, port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(b"%08d" % size)
    for i in range(count):
        s.sendall(bytes([i % 256]) * size); recvn(s, size)
    print(s.getsockname()[1], start, time.monotonic_ns())
    s.close()
PY
tb_bg server python3 "$TMP/echo.py" server "$SERVER_IP4" "$PORT"
wait_port server "$PORT"

# run_case NAME SIZE COUNT: captures on both hosts around one echo connection.
run_case() {
	local name=$1 size=$2 count=$3 cpid spid
	rm -f "$TMP/$name".{cready,sready}
	tb_bg client "$PROBE" --peer "$SERVER_IP4" --port "$PORT" --keep-acks --duration 20 \
		--pcap-out "$TMP/$name.pcap" --ready "$TMP/$name.cready" >"$TMP/$name.client.csv" 2>"$TMP/$name.client.err"
	cpid=$!
	tb_bg server "$PROBE" --peer "$CLIENT_IP4" --port "$PORT" --duration 20 \
		--ready "$TMP/$name.sready" >"$TMP/$name.server.csv" 2>"$TMP/$name.server.err"
	spid=$!
	for _ in $(seq 1 50); do
		[ -e "$TMP/$name.cready" ] && [ -e "$TMP/$name.sready" ] && break
		sleep 0.1
	done
	[ -e "$TMP/$name.cready" ] && [ -e "$TMP/$name.sready" ] || fail "$name: capture did not start"
	tb_client python3 "$TMP/echo.py" client "$SERVER_IP4" "$PORT" "$size" "$count" >"$TMP/$name.run" ||
		fail "$name: echo client failed"
	sleep 0.2
	kill -TERM "$cpid" "$spid"
	wait "$cpid" || fail "$name: client capture exited with $?: $(cat "$TMP/$name.client.err")"
	wait "$spid" || fail "$name: server capture exited with $?: $(cat "$TMP/$name.server.err")"
}

# check_case NAME SIZE COUNT: the assertions, in Python for the seq arithmetic.
check_case() {
	python3 - "$TMP" "$1" "$2" "$3" "$CLIENT_IP4" "$SERVER_IP4" "$PORT" <<'PY'
import struct, sys
tmp, name, size, count, cip, sip, port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6], int(sys.argv[7])
cport, t_start, t_end = map(int, open(f"{tmp}/{name}.run").read().split())
def load(side):
    rows = []
    for line in open(f"{tmp}/{name}.{side}.csv"):
        p = line.strip().split(",")
        rows.append(dict(point=p[0], ts=int(p[1]), saddr=p[3], sport=int(p[4]), daddr=p[5], dport=int(p[6]),
                         seq=int(p[7]), len=int(p[8]), flags=int(p[9], 16)))
    return rows
bad = []
def expect(cond, what):
    if not cond: bad.append(what)
client, server = load("client"), load("server")
c_tx = [r for r in client if r["point"] == "wire_tx"]
c_rx = [r for r in client if r["point"] == "wire_rx"]
expect(all((r["saddr"], r["sport"], r["daddr"], r["dport"]) == (cip, cport, sip, port) for r in c_tx), "client wire_tx flow is client -> server")
expect(all((r["saddr"], r["sport"], r["daddr"], r["dport"]) == (sip, port, cip, cport) for r in c_rx), "client wire_rx flow is server -> client")
syn = [r for r in c_tx if r["flags"] & 0x02]
expect(len(syn) == 1, "the client saw its SYN (--keep-acks)")
synack = [r for r in c_rx if r["flags"] & 0x02]
expect(len(synack) == 1, "the client saw the SYN-ACK")
def coverage(rows, first_seq, total, what):
    data = sorted((r for r in rows if r["len"] > 0), key=lambda r: r["ts"])
    nxt = first_seq
    for r in data:
        expect(r["seq"] == nxt % 2**32, f"{what}: segment at seq {r['seq']} follows {nxt % 2**32} (no gap, no repeat)")
        nxt += r["len"]
    expect(nxt - first_seq == total, f"{what}: {nxt - first_seq} payload bytes seen, expected {total}")
    return data
if syn and synack:
    total = 8 + size * count
    tx = coverage(c_tx, syn[0]["seq"] + 1, total, "client wire_tx")
    rx = coverage(c_rx, synack[0]["seq"] + 1, size * count, "client wire_rx")
    s_rx = [r for r in server if r["point"] == "wire_rx"]
    s_tx = [r for r in server if r["point"] == "wire_tx"]
    expect(all(r["len"] > 0 for r in server), "server capture left pure ACKs out by default")
    expect([(r["seq"], r["len"]) for r in s_rx] == [(r["seq"], r["len"]) for r in tx], "server wire_rx = client wire_tx, by seq and len")
    expect([(r["seq"], r["len"]) for r in s_tx] == [(r["seq"], r["len"]) for r in rx], "server wire_tx = client wire_rx, by seq and len")
    expect(all(t_start <= r["ts"] <= t_end for r in client if r["len"] > 0), "client event times lie inside the run (CLOCK_MONOTONIC)")
    expect(all(a["ts"] <= b["ts"] for a, b in zip(client, client[1:])), "client events come in time order")
    if size >= 65536:
        expect(max(r["len"] for r in tx) > 1448, "a GSO frame carries more than one MSS")
# the saved capture: pcap with ns magic, one record per frame the probe counted
raw = open(f"{tmp}/{name}.pcap", "rb").read()
expect(struct.unpack("<I", raw[:4])[0] == 0xa1b23c4d, "--pcap-out has the nanosecond pcap magic")
off, records = 24, 0
while off + 16 <= len(raw):
    incl = struct.unpack("<IIII", raw[off:off + 16])[2]; off += 16 + incl; records += 1
expect(off == len(raw), "--pcap-out records end exactly at the end of the file")
frames = int(open(f"{tmp}/{name}.client.err").read().split(" frames,")[0].split()[-1])
expect(records == frames and records == len(client), f"--pcap-out holds every frame ({records} records, {frames} frames, {len(client)} events)")
for b in bad: print("    " + b)
sys.exit(1 if bad else 0)
PY
}

run_case small 64 200
check "64 B: flows, seq coverage, cross-host match, times, pcap file" check_case small 64 200
run_case big 65536 20
check "64 KiB: the same with GSO frames" check_case big 65536 20
check "drops are reported (and none happened)" grep -q "pcap drops 0 (capture buffer full)" "$TMP/small.client.err"
check "clock offset and its uncertainty are reported" grep -q "converted within +-" "$TMP/small.client.err"
check "no temp file left beside --pcap-out" bash -c "! ls $TMP/*.pcap.* 2>/dev/null | grep -q ."

tb_client "$PROBE" --peer "$SERVER_IP4" --duration 1 --pcap-out /nonexistent/x.pcap >/dev/null 2>"$TMP/bad.err"
check "unwritable --pcap-out is a one-line error" grep -q "^capture_probe: --pcap-out /nonexistent/x.pcap: No such file" "$TMP/bad.err"
tb_client "$PROBE" --peer "$SERVER_IP4" --tstamp-type bogus >/dev/null 2>"$TMP/ts.err"
check "unknown --tstamp-type is refused" grep -q "unknown --tstamp-type 'bogus'" "$TMP/ts.err"
check "missing hardware time stamps are stated" bash -c "'$TESTBED' exec client '$PROBE' --peer $SERVER_IP4 --list-tstamp-types | grep -q 'offers no hardware time stamps'"
finish
