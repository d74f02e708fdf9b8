#!/usr/bin/env bash
# Installs what the tests need and runs every test: the C++ suite (ctest, also under
# AddressSanitizer + UndefinedBehaviorSanitizer), the Python suite (pytest), and the benchmark
# harness's smoke run.
#
#   bash scripts/test.sh            # everything
#   SKIP_SANITIZERS=1 bash scripts/test.sh   # skip the sanitizer build (faster local runs)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

step() { printf '\n==> %s\n' "$*"; }

# ---- system packages: GoogleTest (and a compiler), Java for Spark, Chromium, from Debian ----
need_apt=()
[ -f /usr/include/gtest/gtest.h ] || need_apt+=(libgtest-dev googletest)
command -v g++ >/dev/null || need_apt+=(g++)
command -v java >/dev/null || need_apt+=(openjdk-17-jre-headless)  # the Spark backend's tests
# the HTML report's browser test: headless Chromium and the driver Selenium talks to
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing Debian packages: ${need_apt[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}"
fi

# ---- Python environment: a virtual environment of its own unless one is active ----
if [ -z "${VIRTUAL_ENV:-}" ]; then
  step "creating the virtual environment .venv-test"
  python3 -m venv .venv-test
  # shellcheck disable=SC1091
  . .venv-test/bin/activate
fi
step "installing truthound with its [test], [spark], [dask] and [ray] extras (builds the C++ extension)"
python -m pip install -q --upgrade pip
python -m pip install -q cmake ninja
python -m pip install -q ".[test,spark,dask,ray]"

# ---- C++ tests ----
step "C++: build and run the GoogleTest suite"
cmake -S . -B build/ctest -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRUTHOUND_BUILD_TESTS=ON >/dev/null
cmake --build build/ctest -j "$jobs"
ctest --test-dir build/ctest -j "$jobs" --output-on-failure

if [ -z "${SKIP_SANITIZERS:-}" ]; then
  step "C++: the same suite under AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTRUTHOUND_BUILD_TESTS=ON \
    -DTRUTHOUND_SANITIZE=ON >/dev/null
  cmake --build build/asan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/asan -j "$jobs" --output-on-failure
fi

step "Python: type check (mypy)"
python -m mypy

# ---- Python tests (run outside the source tree's python/ so the installed package is used) ----
step "Python: pytest"
python -m pytest -q -p no:cacheprovider tests

if [ -f bench/run.py ]; then
  step "benchmark harness: smoke run"
  python bench/run.py --smoke
fi
printf '\nall tests passed\n'
