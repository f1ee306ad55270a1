# make install / make uninstall, included from the top Makefile.
#   make install   PREFIX=/usr/local (default) DESTDIR= (staging root, default none)
#   make uninstall the same two variables: removes exactly what install put there
#
# Layout under $(DESTDIR)$(PREFIX):
#   lib/otelauto/hints/node/otelauto-hint.js, hints/python/sitecustomize.py,
#       hints/java/otelauto-hint.jar (when built: a JDK was there)
#       the runtime hints' modules, found beside the shim
#   lib/otelauto/libotelauto.so, libotelauto-otlp.so   private folder: not on the
#       loader's path, since the shim is only ever named in LD_PRELOAD (by the
#       otelauto command, which finds it at ../lib/otelauto from its own
#       executable), and the OTLP object is dlopen'ed from beside the shim
#   bin/otelauto
#   share/man/man1/otelauto.1.gz, share/man/man7/otelauto.7.gz
#   share/doc/otelauto/README.md, recipes/ (when docs/recipes exists)
#
# install only copies: everything it needs is a prerequisite built by the
# ordinary rules, so `make && sudo make install` compiles nothing as root.
# The man pages are compressed straight into the destination for the same
# reason (no root-owned files left in $(BUILD)).

PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL ?= install

OA_TOOL := $(BUILD)/otelauto

inst_libdir := $(DESTDIR)$(PREFIX)/lib/otelauto
inst_bindir := $(DESTDIR)$(PREFIX)/bin
inst_man1   := $(DESTDIR)$(PREFIX)/share/man/man1
inst_man7   := $(DESTDIR)$(PREFIX)/share/man/man7
inst_docdir := $(DESTDIR)$(PREFIX)/share/doc/otelauto

# docs/recipes is optional; its files keep their sub-folders.
RECIPE_FILES := $(shell find docs/recipes -type f 2>/dev/null | LC_ALL=C sort)
RECIPE_DIRS  := $(shell find docs/recipes -type d 2>/dev/null | LC_ALL=C sort -r)

# Everything install creates, for uninstall.
INSTALLED_FILES := $(inst_libdir)/libotelauto.so $(inst_libdir)/libotelauto-otlp.so \
                   $(patsubst %,$(inst_libdir)/%,$(HINT_SRCS)) \
                   $(inst_libdir)/hints/java/otelauto-hint.jar \
                   $(inst_bindir)/otelauto \
                   $(inst_man1)/otelauto.1.gz $(inst_man7)/otelauto.7.gz \
                   $(inst_docdir)/README.md \
                   $(patsubst docs/%,$(inst_docdir)/%,$(RECIPE_FILES))
# Folders that are ours alone, deepest first; bin/ and the man sections are
# shared with other packages and stay.
PRIVATE_DIRS := $(patsubst docs/%,$(inst_docdir)/%,$(RECIPE_DIRS)) $(inst_docdir) \
                $(inst_libdir)/hints/node $(inst_libdir)/hints/python $(inst_libdir)/hints/java $(inst_libdir)/hints $(inst_libdir)

.PHONY: install uninstall
install: lib $(OA_TOOL) docs/man/otelauto.1 docs/man/otelauto.7
	$(INSTALL) -D -m 0644 $(LIB) $(inst_libdir)/libotelauto.so
	$(INSTALL) -D -m 0644 $(OTLP_LIB) $(inst_libdir)/libotelauto-otlp.so
	$(foreach f,$(HINT_SRCS),$(INSTALL) -D -m 0644 $(f) $(inst_libdir)/$(f) &&) true
	$(if $(filter $(HINT_JAR),$(HINTS)),$(INSTALL) -D -m 0644 $(HINT_JAR) $(inst_libdir)/hints/java/otelauto-hint.jar)
	$(INSTALL) -D -m 0755 $(OA_TOOL) $(inst_bindir)/otelauto
	$(INSTALL) -d -m 0755 $(inst_man1) $(inst_man7)
	gzip -9n -c docs/man/otelauto.1 >$(inst_man1)/otelauto.1.gz
	gzip -9n -c docs/man/otelauto.7 >$(inst_man7)/otelauto.7.gz
	chmod 0644 $(inst_man1)/otelauto.1.gz $(inst_man7)/otelauto.7.gz
	$(INSTALL) -D -m 0644 README.md $(inst_docdir)/README.md
	$(if $(RECIPE_FILES),$(foreach f,$(RECIPE_FILES),$(INSTALL) -D -m 0644 $(f) $(patsubst docs/%,$(inst_docdir)/%,$(f)) &&) true)

# Only folders left empty go: a file someone else put there keeps its folder.
uninstall:
	rm -f $(INSTALLED_FILES)
	@for d in $(PRIVATE_DIRS); do \
	    if [ -d "$$d" ]; then rmdir --ignore-fail-on-non-empty "$$d"; fi; \
	done

# make deb: the same files as a Debian package
include packaging/deb.mk
