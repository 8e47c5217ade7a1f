# tracer/: the memstate CLI (dispatcher, run, attach) and the ptrace fallback source.
TRACER_SRCS := $(wildcard tracer/*.c)
CLI_OBJS += $(TRACER_SRCS:%.c=$(BUILD)/obj/%.o)
# Go uprobes read compressed DWARF (the Go linker's default) with zlib.
CLI_LIBS += -lz
