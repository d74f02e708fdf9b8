// Little-endian byte writer and bounds-checked reader for the serialized formats.
//
// Every read checks the remaining size first; a short or malformed payload throws
// CorruptProfileError("<context>: expected N bytes, got M") and never reads out of bounds.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "truthound/util/error.hpp"

namespace truthound {

namespace detail {
template <typename T>
inline T to_little(T v) {
  if constexpr (std::endian::native == std::endian::big && sizeof(T) > 1) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    for (size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(b[i], b[sizeof(T) - 1 - i]);
    std::memcpy(&v, b, sizeof(T));
  }
  return v;
}
}  // namespace detail

class ByteWriter {
 public:
  template <typename T>
    requires std::is_arithmetic_v<T>
  void put(T v) {
    v = detail::to_little(v);
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    buf_.insert(buf_.end(), p, p + sizeof(T));
  }
  void u8(uint8_t v) { put(v); }
  void u32(uint32_t v) { put(v); }
  void u64(uint64_t v) { put(v); }
  void i64(int64_t v) { put(v); }
  void f64(double v) { put(v); }
  void raw(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    buf_.insert(buf_.end(), p, p + n);
  }
  // Unsigned LEB128: 7 bits a byte, low groups first, the high bit set on all but the last
  // byte; 1 byte below 128, at most 10.
  void varint(uint64_t v) {
    while (v >= 0x80) {
      buf_.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    buf_.push_back(static_cast<uint8_t>(v));
  }
  // Length-prefixed (varint) byte string.
  void varstr(std::string_view s) {
    varint(s.size());
    raw(s.data(), s.size());
  }
  // Length-prefixed (u64) byte string.
  void str(std::string_view s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  // Arithmetic array with a u64 count prefix.
  template <typename T>
    requires std::is_arithmetic_v<T>
  void array(std::span<const T> values) {
    u64(values.size());
    if constexpr (std::endian::native == std::endian::little) {
      raw(values.data(), values.size() * sizeof(T));
    } else {
      for (T v : values) put(v);
    }
  }
  // Reserve a u64 slot to be filled later with the length of what follows (a section).
  size_t begin_section() {
    size_t pos = buf_.size();
    u64(0);
    return pos;
  }
  void end_section(size_t pos) {
    uint64_t len = detail::to_little(static_cast<uint64_t>(buf_.size() - pos - 8));
    std::memcpy(buf_.data() + pos, &len, 8);
  }
  size_t size() const { return buf_.size(); }
  const std::vector<uint8_t>& buffer() const { return buf_; }
  std::vector<uint8_t> take() { return std::move(buf_); }

 private:
  std::vector<uint8_t> buf_;
};

class ByteReader {
 public:
  ByteReader(const void* data, size_t size, std::string_view context)
      : p_(static_cast<const uint8_t*>(data)), size_(size), context_(context) {}

  template <typename T>
    requires std::is_arithmetic_v<T>
  T get() {
    need(sizeof(T), "a value");
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return detail::to_little(v);
  }
  uint8_t u8() { return get<uint8_t>(); }
  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  int64_t i64() { return get<int64_t>(); }
  double f64() { return get<double>(); }

  std::span<const uint8_t> raw(size_t n) {
    need(n, "raw bytes");
    std::span<const uint8_t> s(p_ + pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view str() { return bytes_of(u64()); }
  // An unsigned LEB128 value as ByteWriter::varint writes it: at most 10 bytes, no bits beyond
  // 64, no redundant trailing zero group (one encoding per value, so equal states serialize to
  // equal bytes).
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      need(1, "a varint byte");
      const uint8_t b = p_[pos_++];
      if (shift == 63 && b > 1) corrupt("varint exceeds 64 bits");
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        if (b == 0 && shift > 0) corrupt("varint with a redundant trailing zero byte");
        return v;
      }
    }
  }
  std::string_view varstr() { return bytes_of(varint()); }
  // Reads a count prefix and checks that count * elem_size bytes (at least) can follow, so a
  // corrupted count can never make the caller allocate or read beyond the payload.
  size_t count(size_t elem_size, uint64_t max_count = UINT64_MAX) {
    uint64_t n = u64();
    if (n > max_count) {
      throw CorruptProfileError(std::string(context_) + ": count " + std::to_string(n) +
                                " exceeds the maximum " + std::to_string(max_count));
    }
    if (elem_size != 0 && n > remaining() / elem_size) {
      fail(std::to_string(n) + " items of " + std::to_string(elem_size) + " bytes", remaining());
    }
    return static_cast<size_t>(n);
  }
  template <typename T>
    requires std::is_arithmetic_v<T>
  std::vector<T> array(uint64_t max_count = UINT64_MAX) {
    size_t n = count(sizeof(T), max_count);
    std::vector<T> out(n);
    if (n) std::memcpy(out.data(), p_ + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    if constexpr (std::endian::native == std::endian::big) {
      for (auto& v : out) v = detail::to_little(v);
    }
    return out;
  }
  // A sub-reader over a u64-length-prefixed section; the outer reader skips past it.
  ByteReader section(std::string_view context) {
    uint64_t n = u64();
    if (n > remaining()) fail("section of " + std::to_string(n) + " bytes", remaining());
    ByteReader sub(p_ + pos_, static_cast<size_t>(n), context);
    pos_ += static_cast<size_t>(n);
    return sub;
  }
  size_t remaining() const { return size_ - pos_; }
  size_t position() const { return pos_; }
  const uint8_t* current() const { return p_ + pos_; }
  std::string_view context() const { return context_; }
  // Every format checks that it consumed exactly its bytes.
  void expect_end() const {
    if (pos_ != size_) {
      throw CorruptProfileError(std::string(context_) + ": " + std::to_string(size_ - pos_) +
                                " unexpected trailing bytes");
    }
  }
  [[noreturn]] void corrupt(const std::string& what) const {
    throw CorruptProfileError(std::string(context_) + ": " + what);
  }

 private:
  std::string_view bytes_of(uint64_t n) {
    if (n > remaining()) fail("string of " + std::to_string(n) + " bytes", remaining());
    auto s = raw(static_cast<size_t>(n));
    return {reinterpret_cast<const char*>(s.data()), s.size()};
  }
  void need(size_t n, const char* what) const {
    if (n > size_ - pos_)
      fail(std::string(what) + " of " + std::to_string(n) + " bytes", size_ - pos_);
  }
  [[noreturn]] void fail(const std::string& what, size_t got) const {
    throw CorruptProfileError(std::string(context_) + ": truncated, expected " + what + ", got " +
                              std::to_string(got) + " bytes");
  }

  const uint8_t* p_;
  size_t size_;
  size_t pos_ = 0;
  std::string_view context_;
};

}  // namespace truthound
