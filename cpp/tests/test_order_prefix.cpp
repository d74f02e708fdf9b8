// order_prefix (cpp/include/truthound/util/order_prefix.hpp): the big-endian value of the first
// 8 bytes, zero-padded, for every length; consistent with string order; reads no byte past the
// string (each string sits at the end of its own allocation, which AddressSanitizer checks).
#include "truthound/util/order_prefix.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <string_view>

namespace truthound {
namespace {

uint64_t reference(std::string_view v) {
  uint64_t w = 0;
  for (size_t i = 0; i < 8 && i < v.size(); ++i)
    w |= uint64_t{static_cast<unsigned char>(v[i])} << (56 - 8 * i);
  return w;
}

TEST(OrderPrefix, BigEndianFirstEightBytesForEveryLength) {
  std::mt19937_64 rng(5);
  for (size_t n = 0; n <= 20; ++n) {
    for (int iter = 0; iter < 200; ++iter) {
      // the string ends where its allocation ends
      auto buf = std::make_unique<char[]>(n + 1);
      char* s = buf.get() + 1;
      for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(rng());
      const std::string_view v(s, n);
      ASSERT_EQ(order_prefix(v), reference(v)) << "n " << n;
    }
  }
}

TEST(OrderPrefix, ConsistentWithStringOrder) {
  std::mt19937_64 rng(6);
  const char alphabet[] = {'\0', 'a', 'b', '\x7f', '\x80', '\xff'};
  for (int iter = 0; iter < 100000; ++iter) {
    std::string a(rng() % 11, ' '), b(rng() % 11, ' ');
    for (char& c : a) c = alphabet[rng() % 6];
    for (char& c : b) c = alphabet[rng() % 6];
    const uint64_t ka = order_prefix(a), kb = order_prefix(b);
    if (std::string_view(a) < std::string_view(b)) {
      ASSERT_LE(ka, kb) << a.size() << " " << b.size();
    }
    if (ka < kb) {
      ASSERT_LT(std::string_view(a), std::string_view(b));
    }
  }
}

}  // namespace
}  // namespace truthound
