// A bounds-checked reader of the thrift compact protocol, the encoding of Parquet's page headers
// and footer (parquet.thrift). Private to cpp/src/parquet/. Every read checks the bytes left and
// every count against the bytes that would have to hold it, so no size taken from the bytes can
// make it read out of bounds or allocate: malformed bytes throw SourceReadError("<context>: ...").
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "truthound/util/error.hpp"

namespace truthound::parquet::thrift {

namespace types {
// Compact-protocol type codes.
enum : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};
}  // namespace types

constexpr int kMaxDepth = 32;

class CompactReader {
 public:
  CompactReader(std::span<const uint8_t> bytes, std::string_view context)
      : bytes_(bytes), context_(context) {}

  size_t pos() const { return pos_; }
  size_t left() const { return bytes_.size() - pos_; }

  [[noreturn]] void error(const std::string& what) const {
    throw SourceReadError(std::string(context_) + ": " + what);
  }

  uint8_t byte() {
    if (pos_ >= bytes_.size()) error("truncated after " + std::to_string(pos_) + " bytes");
    return bytes_[pos_++];
  }

  void skip_bytes(uint64_t n) {
    if (n > bytes_.size() - pos_) {
      error("truncated: " + std::to_string(n) + " bytes needed at offset " + std::to_string(pos_) +
            ", " + std::to_string(bytes_.size() - pos_) + " left");
    }
    pos_ += static_cast<size_t>(n);
  }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const uint8_t b = byte();
      if (shift == 63 && b > 1) break;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    error("bad varint at offset " + std::to_string(pos_));
  }

  int64_t zigzag() {
    const uint64_t v = varint();
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }

  int64_t i64() { return zigzag(); }

  int32_t i32() {
    const int64_t v = zigzag();
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
      error("i32 value out of range at offset " + std::to_string(pos_));
    }
    return static_cast<int32_t>(v);
  }

  // A binary/string value: its length, checked against the bytes left, then the bytes.
  std::string_view binary() {
    const uint64_t n = varint();
    const size_t at = pos_;
    skip_bytes(n);
    return {reinterpret_cast<const char*>(bytes_.data() + at), static_cast<size_t>(n)};
  }

  // A list (or set) header: the element type and a size that the bytes left can hold (every
  // element takes at least one byte).
  uint64_t list_header(uint8_t& element_type) {
    const uint8_t head = byte();
    uint64_t size = head >> 4;
    if (size == 15) size = varint();
    element_type = head & 0x0f;
    if (size > left()) {
      error("list size " + std::to_string(size) + " too large for the " + std::to_string(left()) +
            " bytes left");
    }
    return size;
  }

  // Calls on_field(id, type) for each field of a struct whose opening was just read;
  // on_field returns false for fields it does not read, which are then skipped.
  template <typename OnField>
  void read_struct(int depth, OnField&& on_field) {
    if (depth > kMaxDepth) error("nested deeper than " + std::to_string(kMaxDepth));
    int16_t last_id = 0;
    for (;;) {
      const uint8_t head = byte();
      const uint8_t type = head & 0x0f;
      if (type == types::kStop) return;  // as thrift does, the delta bits of a stop are ignored
      int16_t id;
      if ((head >> 4) == 0) {
        const int64_t v = zigzag();
        if (v < std::numeric_limits<int16_t>::min() || v > std::numeric_limits<int16_t>::max()) {
          error("field id out of range at offset " + std::to_string(pos_));
        }
        id = static_cast<int16_t>(v);
      } else {
        id = static_cast<int16_t>(last_id + (head >> 4));
      }
      last_id = id;
      if (!on_field(id, type)) skip(type, depth + 1);
    }
  }

  // Skips one value of `type`; `depth` is the nesting level a struct or container value would
  // occupy.
  void skip(uint8_t type, int depth) {
    using namespace types;
    switch (type) {
      case kBoolTrue:
      case kBoolFalse:
        return;  // a field's bool value lives in its type
      case kByte:
        skip_bytes(1);
        return;
      case kI16:
      case kI32:
      case kI64:
        varint();
        return;
      case kDouble:
        skip_bytes(8);
        return;
      case kBinary:
        skip_bytes(varint());
        return;
      case kList:
      case kSet: {
        if (depth > kMaxDepth) error("nested deeper than " + std::to_string(kMaxDepth));
        uint8_t element = 0;
        const uint64_t size = list_header(element);
        for (uint64_t i = 0; i < size; ++i) skip_element(element, depth);
        return;
      }
      case kMap: {
        if (depth > kMaxDepth) error("nested deeper than " + std::to_string(kMaxDepth));
        const uint64_t size = varint();
        if (size == 0) return;
        const uint8_t kv = byte();
        if (size > bytes_.size() - pos_) error("map size " + std::to_string(size) + " too large");
        for (uint64_t i = 0; i < size; ++i) {
          skip_element(kv >> 4, depth);
          skip_element(kv & 0x0f, depth);
        }
        return;
      }
      case kStruct:
        read_struct(depth, [](int16_t, uint8_t) { return false; });
        return;
      default:
        error("cannot skip a field of type " + std::to_string(type) + " at offset " +
              std::to_string(pos_));
    }
  }

  // Container elements: bools are one byte each, everything else as a field value.
  void skip_element(uint8_t type, int depth) {
    if (type == types::kBoolTrue || type == types::kBoolFalse) {
      skip_bytes(1);
    } else if (type == types::kStop) {
      error("bad container element type 0 at offset " + std::to_string(pos_));
    } else {
      skip(type, depth + 1);
    }
  }

 private:
  std::span<const uint8_t> bytes_;
  std::string_view context_;
  size_t pos_ = 0;
};

}  // namespace truthound::parquet::thrift
