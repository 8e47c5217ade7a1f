# memstate: one `make` builds everything that exists; all output goes to build/.
#
#   make            library, tools, samples, tests (BPF=0 leaves the eBPF probe out)
#   make demo       install missing Debian packages (root), build, run goheap
#   make test       same set-up, then every test; ends with "N passed, N failed"
#   make bench      benchmarks (figures go to BENCHMARKS.md by hand)
#   make lint       clang-format check and cppcheck
#   make install PREFIX=/usr/local
#   make SANITIZE=1 ASan + UBSan build (in build/asan)
#   make test-sanitize  that build, then every test against it; any sanitizer report fails

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build/asan
else
BUILD ?= build
endif
PREFIX ?= /usr/local
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wno-unused-parameter -Wmissing-prototypes \
	  -Wstrict-prototypes -fno-strict-aliasing -fPIC -D_GNU_SOURCE
CPPFLAGS += -Ilib/include -I. -MMD -MP
LDLIBS += -lpthread
# Test programs stand for uninstrumented programs: they link nothing of ours.
PROG_LDLIBS := $(LDLIBS)
# zstd timelines (lib/zio.c) with libzstd when pkg-config finds it; ZSTD=0 builds without
# (a .zst output or input is then refused with a message).
ZSTD ?= $(if $(shell $(PKG_CONFIG) --exists libzstd 2>/dev/null && echo y),1,0)
ifeq ($(ZSTD),1)
ZSTD_CPPFLAGS := $(shell $(PKG_CONFIG) --cflags libzstd)
ZSTD_LIBS := $(shell $(PKG_CONFIG) --libs libzstd)
else
ZSTD_CPPFLAGS := -DMS_ZIO_ZSTD=0
endif
CPPFLAGS += $(ZSTD_CPPFLAGS)
LDLIBS += $(ZSTD_LIBS)
# Test programs stand for programs no one instrumented: never sanitized (nor could a
# static one link the sanitizer runtime).
PROG_CFLAGS := $(CFLAGS)
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

Q := $(if $(V),,@)
msg = @printf '  %-8s %s\n' "$(1)" "$(2)"

# ---------------------------------------------------------------- the library
LIB_SRCS := lib/util.c lib/names.c lib/ring.c lib/tree.c lib/extent.c lib/resident.c lib/space.c lib/space_query.c lib/space_res.c lib/pagemap.c lib/sys.c lib/infer.c lib/channel.c lib/proctab.c \
	    lib/jsonbuf.c lib/writer.c lib/jsonin.c lib/reader.c lib/reader_items.c lib/thp_scan.c lib/zio.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB_A := $(BUILD)/lib/libmemstate.a
LIB_SO := $(BUILD)/lib/libmemstate.so.0
LIB_SO_LINK := $(BUILD)/lib/libmemstate.so

# ---------------------------------------------------------------- the memstate CLI
# Each folder's build.mk adds its objects to CLI_OBJS and its libraries to CLI_LIBS;
# a folder that cannot be built here (BPF=0, missing headers) adds nothing, and the
# commands it owns say so at run time.
CLI_OBJS :=
CLI_LIBS :=
# EXPORT=0 / BPF=0 leave a folder's commands out (as a missing library does); TUI=0 leaves
# the curses part out (view, run --tui).
include tracer/build.mk
ifneq ($(EXPORT),0)
-include export/build.mk
endif
-include tui/build.mk
-include bpf/build.mk
MEMSTATE := $(BUILD)/bin/memstate

