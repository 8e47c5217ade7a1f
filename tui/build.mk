# tui/: the ncurses state map (`memstate run --tui`, `memstate view`) and its model.
#
# The model, the replay engine, the live feed and the scan step are plain C and always
# build (the unit tests link them).
TUI_CORE_OBJS := $(addprefix $(BUILD)/obj/tui/,model.o replay.o live.o scan.o)

# Unit tests of the model, the replay engine and the live feed link the plain-C objects.
$(BUILD)/tests/test_tui%: $(BUILD)/obj/tests/unit/test_tui%.o $(TUI_CORE_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
