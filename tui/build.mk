# tui/: the ncurses state map (`memstate run --tui`, `memstate view`) and its model.
#
# The model is plain C and always builds (the unit tests link it).
TUI_CORE_OBJS := $(addprefix $(BUILD)/obj/tui/,model.o)

# Unit tests of the model link the plain-C objects.
$(BUILD)/tests/test_tui%: $(BUILD)/obj/tests/unit/test_tui%.o $(TUI_CORE_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
