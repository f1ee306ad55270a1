# The early-constructor test programs (included by the top-level Makefile):
# a library whose constructor does network I/O, and a program that needs it.
EARLY_LIB    := $(BUILD)/programs/libearly_connect.so
EARLY_CALLER := $(BUILD)/programs/early_caller

$(EARLY_LIB): tests/programs/early/early_connect.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(LDFLAGS_SAN)

$(EARLY_CALLER): tests/programs/early/early_caller.c $(EARLY_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(dir $(EARLY_LIB)) -learly_connect -Wl,-rpath,'$$ORIGIN' $(LDFLAGS_SAN)

programs: $(EARLY_CALLER)
