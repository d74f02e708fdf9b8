#include "truthound/arrow/data_type.hpp"

#include <charconv>
#include <cstring>
#include <string_view>

#include "truthound/util/error.hpp"

namespace truthound {

namespace {

constexpr int kMaxTypeDepth = 64;

[[noreturn]] void bad_format(std::string_view fmt, const char* why) {
  throw ArrowImportError("malformed Arrow format string '" + std::string(fmt) + "': " + why);
}

int32_t parse_int(std::string_view s, std::string_view fmt) {
  int32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) bad_format(fmt, "expected an integer");
  return v;
}

TimeUnit parse_unit(char c, std::string_view fmt) {
  switch (c) {
    case 's':
      return TimeUnit::kSecond;
    case 'm':
      return TimeUnit::kMilli;
    case 'u':
      return TimeUnit::kMicro;
    case 'n':
      return TimeUnit::kNano;
    default:
      bad_format(fmt, "unknown time unit");
  }
}

TypeId primitive_id(std::string_view f) {
  if (f.size() != 1) return TypeId::kCount_;
  switch (f[0]) {
    case 'n':
      return TypeId::kNull;
    case 'b':
      return TypeId::kBool;
    case 'c':
      return TypeId::kInt8;
    case 'C':
      return TypeId::kUInt8;
    case 's':
      return TypeId::kInt16;
    case 'S':
      return TypeId::kUInt16;
    case 'i':
      return TypeId::kInt32;
    case 'I':
      return TypeId::kUInt32;
    case 'l':
      return TypeId::kInt64;
    case 'L':
      return TypeId::kUInt64;
    case 'e':
      return TypeId::kFloat16;
    case 'f':
      return TypeId::kFloat32;
    case 'g':
      return TypeId::kFloat64;
    case 'z':
      return TypeId::kBinary;
    case 'Z':
      return TypeId::kLargeBinary;
    case 'u':
      return TypeId::kUtf8;
    case 'U':
      return TypeId::kLargeUtf8;
    default:
      return TypeId::kCount_;
  }
}

DataType parse_type(const ArrowSchema& schema, int depth);

void parse_children(const ArrowSchema& schema, DataType& t, int depth) {
  if (schema.n_children < 0 || (schema.n_children > 0 && schema.children == nullptr)) {
    throw ArrowImportError("malformed Arrow schema: bad children");
  }
  for (int64_t i = 0; i < schema.n_children; ++i) {
    if (schema.children[i] == nullptr) throw ArrowImportError("malformed Arrow schema: null child");
    const ArrowSchema& c = *schema.children[i];
    t.children.push_back(Field{c.name != nullptr ? c.name : "", parse_type(c, depth + 1)});
  }
}

DataType parse_type(const ArrowSchema& schema, int depth) {
  if (depth > kMaxTypeDepth) throw ArrowImportError("Arrow type nested too deeply");
  if (schema.format == nullptr) throw ArrowImportError("malformed Arrow schema: no format string");
  std::string_view f(schema.format);
  DataType t;
  t.format = std::string(f);

  if (schema.dictionary != nullptr) {
    TypeId idx = primitive_id(f);
    if (idx < TypeId::kInt8 || idx > TypeId::kUInt64)
      bad_format(f, "dictionary index must be an integer");
    t.id = TypeId::kDictionary;
    t.index_id = idx;
    t.ordered = (schema.flags & ARROW_FLAG_DICTIONARY_ORDERED) != 0;
    Field value{"values", parse_type(*schema.dictionary, depth + 1)};
    t.children.push_back(std::move(value));
    return t;
  }
  if (TypeId id = primitive_id(f); id != TypeId::kCount_) {
    t.id = id;
    return t;
  }
  if (f == "vu") {
    t.id = TypeId::kUtf8View;
    return t;
  }
  if (f == "vz") {
    t.id = TypeId::kBinaryView;
    return t;
  }
  if (f.starts_with("w:")) {
    t.id = TypeId::kFixedSizeBinary;
    t.width = parse_int(f.substr(2), f);
    if (t.width < 0) bad_format(f, "negative width");
    return t;
  }
  if (f.starts_with("d:")) {
    t.id = TypeId::kDecimal;
    std::string_view rest = f.substr(2);
    auto c1 = rest.find(',');
    if (c1 == std::string_view::npos) bad_format(f, "decimal needs precision and scale");
    t.precision = parse_int(rest.substr(0, c1), f);
    rest = rest.substr(c1 + 1);
    auto c2 = rest.find(',');
    t.scale = parse_int(rest.substr(0, c2), f);
    t.width = c2 == std::string_view::npos ? 128 : parse_int(rest.substr(c2 + 1), f);
    return t;  // width, precision and scale: validate()
  }
  if (f == "tdD") {
    t.id = TypeId::kDate32;
    return t;
  }
  if (f == "tdm") {
    t.id = TypeId::kDate64;
    t.unit = TimeUnit::kMilli;
    return t;
  }
  if (f.size() == 3 && f.starts_with("tt")) {
    t.unit = parse_unit(f[2], f);
    t.id = (t.unit == TimeUnit::kSecond || t.unit == TimeUnit::kMilli) ? TypeId::kTime32
                                                                       : TypeId::kTime64;
    return t;
  }
  if (f.size() >= 4 && f.starts_with("ts") && f[3] == ':') {
    t.id = TypeId::kTimestamp;
    t.unit = parse_unit(f[2], f);
    t.timezone = std::string(f.substr(4));
    return t;
  }
  if (f.size() == 3 && f.starts_with("tD")) {
    t.id = TypeId::kDuration;
    t.unit = parse_unit(f[2], f);
    return t;
  }
  if (f == "+l" || f == "+L") {
    t.id = f == "+l" ? TypeId::kList : TypeId::kLargeList;
    parse_children(schema, t, depth);
    if (t.children.size() != 1) bad_format(f, "a list needs exactly one child");
    return t;
  }
  if (f.starts_with("+w:")) {
    t.id = TypeId::kFixedSizeList;
    t.width = parse_int(f.substr(3), f);
    parse_children(schema, t, depth);
    if (t.children.size() != 1 || t.width < 0) bad_format(f, "a fixed-size list needs one child");
    return t;
  }
  if (f == "+s") {
    t.id = TypeId::kStruct;
    parse_children(schema, t, depth);
    return t;
  }
  if (f == "+m") {
    t.id = TypeId::kMap;
    parse_children(schema, t, depth);
    if (t.children.size() != 1) bad_format(f, "a map needs exactly one child");
    return t;
  }
  if (f == "tiM" || f == "tiD" || f == "tin") {
    t.id = TypeId::kOther;
    return t;
  }
  if (f.starts_with("+ud:") || f.starts_with("+us:")) {
    t.id = TypeId::kOther;
    parse_children(schema, t, depth);
    size_t ids = 0;
    std::string_view rest = f.substr(4);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      parse_int(rest.substr(0, comma), f);
      ++ids;
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
      if (rest.empty()) bad_format(f, "expected an integer");
    }
    if (ids != t.children.size()) bad_format(f, "a union needs one type id per child");
    return t;
  }
  if (f == "+r") {
    t.id = TypeId::kOther;
    parse_children(schema, t, depth);
    if (t.children.size() != 2) bad_format(f, "run-end encoded needs run_ends and values children");
    return t;
  }
  if (f == "+vl" || f == "+vL") {
    t.id = TypeId::kOther;
    parse_children(schema, t, depth);
    if (t.children.size() != 1) bad_format(f, "a list view needs exactly one child");
    return t;
  }
  bad_format(f, "unknown type");
}

