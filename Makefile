# Makefile — rules for ser. Settings are in Makefile.defs.
#
#   make [TLS=1] [SANITIZE=1]   build ./ser
#   make TLS=1 run              build and run on etc/ser.cfg in the foreground
#   make TLS=1 test             build and run every test (unit, config corpus, integration)
#   make install PREFIX=...     install ser, serctl, ser-certs, configs, the systemd unit,
#                               man pages (DESTDIR= for a staging tree; see Makefile.defs)
#   make bench                  benchmarks (bench/)

include Makefile.defs

# Build in parallel by default (make -jN on the command line still wins).
ifeq ($(filter -j%,$(MAKEFLAGS)),)
  MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif

CORE_SRC   := $(sort $(wildcard core/*.cpp core/*/*.cpp))
CTL_SRC    := $(sort $(wildcard ctl/*.cpp))
SERIAL_SRC := $(sort $(wildcard serial/*.cpp))
TLS_SRC    := $(if $(filter 1,$(TLS)),$(sort $(wildcard tls/*.cpp)),$(wildcard tls/stub/*.cpp))
GEN_SRC    := $(GEN)/cfg.tab.cc $(GEN)/cfg.lex.cc
# main.cpp is the only file not linked into the unit-test binary.
LIB_SRC    := $(filter-out core/proc/main.cpp,$(CORE_SRC)) $(SERIAL_SRC) $(CTL_SRC) $(TLS_SRC)
TEST_SRC   := $(sort $(wildcard tests/unit/*.cpp tests/unit/*/*.cpp))
ifneq ($(TLS),1)
  TEST_SRC := $(filter-out tests/unit/tls/%,$(TEST_SRC))
endif

obj = $(patsubst %.cpp,$(BUILD)/%.o,$(patsubst $(GEN)/%.cc,$(GEN)/%.o,$(1)))
LIB_OBJ  := $(call obj,$(LIB_SRC)) $(GEN)/cfg.tab.o $(GEN)/cfg.lex.o $(GEN)/default_cfg.o
MAIN_OBJ := $(BUILD)/core/proc/main.o
TEST_OBJ := $(call obj,$(TEST_SRC))

SER      := $(BUILD)/ser
SER_TEST := $(BUILD)/ser_unit_tests
SERCTL   := $(BUILD)/serctl
# bench/'s own programs; the test suite drives ser with the load client too.
BENCH_BIN   := $(BUILD)/bench
BENCH_OPT   := -std=c++20 -O2 -g -Wall -Wextra -Werror
BENCH_TOOLS := $(BENCH_BIN)/sipload $(BENCH_BIN)/tlsload $(BENCH_BIN)/nullrelay

.PHONY: all deps run test unit-test install clean bench bench-tools ser FORCE
all: ser

# ./ser is a copy of the binary of the last variant built, as SER users expect.
# Phony and compared by content: after `make TLS=1` and `make`, a second
# `make TLS=1` builds nothing yet must still bring back the TLS binaries,
# which are older than the ./ser and ./serctl they replace.
ser: $(SER) $(SERCTL)
	@cmp -s $(SER) ser || cp -f $(SER) ser
	@cmp -s $(SERCTL) serctl || cp -f $(SERCTL) serctl

# serctl: the control socket's command line (tools/serctl.cpp, nlohmann-json).
$(SERCTL): $(BUILD)/tools/serctl.o
	$(CXX) $(LDFLAGS) -o $@ $^

