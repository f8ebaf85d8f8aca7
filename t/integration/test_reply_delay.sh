#!/bin/bash
# SPDX-License-Identifier: MIT
# The reply delay lands in server_app only: a timing comparison of medians, apart from the loss
# and exactness checks of test_client_split.sh so that only it may be retried (see test_client_split.sh).
exec "$(dirname "$0")/test_client_split.sh" --reply-delay "$@"