void append_children_text(std::string& out, const std::vector<Field>& children) {
  for (size_t i = 0; i < children.size(); ++i) {
    if (i) out += ", ";
    out += children[i].name;
    out += ": ";
    out += children[i].type.to_string();
  }
}

const char* id_name(TypeId id) {
  switch (id) {
    case TypeId::kNull:
      return "null";
    case TypeId::kBool:
      return "bool";
    case TypeId::kInt8:
      return "int8";
    case TypeId::kInt16:
      return "int16";
    case TypeId::kInt32:
      return "int32";
    case TypeId::kInt64:
      return "int64";
    case TypeId::kUInt8:
      return "uint8";
    case TypeId::kUInt16:
      return "uint16";
    case TypeId::kUInt32:
      return "uint32";
    case TypeId::kUInt64:
      return "uint64";
    case TypeId::kFloat16:
      return "halffloat";
    case TypeId::kFloat32:
      return "float";
    case TypeId::kFloat64:
      return "double";
    case TypeId::kUtf8:
      return "string";
    case TypeId::kLargeUtf8:
      return "large_string";
    case TypeId::kUtf8View:
      return "string_view";
    case TypeId::kBinary:
      return "binary";
    case TypeId::kLargeBinary:
      return "large_binary";
    case TypeId::kBinaryView:
      return "binary_view";
    default:
      return "";
  }
}

}  // namespace

const char* time_unit_suffix(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kSecond:
      return "s";
    case TimeUnit::kMilli:
      return "ms";
    case TimeUnit::kMicro:
      return "us";
    case TimeUnit::kNano:
      return "ns";
  }
  return "?";
}

