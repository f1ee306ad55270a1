# The otelauto command (tools/otelauto/), included by the top-level Makefile:
#   $(BUILD)/otelauto   run, doctor, tail, version, help
# It links the protobuf-c code generated from proto/ (for `tail`), the same
# objects the OTLP exporter object is made of, and nothing of the shim.

OTELAUTO_CMD       := $(BUILD)/otelauto
OTELAUTO_CMD_SRCS  := $(wildcard tools/otelauto/*.c)
OTELAUTO_CMD_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(OTELAUTO_CMD_SRCS))
OTELAUTO_PROTO_OBJS := $(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(PROTO_C))

$(OTELAUTO_CMD): $(OTELAUTO_CMD_OBJS) $(OTELAUTO_PROTO_OBJS)
	$(CC) $(OPT) $(LTO) -o $@ $^ $(LDFLAGS_SAN) -lprotobuf-c -lz

lib: $(OTELAUTO_CMD)