$(SER): $(LIB_OBJ) $(MAIN_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(SER_TEST): $(LIB_OBJ) $(TEST_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcppunit

$(BUILD)/%.o: %.cpp | $(GEN)/cfg.tab.hh deps
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

$(GEN)/%.o: $(GEN)/%.cc | deps
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -Wno-unused-function -Wno-sign-compare -c -o $@ $<

# Bison writes the parser and its header in one run; the grouped target says so.
$(GEN)/cfg.tab.cc $(GEN)/cfg.tab.hh &: cfg.y | deps
	@mkdir -p $(GEN)
	$(BISON) -Wall -Werror -o $(GEN)/cfg.tab.cc --header=$(GEN)/cfg.tab.hh cfg.y

$(GEN)/cfg.lex.cc: cfg.lex $(GEN)/cfg.tab.hh | deps
	@mkdir -p $(GEN)
	$(FLEX) -o $@ cfg.lex

$(GEN)/cfg.lex.o: $(GEN)/cfg.tab.hh

# The default config is compiled in as a raw string: `ser` with no -f runs it.
# A build without TLS embeds the variant without the TLS listener.
DEFAULT_CFG := $(if $(filter 1,$(TLS)),etc/ser.cfg,etc/ser-notls.cfg)
$(GEN)/default_cfg.cc: $(DEFAULT_CFG) Makefile
	@mkdir -p $(GEN)
	@{ echo '#include "cfg/default_cfg.h"'; \
	   echo 'namespace ser {'; \
	   echo 'std::string_view default_cfg_text() { return R"SER_CFG('; \
	   cat $(DEFAULT_CFG); \
	   echo ')SER_CFG"; }'; \
	   echo 'std::string default_cfg_name() { return "$(DEFAULT_CFG)"; }'; \
	   echo '}'; } > $@

# Missing system packages are installed before anything is compiled: every
# compile step waits for `deps` (order-only, so it never forces a rebuild).
# `make test` and `make bench` install the test peers as well.
deps:
	@tools/install-deps.sh $(if $(filter bench,$(MAKECMDGOALS)),--bench,$(if $(filter test unit-test,$(MAKECMDGOALS)),,--build))

run: ser | deps
	tools/run-default.sh $(SER)

unit-test: $(SER_TEST) | deps
	$(SER_TEST)

test: ser $(SER_TEST) $(BENCH_BIN)/sipload | deps
	@SER_BIN=$(abspath $(SER)) SER_UNIT=$(abspath $(SER_TEST)) SER_TLS=$(TLS) \
	  SIPLOAD_BIN=$(abspath $(BENCH_BIN)/sipload) tests/run.sh

# The benchmark's own programs (bench/): the SIP load client, the TLS client,
# the null relay. `make bench BENCH_ARGS='--parts "sip_fwd" --rounds 1'` runs a part.
$(BENCH_BIN)/sipload: $(wildcard bench/sipload/*.cpp bench/sipload/*.h) | deps
	@mkdir -p $(dir $@)
	$(CXX) $(BENCH_OPT) -o $@ $(filter %.cpp,$^) -lssl -lcrypto
$(BENCH_BIN)/tlsload: $(wildcard bench/tlsload/*.cpp bench/tlsload/*.h) | deps
	@mkdir -p $(dir $@)
	$(CXX) $(BENCH_OPT) -o $@ $(filter %.cpp,$^) -lssl -lcrypto
$(BENCH_BIN)/nullrelay: bench/nullrelay.cpp | deps
	@mkdir -p $(dir $@)
	$(CXX) $(BENCH_OPT) -o $@ $< -lssl -lcrypto
bench-tools: $(BENCH_TOOLS)

bench: ser $(BENCH_TOOLS) | deps
	SER_BIN=$(abspath $(SER)) SIPLOAD_BIN=$(abspath $(BENCH_BIN)/sipload) \
	  TLSLOAD_BIN=$(abspath $(BENCH_BIN)/tlsload) NULLRELAY_BIN=$(abspath $(BENCH_BIN)/nullrelay) \
	  bench/run $(BENCH_ARGS)

# The installed binary differs from $(SER) in one object: options.o compiled
# with SER_CFG_FILE, so `ser` without -f reads $(CFGDIR)/ser.cfg instead of
# the embedded development config. The stamp holds that path and changes only
# with it, so a new PREFIX recompiles that object and nothing else.
INST      := $(BUILD)/install
SER_INST  := $(INST)/ser
CFG_FILE  := $(CFGDIR)/ser.cfg
OPTS_OBJ  := $(BUILD)/core/proc/options.o

$(INST)/cfg_file.stamp: FORCE
	@mkdir -p $(INST)
	@echo '$(SBINDIR) $(CFG_FILE)' | cmp -s - $@ || echo '$(SBINDIR) $(CFG_FILE)' > $@

$(INST)/options.o: core/proc/options.cpp $(INST)/cfg_file.stamp | $(GEN)/cfg.tab.hh deps
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -DSER_CFG_FILE='"$(CFG_FILE)"' -c -o $@ $<

$(SER_INST): $(filter-out $(OPTS_OBJ),$(LIB_OBJ)) $(INST)/options.o $(MAIN_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The unit's paths follow PREFIX; the rest of it is etc/ser.service.in.
$(INST)/ser.service: etc/ser.service.in $(INST)/cfg_file.stamp
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@CFGDIR@|$(CFGDIR)|g' etc/ser.service.in > $@

# A DESTDIR staging tree (a package build) gets every file. A live system
# keeps the config files it has: a changed shipped version goes beside the
# user's as NAME.cfg.new, as a package manager treats a conffile. ser.cfg is
# the flavour's default config (etc/ser-notls.cfg without TLS), its
# certificate paths made relative to $(CFGDIR) (certs/).
install: $(SER_INST) $(SERCTL) $(INST)/ser.service
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(CFGDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(SER_INST) $(DESTDIR)$(SBINDIR)/ser
	install -m 755 $(SERCTL) $(DESTDIR)$(SBINDIR)/serctl
	install -m 755 tools/ser-certs $(DESTDIR)$(BINDIR)/ser-certs
	@for f in etc/*.cfg etc/ser2sock.conf; do \
	    name=$$(basename $$f); src=$$f; \
	    [ $$name = ser.cfg ] && src=$(DEFAULT_CFG); \
	    dst=$(DESTDIR)$(CFGDIR)/$$name; \
	    sed 's|"\.\./build/certs/|"certs/|' $$src > $(INST)/$$name; \
	    if [ -f $$dst ] && ! cmp -s $(INST)/$$name $$dst; then \
	        echo "install: $$dst is kept; the shipped version is $$dst.new"; dst=$$dst.new; fi; \
	    echo "install -m 644 $$src $$dst"; install -m 644 $(INST)/$$name $$dst; done
	install -m 644 $(INST)/ser.service $(DESTDIR)$(UNITDIR)/ser.service
	install -m 644 etc/ser.sysusers $(DESTDIR)$(SYSUSERSDIR)/ser.conf
	install -m 644 man/ser-certs.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/ser.cfg.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/ser.8 man/serctl.8 $(DESTDIR)$(MANDIR)/man8/

clean:
	rm -rf build ser serctl

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(INST)/options.d