Field parse_field(const ArrowSchema& schema) {
  Field f;
  f.name = schema.name != nullptr ? schema.name : "";
  f.type = parse_type(schema, 0);
  f.type.validate();
  return f;
}

void DataType::validate() const {
  auto bad = [this](const std::string& why) {
    throw ArrowImportError("malformed Arrow type '" + (format.empty() ? to_string() : format) +
                           "': " + why);
  };
  auto need_children = [&](size_t n, const char* what) {
    if (children.size() != n) {
      bad(std::string(what) + " needs " + std::to_string(n) + " child type" + (n == 1 ? "" : "s") +
          ", got " + std::to_string(children.size()));
    }
  };
  if (id >= TypeId::kCount_) bad("unknown type id " + std::to_string(static_cast<int>(id)));
  if (unit > TimeUnit::kNano) bad("unknown time unit");
  if (index_id >= TypeId::kCount_) bad("unknown index type id");
  const bool has_width =
      id == TypeId::kDecimal || id == TypeId::kFixedSizeBinary || id == TypeId::kFixedSizeList;
  if (!has_width && width != 0) bad("width " + std::to_string(width) + " on a type without one");
  if (id != TypeId::kDecimal && (precision != 0 || scale != 0)) {
    bad("precision or scale on a type that is not a decimal");
  }
  if (id != TypeId::kTimestamp && !timezone.empty())
    bad("time zone on a type that is not a timestamp");
  if (id != TypeId::kDictionary && (index_id != TypeId::kNull || ordered)) {
    bad("index type on a type that is not a dictionary");
  }
  switch (id) {
    case TypeId::kDecimal: {
      if (width != 32 && width != 64 && width != 128 && width != 256) {
        bad("decimal bit width must be 32, 64, 128 or 256, got " + std::to_string(width));
      }
      const int32_t max_precision = width == 32 ? 9 : width == 64 ? 18 : width == 128 ? 38 : 76;
      if (precision < 1 || precision > max_precision) {
        bad("decimal precision must be from 1 to " + std::to_string(max_precision) + " for " +
            std::to_string(width) + " bits, got " + std::to_string(precision));
      }
      if (scale < kMinDecimalScale || scale > kMaxDecimalScale) {
        throw UnsupportedTypeError("decimal scale " + std::to_string(scale) +
                                   " is not supported: the engine profiles scales from " +
                                   std::to_string(kMinDecimalScale) + " to " +
                                   std::to_string(kMaxDecimalScale));
      }
      need_children(0, "a decimal");
      break;
    }
    case TypeId::kFixedSizeBinary:
      if (width < 0) bad("negative width");
      need_children(0, "fixed_size_binary");
      break;
    case TypeId::kFixedSizeList:
      if (width < 0) bad("negative list size");
      need_children(1, "a fixed-size list");
      break;
    case TypeId::kList:
    case TypeId::kLargeList:
      need_children(1, "a list");
      break;
    case TypeId::kMap:
      need_children(1, "a map");
      break;
    case TypeId::kDictionary:
      if (index_id < TypeId::kInt8 || index_id > TypeId::kUInt64) {
        bad("dictionary index must be an integer type");
      }
      need_children(1, "a dictionary");
      break;
    case TypeId::kTime32:
      if (unit != TimeUnit::kSecond && unit != TimeUnit::kMilli) bad("time32 unit must be s or ms");
      break;
    case TypeId::kTime64:
      if (unit != TimeUnit::kMicro && unit != TimeUnit::kNano) bad("time64 unit must be us or ns");
      break;
    case TypeId::kStruct:
    case TypeId::kOther:
      break;
    default:
      need_children(0, to_string().c_str());
  }
  for (const auto& c : children) c.type.validate();
}

bool DataType::operator==(const DataType& o) const {
  return id == o.id && unit == o.unit && timezone == o.timezone && width == o.width &&
         precision == o.precision && scale == o.scale && index_id == o.index_id &&
         children == o.children && (id != TypeId::kOther || format == o.format);
}

