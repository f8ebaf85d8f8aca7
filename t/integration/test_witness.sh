#!/bin/bash
# SPDX-License-Identifier: MIT
# The witness's rules on a made-up ftrace record (witness.py), so that what it excuses is
# itself tested: an event lost by our program is never excused; on the sandbox kernel a PID 1
# hit of that packet is, once; on a stock kernel nothing is; an event without a hit is counted.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/trace.txt" <<'EOF'
# tracer: nop
 pingpong-client-500   (    500) [000] b....   10.000010: net_dev_queue: dev=tb-c skbaddr=0000000000000001 len=150
 pingpong-client-500   (    500) [000] b....   10.000110: net_dev_queue: dev=tb-c skbaddr=0000000000000002 len=150
 tokio-rt-worker-75    (      1) [001] ..s..   10.000210: net_dev_queue: dev=tb-c skbaddr=0000000000000003 len=150
 tokio-rt-worker-75    (      1) [001] ..s..   10.000310: net_dev_queue: dev=tb-c skbaddr=0000000000000004 len=1000
 pingpong-client-500   (    500) [000] b....   10.000410: net_dev_queue: dev=tb-c skbaddr=0000000000000005 len=150
          <idle>-0       (-------) [000] ..s1.   10.000510: net_dev_queue: dev=tb-c skbaddr=0000000000000006 len=150
EOF
cat >"$TMP/rules.py" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import witness

def fresh():
    hits = witness.read(sys.argv[2], {'tb-c': 'client'}, 5000, 4)
    # our events: the 1st and 5th hits ran our program; the 2nd's event was lost by us
    assert witness.claim(hits, [('xmit', 'client', 10000010500, 84), ('xmit', 'client', 10000410500, 84)], True) == []
    return witness.unrun(hits)

payload = 150 - 14 - 20 - 32  # 84 B: 150 B frames with a 32 B TCP header
cases = []
u = fresh()
# message 2's xmit (between its send at 10.000100 and its rx at 10.000120): only our own task ran
cases.append(('a hit our program ran for but lost is not excused',
              witness.explains(u, 'xmit', 'client', 10000100000, 10000120000, payload, True) is None))
# message 3's xmit: a PID 1 softirq hit of that packet
h = witness.explains(u, 'xmit', 'client', 10000200000, 10000220000, payload, True)
cases.append(('a PID 1 hit of that packet is excused on the sandbox kernel', h is not None and h.tgid == 1))
cases.append(('the same hit excuses nothing twice',
              witness.explains(u, 'xmit', 'client', 10000200000, 10000220000, payload, True) is None))
cases.append(('a PID 1 hit of another packet size excuses nothing',
              witness.explains(u, 'xmit', 'client', 10000300000, 10000320000, payload, True) is None))
cases.append(('a PID 1 hit outside the packet\'s neighbouring points excuses nothing',
              witness.explains(fresh(), 'xmit', 'client', 10000250000, 10000290000, payload, True) is None))
cases.append(('on a stock kernel nothing is excused',
              witness.explains(fresh(), 'xmit', 'client', 10000200000, 10000220000, payload, False) is None))
hits = witness.read(sys.argv[2], {'tb-c': 'client'}, 5000, 4)
cases.append(('an event of ours with no witness hit is counted',
              witness.claim(hits, [('xmit', 'client', 10000010500, 84), ('xmit', 'client', 10030000000, 84)]) == [('xmit', 'client', 10030000000, 84)]))
hits = witness.read(sys.argv[2], {'tb-c': 'client'}, 5000, 4)
# with every other hit taken, an event at message 3's time (as if our program had run on PID
# 1's thread) must not take its PID 1 hit
witness.claim(hits, [('xmit', 'client', t, 84) for t in (10000010500, 10000110500, 10000410500)], True)
cases.append(('on the sandbox kernel an event never claims a PID 1 hit',
              len(witness.claim(hits, [('xmit', 'client', 10000210500, 84)], True)) == 1))
hits = witness.read(sys.argv[2], {'tb-c': 'client'}, 5000, 4)
witness.claim(hits, [('xmit', 'client', 10000300500, 910)])
cases.append(('an event takes the hit that carries its payload over a nearer one',
              hits[('xmit', 'client')][3].used and not hits[('xmit', 'client')][2].used))
hits = witness.read(sys.argv[2], {'tb-c': 'client'}, 5000, 4)
cases.append(('a hit on the idle task, whose tgid ftrace leaves blank, is read',
              len(hits[('xmit', 'client')]) == 6 and hits[('xmit', 'client')][5].tgid == 0))
cases.append(('window: the nearest present neighbours',
              witness.window({'send': 1, 'xmit': None, 'rx': None, 'tcp': 4, 'recv': 5}, 'rx') == (1, 4)))
for what, ok in cases:
    print(('  ok   ' if ok else '  FAIL ') + what)
sys.exit(0 if all(ok for _, ok in cases) else 1)
EOF
check "witness rules (made-up record)" python3 "$TMP/rules.py" "$ROOT/t/integration" "$TMP/trace.txt"
finish
