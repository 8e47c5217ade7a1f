# tui/: the ncurses state map (`memstate run --tui`, `memstate view`) and its model.
#
# The model, the replay engine, the live feed and the demo producer are plain C and always
# build (the unit tests and benchmarks link them). The curses part joins the CLI only when
# the curses headers are there; without them `memstate view` reports that it is not built.
TUI_HASH := \#
TUI_CURSES_OK := $(if $(filter 0,$(TUI)),,$(shell echo '$(TUI_HASH)include <curses.h>' | \
		   $(CC) -E -x c - >/dev/null 2>&1 && echo y))
TUI_CURSES_LIBS := $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null || \
		     $(PKG_CONFIG) --libs ncurses 2>/dev/null || echo -lncurses)

TUI_CORE_OBJS := $(addprefix $(BUILD)/obj/tui/,model.o replay.o live.o scan.o demo.o)
TUI_UI_OBJS := $(addprefix $(BUILD)/obj/tui/,screen.o panels.o ui.o) $(BUILD)/obj/tracer/cmd_view.o

# The producer side (live.c) always joins the CLI: `memstate run --tui` feeds it; without
# curses tui/noui.c stands in for the drawing and says it is not built.
CLI_OBJS += $(TUI_CORE_OBJS)
ifeq ($(TUI_CURSES_OK),y)
CLI_OBJS += $(TUI_UI_OBJS)
CLI_LIBS += $(TUI_CURSES_LIBS)
TUI_BENCH_OBJS := $(TUI_CORE_OBJS) $(addprefix $(BUILD)/obj/tui/,screen.o panels.o ui.o)
TUI_BENCH_LIBS := $(TUI_CURSES_LIBS)
$(BUILD)/obj/bench/bench_tui.o: CPPFLAGS += -DMS_HAVE_CURSES
else
CLI_OBJS += $(BUILD)/obj/tui/noui.o
TUI_BENCH_OBJS := $(TUI_CORE_OBJS)
TUI_BENCH_LIBS :=
endif

# Unit tests of the model, the replay engine and the live feed link the plain-C objects.
$(BUILD)/tests/test_tui%: $(BUILD)/obj/tests/unit/test_tui%.o $(TUI_CORE_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Frame-building and live-rate benchmarks (they draw into curses when it is there).
$(BUILD)/bench/bench_tui: $(BUILD)/obj/bench/bench_tui.o $(TUI_BENCH_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(TUI_BENCH_LIBS) $(LDLIBS) -lm
