# mixkern as a C library.
#
#   make                                  build target/c/: libmixkern.a and libmixkern.so*
#   make install PREFIX=/usr/local        install header, both libraries and mixkern.pc
#   make install-static PREFIX=...        header, static library and mixkern.pc only
#   make install-shared PREFIX=...        header, shared library and mixkern.pc only
#   make uninstall PREFIX=...
#   make bare-metal TARGET=thumbv7em-none-eabihf
#                                         a no_std libmixkern.a for a C firmware
#
# Then compile with `pkg-config --cflags --libs mixkern` (add --static for a static link).
#
# The shared library has the SONAME libmixkern.so.MAJOR.MINOR while the major version is 0
# (every 0.x minor version may break the API), libmixkern.so.MAJOR after that. Both libraries
# export only the mk_ functions: the static one is partially linked (ld -r, unused sections
# dropped), stripped of its debug information and embedded LLVM bitcode, and every other global
# symbol (Rust std, compiler-rt) made local, so it cannot clash with another Rust static library
# in the same link. Needs GNU binutils (Linux).

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CARGO ?= cargo
TARGET ?= thumbv7em-none-eabihf

TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
OUT := $(TARGET_DIR)/c
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
MINOR := $(word 2,$(subst ., ,$(VERSION)))
SOVERSION := $(if $(filter 0,$(MAJOR)),$(MAJOR).$(MINOR),$(MAJOR))
SONAME := libmixkern.so.$(SOVERSION)
REALNAME := libmixkern.so.$(VERSION)
LIBS_PRIVATE := -lpthread -ldl -lm

.PHONY: all install install-static install-shared install-header uninstall bare-metal

all: $(OUT)/libmixkern.a $(OUT)/$(REALNAME)

# One compilation gives both libraries; the SONAME goes to the shared library's link.
$(TARGET_DIR)/release/libmixkern.a $(TARGET_DIR)/release/libmixkern.so: FORCE
	$(CARGO) rustc --release --lib --crate-type staticlib,cdylib -- \
		-C link-arg=-Wl,-soname,$(SONAME)

$(OUT)/$(REALNAME): $(TARGET_DIR)/release/libmixkern.so
	mkdir -p $(OUT)
	cp $< $@
	ln -sf $(REALNAME) $(OUT)/$(SONAME)
	ln -sf $(SONAME) $(OUT)/libmixkern.so

# The exported names are the shared library's (Rust exports only the mk_ functions there).
$(OUT)/exports.txt: $(TARGET_DIR)/release/libmixkern.so
	mkdir -p $(OUT)
	readelf -sW --dyn-syms $< | awk '$$5 == "GLOBAL" && $$7 != "UND" { print $$8 }' \
		| sed 's/@.*//' | sort -u > $@
	grep -q '^mk_' $@

$(OUT)/libmixkern.a: $(TARGET_DIR)/release/libmixkern.a $(OUT)/exports.txt
	ld -r --whole-archive $< --gc-sections $(addprefix -u ,$(shell cat $(OUT)/exports.txt)) \
		-o $(OUT)/mixkern.o
	objcopy --strip-debug --remove-section=.llvmbc --remove-section=.llvmcmd \
		--keep-global-symbols=$(OUT)/exports.txt $(OUT)/mixkern.o
	rm -f $@
	ar rcs $@ $(OUT)/mixkern.o

install: install-static install-shared

# The header and a pkg-config file that points at this PREFIX.
install-header:
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/mixkern.h $(DESTDIR)$(INCLUDEDIR)/mixkern.h
	printf '%s\n' \
		'prefix=$(PREFIX)' \
		'libdir=$(LIBDIR)' \
		'includedir=$(INCLUDEDIR)' \
		'' \
		'Name: mixkern' \
		'Description: Allocation-free kernels for learning finite mixture models (C ABI)' \
		'Version: $(VERSION)' \
		'Libs: -L$${libdir} -lmixkern' \
		'Libs.private: $(LIBS_PRIVATE)' \
		'Cflags: -I$${includedir}' > $(DESTDIR)$(PKGCONFIGDIR)/mixkern.pc

install-static: $(OUT)/libmixkern.a install-header
	install -d $(DESTDIR)$(LIBDIR)
	install -m 644 $(OUT)/libmixkern.a $(DESTDIR)$(LIBDIR)/libmixkern.a

install-shared: $(OUT)/$(REALNAME) install-header
	install -d $(DESTDIR)$(LIBDIR)
	install -m 755 $(OUT)/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(REALNAME)
	ln -sf $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libmixkern.so

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/mixkern.h $(DESTDIR)$(PKGCONFIGDIR)/mixkern.pc
	rm -f $(DESTDIR)$(LIBDIR)/libmixkern.a $(DESTDIR)$(LIBDIR)/libmixkern.so
	rm -f $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/$(REALNAME)

# A no_std static library for a bare-metal target (rustup target add $(TARGET) first), with the
# panic handler that calls the hook a firmware installs with mk_set_panic_hook. It is left as
# rustc writes it: besides the mk_ functions it defines compiler-builtins' weak intrinsics
# (__aeabi_*, memcpy, ...), which a firmware's own C library overrides.
bare-metal:
	$(CARGO) rustc --release --lib --target $(TARGET) --no-default-features \
		--features panic-handler --crate-type staticlib
	@echo "$(TARGET_DIR)/$(TARGET)/release/libmixkern.a"

FORCE:
