# bpf/: the eBPF capture probe (ms_src_ebpf), built as libbpf-bootstrap builds its tools:
#   vmlinux.h (bpftool, from the running kernel's BTF) -> memstate.bpf.o (clang -target bpf)
#   -> memstate.skel.h (bpftool gen skeleton) -> probe.o, linked into the memstate CLI.
#
# Left out, without failing the rest of the build, with BPF=0 on the command line or when
# clang, bpftool, libbpf's headers or the kernel BTF are missing. Then test_ebpf and
# bench_ebpf still build, without the probe, and report their cases as skipped.

BPF ?= 1
BPF_VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
BPF_HAVE := $(and $(filter-out 0,$(BPF)),$(shell command -v $(CLANG) 2>/dev/null),\
	$(shell command -v $(BPFTOOL) 2>/dev/null),$(wildcard /usr/include/bpf/libbpf.h),\
	$(wildcard $(BPF_VMLINUX_BTF)))

# Programs linked against the probe or without it (test_ebpf, bench_ebpf) depend on this
# one-word file, rewritten only when the choice changes, so that switching BPF=0 on or off
# relinks them instead of leaving a binary of the other kind in place.
BPF_MODE_FILE := $(BUILD)/bpf/mode
BPF_MODE := $(if $(BPF_HAVE),on,off)
$(shell mkdir -p $(BUILD)/bpf && { [ "$$(cat $(BPF_MODE_FILE) 2>/dev/null)" = $(BPF_MODE) ] || \
	echo $(BPF_MODE) > $(BPF_MODE_FILE); })

# The Go uprobe code (which functions to probe, reading the binary) is plain C: it always
# builds, and finds the probe's attach functions (weak) only when the probe is built.
# Go uprobes read the binary with libelf, and compressed DWARF (the Go linker's default)
# with zlib: both on every link line, with or without the probe.
BPF_GO_OBJS := $(addprefix $(BUILD)/obj/bpf/,go.o go_elf.o go_x86.o go_dwarf.o)
CLI_OBJS += $(BPF_GO_OBJS)
CLI_LIBS += -lelf -lz

# The Go unit test drives the Go code and the tracer's merge without eBPF.
$(BUILD)/tests/test_go: $(BUILD)/obj/tests/unit/test_go.o $(BPF_GO_OBJS) $(TRACER_TRACE_OBJS) \
		$(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS) -lcjson -lelf -lz

ifneq ($(BPF_HAVE),)

BPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/riscv64/riscv/' -e 's/s390x/s390/')
BPF_OUT := $(BUILD)/bpf
BPF_SKEL := $(BPF_OUT)/memstate.skel.h
BPF_USER_OBJS := $(addprefix $(BUILD)/obj/bpf/,probe.o features.o ktypes.o)
BPF_LIBS := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz

CLI_OBJS += $(BPF_USER_OBJS)
CLI_LIBS += $(BPF_LIBS)

$(BPF_OUT)/vmlinux.h: $(BPF_VMLINUX_BTF)
	$(call msg,BTF,$@)
	@mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file $< format c > $@.tmp && mv $@.tmp $@

# bpftool gen object (the BPF static linker) keeps BTF and drops the DWARF that -g adds,
# so the skeleton embeds a small object.
$(BPF_OUT)/memstate.bpf.o: bpf/memstate.bpf.c bpf/go.bpf.h bpf/probe.h bpf/build.mk \
		$(BPF_OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(BPF_ARCH) \
		-I$(BPF_OUT) -Ibpf -c $< -o $(@:.o=.tmp.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.o=.tmp.o)

$(BPF_SKEL): $(BPF_OUT)/memstate.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name memstate_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/bpf/probe.o: $(BPF_SKEL)
$(BUILD)/obj/bpf/probe.o: CPPFLAGS += -I$(BPF_OUT)

# Programs that drive the probe directly need its objects and libbpf: these explicit
# rules win over the generic unit-test and benchmark pattern rules.
$(BUILD)/tests/test_ebpf: $(BUILD)/obj/tests/unit/test_ebpf.o $(BPF_USER_OBJS) \
		$(BUILD)/obj/lib/thp_scan.o $(LIB_A) $(BPF_MODE_FILE)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(BPF_LIBS) $(LDLIBS)

# The in-place BTF reader against libbpf's parse.
$(BUILD)/tests/test_ktypes: $(BUILD)/obj/tests/unit/test_ktypes.o $(BUILD)/obj/bpf/ktypes.o \
		$(LIB_A) $(BPF_MODE_FILE)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(BPF_LIBS) $(LDLIBS)

$(BUILD)/bench/bench_ebpf: $(BUILD)/obj/bench/bench_ebpf.o $(BPF_USER_OBJS) $(LIB_A) \
		$(BPF_MODE_FILE)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(BPF_LIBS) $(LDLIBS) -lm

else

# Without the probe: the same programs, whose cases then report themselves skipped.
$(BUILD)/tests/test_ebpf: $(BUILD)/obj/tests/unit/test_ebpf.o $(LIB_A) $(BPF_MODE_FILE)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

# Without libbpf: the cut and altered copies only.
$(BUILD)/obj/tests/unit/test_ktypes.o: CPPFLAGS += -DMS_NO_LIBBPF
$(BUILD)/tests/test_ktypes: $(BUILD)/obj/tests/unit/test_ktypes.o $(BUILD)/obj/bpf/ktypes.o \
		$(LIB_A) $(BPF_MODE_FILE)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

$(BUILD)/bench/bench_ebpf: $(BUILD)/obj/bench/bench_ebpf.o $(LIB_A) $(BPF_MODE_FILE)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS) -lm

endif
