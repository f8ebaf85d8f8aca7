#!/bin/bash
# SPDX-License-Identifier: MIT
# The tracer with 1 MiB messages, 10,000 exchanges each way, IPv4 and IPv6 (see test_trace_exchanges.sh).
exec "$(dirname "$0")/test_trace_exchanges.sh" --large "$@"