std::string DataType::to_string() const {
  std::string out;
  switch (id) {
    case TypeId::kFixedSizeBinary:
      return "fixed_size_binary[" + std::to_string(width) + "]";
    case TypeId::kDate32:
      return "date32[day]";
    case TypeId::kDate64:
      return "date64[ms]";
    case TypeId::kTimestamp:
      out = std::string("timestamp[") + time_unit_suffix(unit);
      if (!timezone.empty()) out += ", tz=" + timezone;
      return out + "]";
    case TypeId::kTime32:
      return std::string("time32[") + time_unit_suffix(unit) + "]";
    case TypeId::kTime64:
      return std::string("time64[") + time_unit_suffix(unit) + "]";
    case TypeId::kDuration:
      return std::string("duration[") + time_unit_suffix(unit) + "]";
    case TypeId::kDecimal:
      return "decimal" + std::to_string(width) + "(" + std::to_string(precision) + ", " +
             std::to_string(scale) + ")";
    case TypeId::kList:
    case TypeId::kLargeList:
      out = id == TypeId::kList ? "list<" : "large_list<";
      append_children_text(out, children);
      return out + ">";
    case TypeId::kFixedSizeList:
      out = "fixed_size_list<";
      append_children_text(out, children);
      return out + ">[" + std::to_string(width) + "]";
    case TypeId::kStruct:
      out = "struct<";
      append_children_text(out, children);
      return out + ">";
    case TypeId::kMap:
      if (!children.empty() && children[0].type.children.size() == 2) {
        return "map<" + children[0].type.children[0].type.to_string() + ", " +
               children[0].type.children[1].type.to_string() + ">";
      }
      return "map";
    case TypeId::kDictionary:
      return "dictionary<values=" +
             (children.empty() ? std::string("?") : children[0].type.to_string()) +
             ", indices=" + id_name(index_id) + ", ordered=" + (ordered ? "1" : "0") + ">";
    case TypeId::kOther:
      // as pyarrow renders them
      if (format == "tiM") return "month_interval";
      if (format == "tiD") return "day_time_interval";
      if (format == "tin") return "month_day_nano_interval";
      if (format == "+vl" || format == "+vL" || format == "+r") {
        out = format == "+vl"   ? "list_view<"
              : format == "+vL" ? "large_list_view<"
                                : "run_end_encoded<";
        append_children_text(out, children);
        return out + ">";
      }
      if (format.starts_with("+ud:") || format.starts_with("+us:")) {
        out = format[2] == 'd' ? "dense_union<" : "sparse_union<";
        std::string_view ids = std::string_view(format).substr(4);
        for (size_t i = 0; i < children.size(); ++i) {
          const auto comma = ids.find(',');
          if (i) out += ", ";
          out += children[i].name + ": " + children[i].type.to_string() + "=";
          out += ids.substr(0, comma);
          ids = comma == std::string_view::npos ? std::string_view() : ids.substr(comma + 1);
        }
        return out + ">";
      }
      return "arrow:" + format;
    default:
      return id_name(id);
  }
}

void DataType::serialize(ByteWriter& out) const {
  out.u8(static_cast<uint8_t>(id));
  out.u8(static_cast<uint8_t>(unit));
  out.str(timezone);
  out.put<int32_t>(width);
  out.put<int32_t>(precision);
  out.put<int32_t>(scale);
  out.u8(static_cast<uint8_t>(index_id));
  out.u8(ordered ? 1 : 0);
  out.str(format);
  out.u64(children.size());
  for (const auto& c : children) {
    out.str(c.name);
    c.type.serialize(out);
  }
}

DataType DataType::deserialize(ByteReader& in, int depth) {
  if (depth > kMaxTypeDepth) in.corrupt("data type nested too deeply");
  DataType t;
  uint8_t id = in.u8();
  if (id >= static_cast<uint8_t>(TypeId::kCount_))
    in.corrupt("unknown type id " + std::to_string(id));
  t.id = static_cast<TypeId>(id);
  uint8_t unit = in.u8();
  if (unit > static_cast<uint8_t>(TimeUnit::kNano)) in.corrupt("unknown time unit");
  t.unit = static_cast<TimeUnit>(unit);
  t.timezone = std::string(in.str());
  t.width = in.get<int32_t>();
  t.precision = in.get<int32_t>();
  t.scale = in.get<int32_t>();
  uint8_t idx = in.u8();
  if (idx >= static_cast<uint8_t>(TypeId::kCount_)) in.corrupt("unknown index type id");
  t.index_id = static_cast<TypeId>(idx);
  t.ordered = in.u8() != 0;
  t.format = std::string(in.str());
  // each child takes at least 8 (name length) + 1 (type id) bytes
  size_t n = in.count(9, 1u << 20);
  t.children.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Field f;
    f.name = std::string(in.str());
    f.type = deserialize(in, depth + 1);
    t.children.push_back(std::move(f));
  }
  if (depth == 0) {  // once for the whole tree
    try {
      t.validate();
    } catch (const Error& e) {
      in.corrupt(std::string("invalid data type: ") + e.what());
    }
  }
  return t;
}

}  // namespace truthound
