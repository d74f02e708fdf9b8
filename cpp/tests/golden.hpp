// Golden serialized bytes, kept in cpp/tests/golden/<name>.bin, so that a change of any
// serialized layout (or of what a sketch keeps for a given input) fails a test.
//
// After a deliberate format change, regenerate every golden file and commit them with the change
// (and a format version bump when old bytes no longer load):
//
//   TRUTHOUND_UPDATE_GOLDEN=1 build/ctest/truthound_tests --gtest_filter='Golden*'
//
// The inputs are fixed (no std:: distributions, whose output differs between standard
// libraries), so the bytes are the same on every little-endian IEEE-754 platform.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace truthound::testing {

#ifndef TRUTHOUND_GOLDEN_DIR
#error "TRUTHOUND_GOLDEN_DIR must name cpp/tests/golden (set by CMakeLists.txt)"
#endif

inline bool updating_golden() {
  const char* v = std::getenv("TRUTHOUND_UPDATE_GOLDEN");
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

// Compares `bytes` with the golden file `name` byte for byte and returns the golden bytes (for
// the caller to deserialize and check); with TRUTHOUND_UPDATE_GOLDEN=1 it writes them instead.
inline std::vector<uint8_t> check_golden(const std::string& name,
                                         const std::vector<uint8_t>& bytes) {
  const std::string path = std::string(TRUTHOUND_GOLDEN_DIR) + "/" + name + ".bin";
  if (updating_golden()) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    EXPECT_TRUE(out.good()) << "cannot write " << path;
    return bytes;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "golden file " << path << " is missing; regenerate with "
                  << "TRUTHOUND_UPDATE_GOLDEN=1 (see cpp/tests/golden.hpp)";
    return bytes;
  }
  const std::vector<uint8_t> golden((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
  if (golden != bytes) {
    size_t at = 0;
    while (at < golden.size() && at < bytes.size() && golden[at] == bytes[at]) ++at;
    ADD_FAILURE() << name << ": serialized bytes differ from " << path << " (golden "
                  << golden.size() << " bytes, now " << bytes.size() << " bytes, first difference "
                  << "at offset " << at << "). If the format change is deliberate, bump the "
                  << "format version and regenerate with TRUTHOUND_UPDATE_GOLDEN=1 (see "
                  << "cpp/tests/golden.hpp).";
  }
  return golden;
}

// The bytes of a golden file kept as it is (an older format version that must still load).
inline std::vector<uint8_t> read_golden(const std::string& name) {
  const std::string path = std::string(TRUTHOUND_GOLDEN_DIR) + "/" + name + ".bin";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "golden file " << path << " is missing";
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

}  // namespace truthound::testing
