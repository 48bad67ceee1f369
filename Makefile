# Shield - one Makefile (see HACKING.md).
#   make            build build/shield
#   make check      build and run every test (unit, golden, CLI, corpora, fuzz smoke)
#   make demo       ingest the bundled sample mailbox and show what was found
#   make asan       build build-asan/shield with ASan+UBSan
#   make fuzz       build the libFuzzer targets and run each for FUZZ_SECONDS
#   make bench      speed benchmarks against cat, rspamd and Python (bench/)
#   make lint       clang-format check and banned-function check
#   make deps       install the Debian packages Shield needs (root)

PKGS      := gmime-3.0 libpsl libidn2 libmagic libarchive sqlite3 libzstd libcrypto jansson libcurl libmaxminddb icu-uc icu-i18n opendkim
BUILD     ?= build
CC        ?= cc
PKG_CFLAGS := $(shell pkg-config --cflags $(filter-out libmagic,$(PKGS)) 2>/dev/null)
# libcurl, libarchive and ICU are not linked: they are loaded when first
# used (src/common/lazylib.h), which more than halves the start-up of
# every command
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libmagic libcurl libarchive icu-uc icu-i18n,$(PKGS)) 2>/dev/null) -lmagic
WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter -Wvla
# gcc warns about deliberate truncation of error messages by snprintf
ifeq ($(findstring clang,$(CC)),)
WARN      += -Wno-format-truncation
endif
CFLAGS    ?= -O2 -g
DATADIR   ?= $(CURDIR)/data
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -Isrc -DSHIELD_DATADIR=\"$(DATADIR)\" $(PKG_CFLAGS)
LDLIBS    = $(PKG_LIBS) -lm

LIB_SRC   := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC   := $(wildcard src/cli/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC  := $(wildcard tests/unit/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)

.PHONY: all check demo asan fuzz fuzz-smoke bench lint deps clean unit-tests

all: $(BUILD)/shield

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libshield.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/shield: $(CLI_OBJ) $(BUILD)/libshield.a
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libshield.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/test.h $(BUILD)/libshield.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libshield.a $(LDLIBS)

unit-tests: $(TEST_BIN)

check: deps all unit-tests
	$(MAKE) asan
	tests/run.sh $(BUILD)

demo: deps all
	scripts/demo.sh $(BUILD)

deps:
	@scripts/install-deps.sh

asan:
	$(MAKE) BUILD=build-asan CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all unit-tests

# libFuzzer targets link the library built with the fuzzer's instrumentation.
FUZZ_BUILD := build-fuzz
FUZZ_FLAGS := -O1 -g -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 300
fuzz-build:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="$(FUZZ_FLAGS)" $(FUZZ_BUILD)/libshield.a
	@mkdir -p $(FUZZ_BUILD)/fuzz
	for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=address,undefined,fuzzer -fno-sanitize-recover=undefined -Isrc $(PKG_CFLAGS) \
	    -o $(FUZZ_BUILD)/fuzz/$$n $$f $(FUZZ_BUILD)/libshield.a $(LDLIBS) || exit 1; done
fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)
fuzz-smoke: fuzz-build
	scripts/fuzz.sh $(FUZZ_BUILD) 20

bench: all
	bench/run.sh $(BUILD)/shield

lint:
	scripts/lint.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