# ---------------------------------------------------------------- samples
SAMPLE_SRCS := samples/goheap.c $(wildcard samples/zoo/*.c)
SAMPLES := $(SAMPLE_SRCS:samples/%.c=$(BUILD)/samples/%)
# Sanitized samples skip the leak check while a tracer is attached (it cannot run then).
SAMPLE_SAN_OBJS := $(if $(filter 1,$(SANITIZE)),$(BUILD)/obj/tests/san/lsan_traced.o)

# ---------------------------------------------------------------- unit tests
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNITS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

# ---------------------------------------------------------------- test programs
# Small programs the tests trace (raw syscall sequences, crashes...). No libmemstate:
# they stand for programs no one instrumented. STATIC_PROGS are also linked -static, as
# NAME_static, from the same source.
PROG_SRCS := $(wildcard tests/progs/*.c)
STATIC_PROGS := rawseq
PROGS := $(PROG_SRCS:tests/progs/%.c=$(BUILD)/tests/progs/%) \
	 $(STATIC_PROGS:%=$(BUILD)/tests/progs/%_static)

# ---------------------------------------------------------------- benchmarks
BENCH_SRCS := $(wildcard bench/bench_*.c)
BENCHES := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all lib cli samples units progs benches deps demo test test-sanitize bench bench-quick lint format install uninstall clean
all: lib cli samples units progs benches

lib: $(LIB_A) $(LIB_SO_LINK)
cli: $(MEMSTATE)
samples: $(SAMPLES)
units: $(UNITS)
progs: $(PROGS)
benches: $(BENCHES)

$(BUILD)/obj/%.o: %.c
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	$(call msg,AR,$@)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -shared -Wl,-soname,libmemstate.so.0 $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIB_SO_LINK): $(LIB_SO)
	$(Q)ln -sf libmemstate.so.0 $@

$(MEMSTATE): $(CLI_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB_A) $(CLI_LIBS) $(LDLIBS)

$(BUILD)/samples/%: $(BUILD)/obj/samples/%.o $(SAMPLE_SAN_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcjson

$(BUILD)/obj/tests/progs/%.o: tests/progs/%.c
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(PROG_CFLAGS) -c $< -o $@

$(BUILD)/tests/progs/%_static: $(BUILD)/obj/tests/progs/%.o
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -static -o $@ $^ $(PROG_LDLIBS)

$(BUILD)/tests/progs/%: $(BUILD)/obj/tests/progs/%.o
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(PROG_LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm

# ---------------------------------------------------------------- user-facing jobs
# deps, demo and test re-enter make after installing packages, so that what the install
# brought (clang, bpftool...) is seen by the build.
deps:
	$(Q)scripts/deps.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) scripts/demo.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/run.sh

# The same suite against an ASan + UBSan + LeakSanitizer build, in its own folder (the
# normal build is left alone). tests/run.sh sees the sanitized memstate and fails a suite
# for each report any process of it left; the test programs stay unsanitized.
SAN_BUILD := $(if $(filter 1,$(SANITIZE)),$(BUILD),$(BUILD)/asan)
test-sanitize: deps
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 BUILD=$(SAN_BUILD) all
	$(Q)BUILD=$(SAN_BUILD) tests/run.sh

bench: all
	$(Q)BUILD=$(BUILD) bench/run.sh

# Instruction counts of the hot paths against bench/baseline.txt: fails on a >2x
# regression only (CI runs it; wall time is never a test).
bench-quick: all
	$(Q)BUILD=$(BUILD) bench/quick.sh

# Every C folder: clang-format, the layers on the includes (docs/architecture.md), cppcheck
# (the BPF program is clang -target bpf code over vmlinux.h: format-checked only).
LINT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
LINT_DIRS := lib bpf export tracer tui tests bench samples
lint:
	$(call msg,FORMAT,check)
	$(Q)clang-format --dry-run -Werror $(LINT_SRCS)
	$(call msg,LAYERS,check)
	$(Q)scripts/check_layers.sh
	$(call msg,CPPCHECK,$(LINT_DIRS))
	$(Q)cppcheck -q --error-exitcode=1 --enable=warning,portability,performance \
		--inline-suppr --std=c11 -Ilib/include -I. -D__GNUC__ \
		--suppress=missingIncludeSystem --include=scripts/cppcheck.h \
		-i bpf/memstate.bpf.c $(LINT_DIRS)

format:
	$(Q)clang-format -i $(LINT_SRCS)

install: lib cli
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/memstate \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(MEMSTATE) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 docs/memstate.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libmemstate.so.0 $(DESTDIR)$(PREFIX)/lib/libmemstate.so
	install -m 644 lib/include/memstate/*.h $(DESTDIR)$(PREFIX)/include/memstate/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBS_PRIVATE@|$(LDLIBS)|' lib/memstate.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/memstate.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libmemstate.* $(DESTDIR)$(PREFIX)/lib/pkgconfig/memstate.pc
	rm -f $(DESTDIR)$(PREFIX)/bin/memstate $(DESTDIR)$(PREFIX)/share/man/man1/memstate.1
	rm -rf $(DESTDIR)$(PREFIX)/include/memstate

clean:
	rm -rf build

-include tests/fuzz/build.mk
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Objects built through pattern rules are kept (make would delete them as intermediates,
# and rebuild them all on the next change).
.SECONDARY:

# ---------------------------------------------------------------- jemalloc adapter
# libmemstate-jemalloc.so: preloaded by `memstate run` into programs on a dynamic jemalloc
# (docs/jemalloc.md). It carries the channel code it needs, and nothing that allocates.
JE_ADAPTER := $(BUILD)/lib/libmemstate-jemalloc.so
# Never sanitized: it is preloaded into programs that have no sanitizer runtime.
JE_ADAPTER_OBJS := $(BUILD)/obj/jeadapter/lib/jemalloc/adapter.o \
		   $(BUILD)/obj/jeadapter/lib/channel.o $(BUILD)/obj/jeadapter/lib/ring.o
all: $(JE_ADAPTER)
lib: $(JE_ADAPTER)

$(BUILD)/obj/jeadapter/%.o: %.c
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(PROG_CFLAGS) -c $< -o $@

$(JE_ADAPTER): $(JE_ADAPTER_OBJS) lib/jemalloc/exports.map
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -shared -Wl,-soname,libmemstate-jemalloc.so \
		-Wl,--version-script=lib/jemalloc/exports.map -o $@ $(JE_ADAPTER_OBJS) -ldl $(LDLIBS)

# Test programs on jemalloc (tests/progs/je_*.c) link Debian's libjemalloc.
$(BUILD)/tests/progs/je_%: $(BUILD)/obj/tests/progs/je_%.o
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ -ljemalloc $(LDLIBS)
