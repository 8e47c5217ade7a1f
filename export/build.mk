# export/: the one place that writes and reads timelines, and the commands on saved ones
# (memstate check, report, convert). The writer (writer.c, jsonbuf.c) is part of the library;
# the reader, the playback engine and the commands join the CLI here. Only `report` needs
# cJSON (it builds --json with it); without its headers report is left out and the CLI
# says what to install, the rest still builds.
EXPORT_CJSON_OK := $(wildcard /usr/include/cjson/cJSON.h)

# Reading and replaying: the commands, the TUI's `memstate view`, tests and benchmarks.
EXPORT_READ_OBJS := $(addprefix $(BUILD)/obj/export/,playback.o)
EXPORT_CMD_OBJS := $(addprefix $(BUILD)/obj/tracer/,cmd_check.o cmd_convert.o cmd_diff.o verdict.o) \
		   $(addprefix $(BUILD)/obj/export/,convert.o perfetto.o perfetto_pb.o pb.o svg.o svg_draw.o metrics.o diff.o html.o)

CLI_OBJS += $(EXPORT_READ_OBJS) $(EXPORT_CMD_OBJS)
ifneq ($(EXPORT_CJSON_OK),)
CLI_OBJS += $(BUILD)/obj/tracer/cmd_report.o $(BUILD)/obj/tracer/cmd_report_out.o
CLI_LIBS += -lcjson
endif

# Unit tests of the reader (and the other export parts) link the export objects.
$(BUILD)/tests/test_reader: $(BUILD)/obj/tests/unit/test_reader.o $(EXPORT_READ_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_export%: $(BUILD)/obj/tests/unit/test_export%.o $(EXPORT_READ_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcjson

# The protobuf encoder's own test.
$(BUILD)/tests/test_pb: $(BUILD)/obj/tests/unit/test_pb.o $(BUILD)/obj/export/pb.o $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The export benchmark reads and replays too.
$(BUILD)/bench/bench_export: $(BUILD)/obj/bench/bench_export.o $(EXPORT_READ_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm
