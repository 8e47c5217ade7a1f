# tracer/: the memstate CLI (dispatcher, run, attach) and the ptrace fallback source.
# The subcommands on saved timelines join the CLI with the folders they need (export/build.mk:
# check, convert, report; tui/build.mk: view).
TRACER_CMD_SRCS := tracer/cmd_check.c tracer/cmd_convert.c tracer/cmd_report.c tracer/cmd_report_out.c tracer/cmd_view.c \
	tracer/cmd_diff.c tracer/verdict.c
TRACER_SRCS := $(filter-out $(TRACER_CMD_SRCS),$(wildcard tracer/*.c))
CLI_OBJS += $(TRACER_SRCS:%.c=$(BUILD)/obj/%.o)

# The rules below come before the top Makefile's `all`: keep `make` meaning `make all`.
.DEFAULT_GOAL := all

# samples/go: the Go sample the Go uprobe tests trace, built with the Debian toolchain
# (golang-1.19-go, scripts/deps.sh) or a `go` on PATH; left out when there is none.
# Standard library only: no network (GOPROXY=off), caches inside the build folder.
GO ?= $(firstword $(wildcard /usr/lib/go-1.19/bin/go) $(shell command -v go 2>/dev/null))
GO_SAMPLE := $(BUILD)/samples/go/gophases
GO_ENV = GOCACHE=$(abspath $(BUILD))/go/cache GOPATH=$(abspath $(BUILD))/go/path \
	GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOTELEMETRY=off CGO_ENABLED=0

ifneq ($(GO),)
samples: $(GO_SAMPLE)

$(GO_SAMPLE): $(wildcard samples/go/*.go) samples/go/go.mod tracer/build.mk
	$(call msg,GO,$@)
	@mkdir -p $(@D)
	$(Q)cd samples/go && $(GO_ENV) $(GO) build -trimpath -o $(abspath $@) .
endif

# The merge and what it needs, for the unit tests that drive it (test_go: bpf/build.mk).
TRACER_TRACE_OBJS := $(addprefix $(BUILD)/obj/tracer/,trace.o trace_merge.o trace_go.o procmaps.o trace_summary.o) \
		     $(BUILD)/obj/tui/live.o
$(BUILD)/tests/test_trace: $(BUILD)/obj/tests/unit/test_trace.o $(TRACER_TRACE_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)
