// Arrow data types as the engine sees them: parsed once per schema from the C Data Interface's
// format strings, rendered as pyarrow renders them ("int64", "timestamp[us, tz=UTC]", ...), and
// serialized inside partial profiles so merges can check for schema drift.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "truthound/arrow/c_abi.hpp"
#include "truthound/util/bytes.hpp"

namespace truthound {

enum class TypeId : uint8_t {
  kNull,
  kBool,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat16,
  kFloat32,
  kFloat64,
  kUtf8,
  kLargeUtf8,
  kUtf8View,
  kBinary,
  kLargeBinary,
  kBinaryView,
  kFixedSizeBinary,
  kDate32,
  kDate64,
  kTimestamp,
  kTime32,
  kTime64,
  kDuration,
  kDecimal,  // width 32, 64, 128 or 256 bits
  kList,
  kLargeList,
  kFixedSizeList,
  kStruct,
  kMap,
  kDictionary,
  kOther,  // intervals, unions, run-end encoded, list views: counted, not profiled
  kCount_
};

enum class TimeUnit : uint8_t { kSecond, kMilli, kMicro, kNano };

struct Field;

struct DataType {
  TypeId id = TypeId::kNull;
  TimeUnit unit = TimeUnit::kSecond;
  std::string timezone;             // timestamps only; empty = naive
  int32_t width = 0;                // fixed_size_binary bytes, fixed_size_list size, decimal bits
  int32_t precision = 0;            // decimals
  int32_t scale = 0;                // decimals
  TypeId index_id = TypeId::kNull;  // dictionary index type
  bool ordered = false;             // dictionary
  std::string format;               // the Arrow format string, kept for kOther
  std::vector<Field> children;      // list item, struct fields, map entries, dictionary value type

  // Decimal scales the engine profiles (as arrow-rs, whose scale is an i8): every value of a
  // decimal256 then stays within double range when scaled, and 10^|scale| takes a few steps.
  static constexpr int32_t kMinDecimalScale = -128;
  static constexpr int32_t kMaxDecimalScale = 127;

  // Checks the parameters of this type and its children: decimal width (32/64/128/256),
  // precision (1 to 9/18/38/76) and scale (kMinDecimalScale..kMaxDecimalScale), time units of
  // time32/time64, child counts of lists, maps and dictionaries, dictionary index types, widths,
  // and that fields a type does not use are at their defaults. Throws ArrowImportError naming the
  // type when malformed and UnsupportedTypeError for a decimal scale outside the range above.
  // parse_field and deserialize both call it, so no other code sees an invalid type.
  void validate() const;
  std::string to_string() const;
  bool operator==(const DataType& other) const;

  bool is_integer() const { return id >= TypeId::kInt8 && id <= TypeId::kUInt64; }
  bool is_floating() const { return id >= TypeId::kFloat16 && id <= TypeId::kFloat64; }
  bool is_string_like() const { return id >= TypeId::kUtf8 && id <= TypeId::kFixedSizeBinary; }
  bool is_utf8() const { return id >= TypeId::kUtf8 && id <= TypeId::kUtf8View; }
  bool is_temporal() const { return id >= TypeId::kDate32 && id <= TypeId::kDuration; }
  bool is_list_like() const {
    return id == TypeId::kList || id == TypeId::kLargeList || id == TypeId::kFixedSizeList ||
           id == TypeId::kMap;
  }

  void serialize(ByteWriter& out) const;
  static DataType deserialize(ByteReader& in, int depth = 0);
};

struct Field {
  std::string name;
  DataType type;
  bool operator==(const Field& other) const = default;
};

// Parses a schema tree (format strings, children, dictionary) and validates it. Throws
// ArrowImportError on a malformed format string, UnsupportedTypeError (see validate()).
Field parse_field(const ArrowSchema& schema);

const char* time_unit_suffix(TimeUnit unit);  // "s", "ms", "us", "ns"

}  // namespace truthound
