# Makefile — rules for ser. Settings are in Makefile.defs.
#
#   make [TLS=1] [SANITIZE=1]   build ./ser
#   make TLS=1 run              build and run on etc/ser.cfg in the foreground
#   make TLS=1 test             build and run every test (unit, config corpus, integration)
#   make install PREFIX=...     install binary, tools and etc/
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

.PHONY: all deps run test unit-test install clean bench
all: ser

# ./ser is a copy of the binary of the last variant built, as SER users expect.
ser: $(SER) $(SERCTL)
	@cp -f $(SER) ser
	@cp -f $(SERCTL) serctl

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
	@tools/install-deps.sh $(if $(filter test unit-test bench,$(MAKECMDGOALS)),,--build)

run: ser | deps
	tools/run-default.sh $(SER)

unit-test: $(SER_TEST) | deps
	$(SER_TEST)

test: ser $(SER_TEST) | deps
	@SER_BIN=$(abspath $(SER)) SER_UNIT=$(abspath $(SER_TEST)) SER_TLS=$(TLS) tests/run.sh

bench: ser | deps
	SER_BIN=$(abspath $(SER)) bench/run.sh

install: ser
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(CFGDIR) $(DESTDIR)$(SHAREDIR)
	install -m 755 $(SER) $(DESTDIR)$(BINDIR)/ser
	for t in tools/ser-certs tools/serctl; do [ -f $$t ] && install -m 755 $$t $(DESTDIR)$(BINDIR)/ || true; done
	for f in etc/*.cfg; do \
	    sed 's|"\.\./build/certs/|"certs/|' $$f > $(DESTDIR)$(CFGDIR)/$$(basename $$f); \
	    chmod 644 $(DESTDIR)$(CFGDIR)/$$(basename $$f); done
	for f in etc/*.service; do [ -f $$f ] && install -m 644 $$f $(DESTDIR)$(SHAREDIR)/ || true; done

clean:
	rm -rf build ser

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
