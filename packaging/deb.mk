# make deb: $(BUILD)/otelauto_$(VERSION)_$(ARCH).deb, a binary Debian package
# of what `make install PREFIX=/usr` installs (packaging/build-deb.sh adds the
# control file, with Depends worked out from the ELF files). Included from
# packaging/install.mk.
#
# Recursive (=) on purpose: dpkg and the header are consulted only when a
# package is made, not by every make run.
OA_VERSION_STR = $(shell sed -n 's/^\#define OA_VERSION "\(.*\)"$$/\1/p' src/base/common.h)
DEB_ARCH       = $(shell dpkg --print-architecture)
DEB_ROOT       = $(BUILD)/deb-root
DEB            = $(BUILD)/otelauto_$(OA_VERSION_STR)_$(DEB_ARCH).deb

.PHONY: deb
# The staging folder is made anew each time: a file dropped from install
# must not linger in the package.
deb: lib $(OA_TOOL)
	@test -n "$(OA_VERSION_STR)" || { echo "no OA_VERSION in src/base/common.h" >&2; exit 1; }
	rm -rf $(DEB_ROOT)
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(DEB_ROOT)) PREFIX=/usr
	packaging/build-deb.sh $(DEB_ROOT) $(OA_VERSION_STR) $(DEB)
