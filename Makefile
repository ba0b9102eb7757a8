# Makefile — rules for ser. Settings are in Makefile.defs.
#
#   make [TLS=1] [SANITIZE=1]   build ./ser
#   make TLS=1 run              build and run on etc/ser.cfg in the foreground
#   make TLS=1 test             build and run every test (unit, config corpus, integration)
#   make install PREFIX=...     install ser, serctl, ser-certs, configs, the systemd unit,
#                               man pages (DESTDIR= for a staging tree; see Makefile.defs)
#   make bench                  benchmarks (bench/)
#   make fuzz [FUZZ_SECONDS=N]  libFuzzer targets (tests/fuzz/), each run N seconds

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

.PHONY: all deps run test unit-test install clean bench bench-tools ser fuzz fuzz-build FORCE
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
	@tools/install-deps.sh $(if $(filter bench,$(MAKECMDGOALS)),--bench,$(if $(filter test unit-test fuzz fuzz-build,$(MAKECMDGOALS)),,--build))

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

# libFuzzer targets (tests/fuzz/<target>.cpp, seed corpora in tests/fuzz/<target>/).
# Built by Debian's clang, never g++: the library objects are compiled again
# with -fsanitize=fuzzer-no-link,address,undefined into their own tree
# (build/fuzz/obj, always with TLS), put in an archive so that a target links
# only the objects it reaches, and each target adds -fsanitize=fuzzer.
# `make fuzz` runs every target FUZZ_SECONDS on a copy of its corpus
# (build/fuzz/corpus/<target>, kept between runs); a crash stops it with the
# input in build/fuzz/artifacts/.
FUZZ_SECONDS ?= 60
FUZZ_CXX     ?= clang++
FUZZ_DIR     := build/fuzz
FUZZ_OBJ_DIR := $(FUZZ_DIR)/obj
FUZZ_GEN     := $(FUZZ_DIR)/gen
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CXXFLAGS:= $(CXXSTD) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -Wall -Wextra \
                -DSER_VERSION='"$(VERSION)"' -D_GNU_SOURCE -DSER_TLS=1 -I. -Icore -I$(FUZZ_GEN) -MMD -MP
# The files no target links (the process roles, the event loop, the tty) are
# not compiled: the clang build is most of what the smoke run in `make test`
# costs. A target that needs one fails to link; take it off the list then.
FUZZ_UNLINKED:= $(addprefix core/proc/,children.cpp dns_hooks.cpp main.cpp options.cpp privileges.cpp \
                  proc_title.cpp server.cpp tcp_worker.cpp tls_watch.cpp udp_worker.cpp worker_sender.cpp) \
                core/io/conn_loop.cpp core/io/proxy_header.cpp ctl/ctl_role.cpp \
                serial/device_port.cpp serial/serial_bridge.cpp serial/serial_device.cpp
FUZZ_LIB_SRC := $(filter-out $(FUZZ_UNLINKED),$(CORE_SRC) $(SERIAL_SRC) $(CTL_SRC) $(sort $(wildcard tls/*.cpp)))
FUZZ_LIB_OBJ := $(patsubst %.cpp,$(FUZZ_OBJ_DIR)/%.o,$(FUZZ_LIB_SRC)) $(FUZZ_GEN)/cfg.tab.o $(FUZZ_GEN)/cfg.lex.o
FUZZ_LIB     := $(FUZZ_DIR)/libser_fuzz.a
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/*.cpp))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.cpp,%,$(FUZZ_SRC))
FUZZ_BINS    := $(addprefix $(FUZZ_DIR)/bin/,$(FUZZ_TARGETS))

$(FUZZ_OBJ_DIR)/%.o: %.cpp | $(FUZZ_GEN)/cfg.tab.hh deps
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_GEN)/%.o: $(FUZZ_GEN)/%.cc | deps
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -Wno-unused-function -Wno-sign-compare \
	    -Wno-unused-but-set-variable -c -o $@ $<

$(FUZZ_GEN)/cfg.tab.cc $(FUZZ_GEN)/cfg.tab.hh &: cfg.y | deps
	@mkdir -p $(FUZZ_GEN)
	$(BISON) -Wall -Werror -o $(FUZZ_GEN)/cfg.tab.cc --header=$(FUZZ_GEN)/cfg.tab.hh cfg.y

$(FUZZ_GEN)/cfg.lex.cc: cfg.lex $(FUZZ_GEN)/cfg.tab.hh | deps
	$(FLEX) -o $@ cfg.lex

$(FUZZ_GEN)/cfg.lex.o: $(FUZZ_GEN)/cfg.tab.hh

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/bin/%: tests/fuzz/%.cpp $(FUZZ_LIB) | deps
	@mkdir -p $(dir $@) $(FUZZ_OBJ_DIR)/tests/fuzz
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -MF $(FUZZ_OBJ_DIR)/tests/fuzz/$*.d -MT $@ -fsanitize=fuzzer \
	    -o $@ $< $(FUZZ_LIB) -lcares -lssl -lcrypto

fuzz-build: $(FUZZ_BINS)

# Each target: the seeds are copied into the kept corpus, then libFuzzer runs.
fuzz: fuzz-build
	@mkdir -p $(FUZZ_DIR)/artifacts
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	    cp -f tests/fuzz/$$t/* $(FUZZ_DIR)/corpus/$$t/ 2>/dev/null; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	    $(FUZZ_DIR)/bin/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- \
	        $(FUZZ_DIR)/corpus/$$t 2>$(FUZZ_DIR)/$$t.log; rc=$$?; \
	    grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' $(FUZZ_DIR)/$$t.log | tr '\n' ' '; echo; \
	    if [ $$rc -ne 0 ]; then tail -n 60 $(FUZZ_DIR)/$$t.log; \
	        echo "fuzz: $$t failed (rc=$$rc); log $(FUZZ_DIR)/$$t.log, input in $(FUZZ_DIR)/artifacts/"; exit 1; fi; \
	done

clean:
	rm -rf build ser serctl

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(INST)/options.d
-include $(FUZZ_LIB_OBJ:.o=.d) $(patsubst %,$(FUZZ_OBJ_DIR)/tests/fuzz/%.d,$(FUZZ_TARGETS))
