# export/: the one place that writes and reads timelines, and the commands on saved ones
# (memstate check, report, convert). The writer (writer.c, jsonbuf.c) is part of the library;
# the reader, the playback engine and the commands join the CLI here. cJSON builds
# `report --json`; without its headers the commands are left out (the CLI says so).
EXPORT_CJSON_OK := $(wildcard /usr/include/cjson/cJSON.h)

# Reading and replaying (no cJSON): the TUI's `memstate view` and the tests link these.
EXPORT_READ_OBJS := $(addprefix $(BUILD)/obj/export/,jsonin.o reader.o)
EXPORT_READ_OBJS += $(BUILD)/obj/export/playback.o
EXPORT_CMD_OBJS := $(addprefix $(BUILD)/obj/export/,cmd_check.o cmd_report.o cmd_convert.o \
		   perfetto.o svg.o)

ifneq ($(EXPORT_CJSON_OK),)
CLI_OBJS += $(EXPORT_READ_OBJS) $(EXPORT_CMD_OBJS)
CLI_LIBS += -lcjson
endif

# Unit tests of the reader (and the other export parts) link the export objects.
$(BUILD)/tests/test_reader: $(BUILD)/obj/tests/unit/test_reader.o $(EXPORT_READ_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcjson

$(BUILD)/tests/test_export%: $(BUILD)/obj/tests/unit/test_export%.o $(EXPORT_READ_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcjson

# The export benchmark reads and replays too.
$(BUILD)/bench/bench_export: $(BUILD)/obj/bench/bench_export.o $(EXPORT_READ_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm
