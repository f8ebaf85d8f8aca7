#!/bin/bash
# SPDX-License-Identifier: MIT
# The tracer with every send/recv system call family and messages read in several calls (see test_trace_exchanges.sh).
exec "$(dirname "$0")/test_trace_exchanges.sh" --syscalls "$@"
