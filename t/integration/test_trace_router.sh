#!/bin/bash
# SPDX-License-Identifier: MIT
# The tracer through a router namespace: neither host records the router's packets (see test_trace_exchanges.sh).
exec "$(dirname "$0")/test_trace_exchanges.sh" --router "$@"
