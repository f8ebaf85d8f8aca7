# SPDX-License-Identifier: MIT
# libFuzzer targets (t/fuzz/<target>/fuzz_<target>.c), included by GNUmakefile. Each target is
# built with clang's fuzzer + ASan + UBSan straight from the user/<job>/*.c it needs, never from the
# library (that one is built without sanitizers), and runs on a scratch copy of its corpus so
# the committed corpus never grows.
#   make fuzz                  every target for FUZZ_SECONDS (default 60) each
#   make fuzz-smoke            every target, a minute in all (CI)
#   make fuzz FUZZ_TARGETS=csvread FUZZ_SECONDS=600

FUZZ_DIR      := $(BUILD)/fuzz
FUZZ_SECONDS  ?= 60
FUZZ_SMOKE_SECONDS ?= 60
FUZZ_TARGETS  ?= $(sort $(patsubst t/fuzz/%/,%,$(dir $(wildcard t/fuzz/*/fuzz_*.c))))
# One input may take this long before it counts as a hang; libFuzzer's default is 20 minutes.
FUZZ_TIMEOUT  ?= 10
FUZZ_ARGS     ?=
FUZZ_SAN      := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer
# ALL_CFLAGS less the dependency-file flags: one clang call compiles several sources here.
FUZZ_CFLAGS    = $(filter-out -MMD -MP -O2,$(ALL_CFLAGS)) $(FUZZ_SAN)

# What each target links besides itself: the module it fuzzes and what that module calls.
FUZZ_SRCS_proto     := user/model/proto.c
FUZZ_SRCS_handshake := user/ping/handshake.c
FUZZ_SRCS_eventlog  := user/collect/eventlog.c
FUZZ_SRCS_csvread   := user/plot/csvread.c user/plot/samples.c user/plot/quantiles.c user/common/stats.c user/model/split.c
FUZZ_SRCS_packet    := user/collect/packet.c
FUZZ_SRCS_correlate := user/analyze/correlate.c user/analyze/order_stage.c user/model/proto.c user/model/split.c
FUZZ_SRCS_turns     := user/analyze/turns.c user/analyze/order_stage.c user/model/proto.c user/model/split.c
FUZZ_SRCS_control   := user/agent/control.c user/model/proto.c user/model/conn.c user/common/net.c \
                       user/common/err.c
# Per target compile flags: the control server in small chunks, so a small store spans several.
FUZZ_DEFS_control   := -DPP_CONTROL_CHUNK_EVENTS=16

FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

$(FUZZ_DIR):
	$(Q)mkdir -p $@

# Explicit rules (no .SECONDEXPANSION, which would change the includer's rules too).
define fuzz_bin_rule
$(FUZZ_DIR)/fuzz_$(1): t/fuzz/$(1)/fuzz_$(1).c $(FUZZ_SRCS_$(1)) $(wildcard user/*/*.h kern/*.h) \
		t/fuzz/fuzz.mk | $(FUZZ_DIR)
	$$(call msg,FUZZCC,$$@)
	$$(Q)$$(CLANG) $$(FUZZ_CFLAGS) $(FUZZ_DEFS_$(1)) $$< $(FUZZ_SRCS_$(1)) -lm -o $$@
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_bin_rule,$(t))))

# $(call fuzz_run,SECONDS): runs every target in turn on a fresh copy of its corpus; a crash,
# leak, UB report or hang leaves its input in $(FUZZ_DIR)/<target>/artifacts/ and fails the
# run after all targets have had their turn.
define fuzz_run
	$(Q)failed=; for t in $(FUZZ_TARGETS); do \
		work=$(FUZZ_DIR)/$$t; \
		rm -rf $$work/corpus $$work/artifacts && mkdir -p $$work/corpus $$work/artifacts && \
		if [ -d t/fuzz/$$t/corpus ]; then cp t/fuzz/$$t/corpus/* $$work/corpus/ 2>/dev/null; fi; \
		printf '  %-6s %s (%ss)\n' FUZZ $$t $(1); \
		if $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(1) -timeout=$(FUZZ_TIMEOUT) \
			-print_final_stats=1 -artifact_prefix=$$work/artifacts/ $(FUZZ_ARGS) \
			$$work/corpus >$$work/log 2>&1; then \
			grep -h '^Done [0-9]* runs' $$work/log | sed "s/^/         $$t: /"; \
		else \
			failed="$$failed $$t"; tail -n 40 $$work/log; \
			echo "fuzz: $$t FAILED, input in $$work/artifacts/, log in $$work/log"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi; \
	echo "fuzz: $(words $(FUZZ_TARGETS)) targets, no crash"
endef

fuzz: $(FUZZ_BINS)
	$(call fuzz_run,$(FUZZ_SECONDS))

# A minute in all, split evenly (at least 1 s each).
FUZZ_SMOKE_EACH = $(shell n=$(words $(FUZZ_TARGETS)); s=$$(( $(FUZZ_SMOKE_SECONDS) / (n ? n : 1) )); \
                  echo $$(( s > 0 ? s : 1 )))

fuzz-smoke: $(FUZZ_BINS)
	$(call fuzz_run,$(FUZZ_SMOKE_EACH))

fuzz-bins: $(FUZZ_BINS)

# The seed corpora come from t/fuzz/make-corpus.c (the project's own encoders); rewrite them
# with `make fuzz-corpus` after a format change, and commit the result.
FUZZ_CORPUS_SRCS := user/model/proto.c user/ping/handshake.c user/collect/eventlog.c user/collect/packet.c

$(FUZZ_DIR)/make-corpus: t/fuzz/make-corpus.c $(FUZZ_CORPUS_SRCS) | $(FUZZ_DIR)
	$(call msg,CC,$@)
	$(Q)$(CLANG) $(filter-out -MMD -MP,$(ALL_CFLAGS)) $< $(FUZZ_CORPUS_SRCS) -o $@

fuzz-corpus: $(FUZZ_DIR)/make-corpus
	$(call msg,GEN,t/fuzz/*/corpus)
	$(Q)for t in $(FUZZ_TARGETS); do rm -rf t/fuzz/$$t/corpus && mkdir -p t/fuzz/$$t/corpus || exit 1; done
	$(Q)$(FUZZ_DIR)/make-corpus t/fuzz

.PHONY: fuzz fuzz-smoke fuzz-bins fuzz-corpus
