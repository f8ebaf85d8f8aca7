#!/bin/bash
# SPDX-License-Identifier: MIT
# The testbed itself: both address families reach across, a second testbed coexists, and
# `down` leaves no namespace behind even with a process still running inside.
. "$(dirname "$0")/lib.sh"

tb_up
check "IPv4 reachable" tb_client ping -c 1 -W 2 -q "$SERVER_IP4"
check "IPv6 reachable" tb_client ping -c 1 -W 2 -q "$SERVER_IP6"

other=${PP_TESTBED:0:7}x
check "second testbed coexists" env PP_TESTBED="$other" "$TESTBED" up --router-bridge
check "bridged router path works" env PP_TESTBED="$other" "$TESTBED" exec client ping -c 1 -W 2 -q "$SERVER_IP4"
env PP_TESTBED="$other" "$TESTBED" exec server sleep 60 &
sleeper=$!
sleep 0.2
check "down with a process inside" env PP_TESTBED="$other" "$TESTBED" down
check "no namespace left" bash -c "! ip netns list | grep -q '^$other-'"
check "process inside was stopped" bash -c "! kill -0 $sleeper 2>/dev/null"
finish
