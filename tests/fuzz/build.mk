# tests/fuzz/: libFuzzer harnesses (clang -fsanitize=fuzzer,address,undefined), one per
# input memstate must survive: saved timelines (reader, convert), operation sequences
# (space, against a page-array model), syscall records (infer), what a traced program
# writes into its API channel slot (chan) and zstd-compressed timelines (zread). Figures
# of the runs: tests/fuzz/RESULTS.md.
#
#   make fuzz                          build, then run each target FUZZ_TIME s (default 60)
#   make fuzz FUZZ_TARGETS=chan FUZZ_TIME=3600
#   make fuzz-build                    build only ($(BUILD)/fuzz/fuzz_<target>)
#   make fuzz-ci                       what CI runs: every target 30 s, fails on any crash
#
# Needs clang and its libFuzzer runtime (Debian: clang, libclang-rt-14-dev); without them
# `make fuzz` says so and fails, the rest of the build does not depend on it. Corpora:
# tests/fuzz/corpus/<target>/ (seeds and fixed crash reproducers, read only during a run);
# what a run discovers goes to $(BUILD)/fuzz/corpus/<target>/, crashes to
# $(BUILD)/fuzz/crashes/<target>/.

FUZZ_CC ?= clang
FUZZ_TIME ?= 60
# libFuzzer's -seed: 0 draws a new one each run
FUZZ_SEED ?= 0
FUZZ_ALL := reader convert space infer chan zread
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS_NOCOV := -g -O1 -std=gnu11 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE \
	       -Wno-gnu-variable-sized-type-not-at-end $(FUZZ_SAN)
FUZZ_CFLAGS := $(FUZZ_CFLAGS_NOCOV) -fsanitize=fuzzer-no-link
FUZZ_CPPFLAGS := -Ilib/include -I. -Itests/fuzz -MMD -MP $(ZSTD_CPPFLAGS)
# Whether clang links a fuzzer: tried when a fuzz target is built, not on every make.
FUZZ_PROBE := printf 'int LLVMFuzzerTestOneInput(const char *d, long n){return 0;}' | \
	$(FUZZ_CC) -fsanitize=fuzzer -x c - -o /dev/null 2>/dev/null

# What each harness links (besides its own file): the library always. FUZZ_NOCOV_<t> are
# built without coverage feedback (still sanitized): code a harness runs only as an oracle,
# whose branches would steer the fuzzer away from what it tests, at a cost.
FUZZ_LIB := $(LIB_SRCS)
FUZZ_EXPORT := export/playback.c export/convert.c export/perfetto.c export/svg.c \
	       export/svg_draw.c export/perfetto_pb.c export/pb.c
FUZZ_SRCS_reader := $(FUZZ_LIB) $(FUZZ_EXPORT)
FUZZ_SRCS_convert := $(FUZZ_LIB) $(FUZZ_EXPORT)
FUZZ_SRCS_space := $(FUZZ_LIB)
FUZZ_SRCS_infer := $(FUZZ_LIB)
# chan reads back each timeline it made: thousands of lines an input, through the reader.
FUZZ_NOCOV_chan := lib/jsonin.c lib/reader.c lib/reader_items.c export/playback.c
FUZZ_SRCS_chan := $(filter-out $(FUZZ_NOCOV_chan),$(FUZZ_LIB)) tracer/chan.c tracer/trace.c \
		   tracer/trace_merge.c \
		   tracer/trace_go.c tracer/procmaps.c tracer/trace_summary.c \
		   tui/live.c
FUZZ_SRCS_zread := $(FUZZ_LIB)

FUZZ_BINS := $(FUZZ_ALL:%=$(FUZZ_DIR)/fuzz_%)

$(FUZZ_DIR)/obj/%.o: %.c | fuzz-toolchain
	$(call msg,FUZZ-CC,$<)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/obj-nocov/%.o: %.c | fuzz-toolchain
	$(call msg,FUZZ-CC,$< (no coverage))
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS_NOCOV) -c $< -o $@

define FUZZ_LINK
$(FUZZ_DIR)/fuzz_$(1): $(FUZZ_DIR)/obj/tests/fuzz/fuzz_$(1).o $(FUZZ_SRCS_$(1):%.c=$(FUZZ_DIR)/obj/%.o) \
		$(FUZZ_NOCOV_$(1):%.c=$(FUZZ_DIR)/obj-nocov/%.o)
	$$(call msg,FUZZ-LD,$$@)
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$^ -lpthread $(ZSTD_LIBS)
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call FUZZ_LINK,$(t))))

.PHONY: fuzz fuzz-build fuzz-ci fuzz-toolchain
fuzz-toolchain:
	$(Q)$(FUZZ_PROBE) || { echo "memstate: make fuzz needs clang with libFuzzer" \
		"(apt-get install clang libclang-rt-14-dev)" >&2; false; }

fuzz-build: fuzz-toolchain $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

fuzz: fuzz-build
	$(Q)FUZZ_DIR=$(FUZZ_DIR) FUZZ_TIME=$(FUZZ_TIME) FUZZ_SEED=$(FUZZ_SEED) \
		tests/fuzz/run.sh $(FUZZ_TARGETS)

# CI: the kept inputs once, then FUZZ_TIME s of each target (30 unless given on the
# command line); exit 1 on any crash, leak, timeout or out-of-memory. With a fixed seed, so
# that a commit's verdict is the same on every run (a crash CI finds is found again by
# whoever reruns it); `make fuzz` draws a new seed each time and is where new bugs are found.
fuzz-ci: FUZZ_TIME = 30
fuzz-ci: FUZZ_SEED = 1
fuzz-ci: fuzz

-include $(shell find $(FUZZ_DIR)/obj $(FUZZ_DIR)/obj-nocov -name '*.d' 2>/dev/null)
