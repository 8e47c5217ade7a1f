# tracer/: the memstate CLI (dispatcher, run, attach) and the ptrace fallback source.
TRACER_SRCS := $(wildcard tracer/*.c)
CLI_OBJS += $(TRACER_SRCS:%.c=$(BUILD)/obj/%.o)
