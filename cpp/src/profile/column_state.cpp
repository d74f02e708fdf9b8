// ColumnState: construction, type promotion, merge and serialization.
#include "truthound/profile/column_state.hpp"

#include <algorithm>

#include "truthound/util/error.hpp"
#include "truthound/util/temporal.hpp"

namespace truthound {

namespace {

const DataType& value_type(const DataType& t) {
  return t.id == TypeId::kDictionary && !t.children.empty() ? t.children[0].type : t;
}

int int_bits(TypeId id) {
  switch (id) {
    case TypeId::kInt8:
    case TypeId::kUInt8:
      return 8;
    case TypeId::kInt16:
    case TypeId::kUInt16:
      return 16;
    case TypeId::kInt32:
    case TypeId::kUInt32:
      return 32;
    default:
      return 64;
  }
}

bool is_unsigned(TypeId id) {
  return id >= TypeId::kUInt8 && id <= TypeId::kUInt64;
}

TypeId signed_of_bits(int bits) {
  return bits <= 8    ? TypeId::kInt8
         : bits <= 16 ? TypeId::kInt16
         : bits <= 32 ? TypeId::kInt32
                      : TypeId::kInt64;
}

bool is_binary_family(TypeId id) {
  return id == TypeId::kBinary || id == TypeId::kLargeBinary || id == TypeId::kBinaryView ||
         id == TypeId::kFixedSizeBinary;
}

DataType of(TypeId id) {
  DataType t;
  t.id = id;
  return t;
}

// The type both sides promote to without loss (DESIGN.md §2), or nullopt-like kCount_ if none.
bool promoted_type(const DataType& a0, const DataType& b0, DataType& out) {
  const DataType& a = value_type(a0);
  const DataType& b = value_type(b0);
  if (a == b) {
    out = a;
    return true;
  }
  if (a.id == TypeId::kNull) {
    out = b;
    return true;
  }
  if (b.id == TypeId::kNull) {
    out = a;
    return true;
  }
  if (a.id == b.id && has_time_unit(a) && a.timezone == b.timezone) {
    out = a.unit >= b.unit ? a : b;  // the finer unit; promote_to checks that the values fit
    return true;
  }
  if (a.is_integer() && b.is_integer()) {
    const bool ua = is_unsigned(a.id), ub = is_unsigned(b.id);
    const int ba = int_bits(a.id), bb = int_bits(b.id);
    if (ua == ub) {
      out = ba >= bb ? a : b;
      return true;
    }
    const int ubits = ua ? ba : bb, sbits = ua ? bb : ba;
    if (ubits == 64) return false;  // uint64 with a signed type: no lossless common type
    out = of(signed_of_bits(std::max(sbits, ubits * 2)));
    return true;
  }
  if ((a.is_integer() || a.is_floating()) && (b.is_integer() || b.is_floating())) {
    if (a.id == TypeId::kFloat32 && (b.id == TypeId::kFloat16 || b.id == TypeId::kFloat32)) {
      out = a;
    } else if (b.id == TypeId::kFloat32 && a.id == TypeId::kFloat16) {
      out = b;
    } else {
      out = of(TypeId::kFloat64);
    }
    return true;
  }
  if (a.is_utf8() && b.is_utf8()) {
    out = of(a.id == TypeId::kLargeUtf8 || b.id == TypeId::kLargeUtf8 ? TypeId::kLargeUtf8
                                                                      : TypeId::kUtf8);
    return true;
  }
  if (is_binary_family(a.id) && is_binary_family(b.id)) {
    out = of(a.id == TypeId::kLargeBinary || b.id == TypeId::kLargeBinary ? TypeId::kLargeBinary
                                                                          : TypeId::kBinary);
    return true;
  }
  if (a.id == TypeId::kDecimal && b.id == TypeId::kDecimal && a.scale == b.scale &&
      (a.width == 256) == (b.width == 256)) {
    out = a;
    out.width = std::max(a.width, b.width);
    out.precision = std::max(a.precision, b.precision);
    return true;
  }
  if (a.is_list_like() && b.is_list_like()) {
    out = a;
    return true;
  }
  return false;
}

void write_i128(ByteWriter& out, __int128 v) {
  const auto u = static_cast<unsigned __int128>(v);
  out.u64(static_cast<uint64_t>(u));
  out.u64(static_cast<uint64_t>(u >> 64));
}

__int128 read_i128(ByteReader& in) {
  const uint64_t lo = in.u64();
  const uint64_t hi = in.u64();
  return static_cast<__int128>((static_cast<unsigned __int128>(hi) << 64) | lo);
}

}  // namespace

ValueDomain domain_of(const DataType& type) {
  const DataType& t = value_type(type);
  switch (t.id) {
    case TypeId::kNull:
      return ValueDomain::kNone;
    case TypeId::kBool:
      return ValueDomain::kBool;
    case TypeId::kUInt64:
      return ValueDomain::kUInt;
    case TypeId::kFloat16:
    case TypeId::kFloat32:
    case TypeId::kFloat64:
      return ValueDomain::kFloat;
    case TypeId::kDecimal:
      return t.width == 256 ? ValueDomain::kFloat : ValueDomain::kDecimal;
    case TypeId::kList:
    case TypeId::kLargeList:
    case TypeId::kFixedSizeList:
    case TypeId::kMap:
      return ValueDomain::kList;
    case TypeId::kOther:
    case TypeId::kStruct:
    case TypeId::kDictionary:
      return ValueDomain::kOther;
    default:
      if (t.is_integer() || t.is_temporal()) return ValueDomain::kInt;
      if (t.is_string_like()) return ValueDomain::kBytes;
      return ValueDomain::kOther;
  }
}

ColumnState::ColumnState(std::string name, DataType type, const ProfileOptions& options)
    : name_(std::move(name)),
      type_(std::move(type)),
      domain_(domain_of(type_)),
      pattern_samples_(options.pattern_samples),
      detect_patterns_(options.patterns),
      kll_(options.kll_k),
      hll_(options.hll_precision),
      freq_(options.frequent_items_capacity) {}

bool ColumnState::is_numeric() const {
  switch (domain_) {
    case ValueDomain::kInt:
      return !value_type(type_).is_temporal();
    case ValueDomain::kUInt:
    case ValueDomain::kFloat:
    case ValueDomain::kDecimal:
      return true;
    default:
      return false;
  }
}

void ColumnState::rescale_time_unit(const DataType& type) {
  const TimeUnit from = value_type(type_).unit, to = value_type(type).unit;
  const int64_t factor = time_unit_factor(from, to);
  int64_t lo = imin_, hi = imax_;
  __int128 sum = 0;
  const bool fits =
      !has_minmax_ || (rescale_time(imin_, from, to, lo) && rescale_time(imax_, from, to, hi) &&
                       !__builtin_mul_overflow(isum_, __int128{factor}, &sum));
  if (!fits) {
    std::string range;
    if (!format_temporal(value_type(type_), imin_, range)) range = std::to_string(imin_);
    std::string upper;
    if (!format_temporal(value_type(type_), imax_, upper)) upper = std::to_string(imax_);
    throw SchemaError("column '" + name_ + "' is " + type_.to_string() + " in one part and " +
                      type.to_string() + " in another, and its " + type_.to_string() + " values (" +
                      range + " to " + upper + ") do not fit " + type.to_string() + " (int64 " +
                      time_unit_suffix(to) + " since 1970)");
  }
  imin_ = lo;
  imax_ = hi;
  isum_ = sum;
  // Quantiles: the sketch holds doubles of the raw integers; scaling each by the factor rounds
  // once, exactly like converting the rescaled integer (both are exact below 2^53). Dates and
  // durations keep no moments; hashes and top values are unit-free already (canonical_time).
  if (!kll_.is_empty()) kll_.scale(static_cast<double>(factor));
}

void ColumnState::promote_to(const DataType& type) {
  const ValueDomain to = domain_of(type);
  const DataType& from_t = value_type(type_);
  const DataType& to_t = value_type(type);
  if (has_time_unit(from_t) && to_t.id == from_t.id && to_t.unit != from_t.unit) {
    rescale_time_unit(type);
  } else if (to != domain_ && has_minmax_) {
    if (to == ValueDomain::kFloat && domain_ == ValueDomain::kInt) {
      fmin_ = static_cast<double>(imin_);
      fmax_ = static_cast<double>(imax_);
    } else if (to == ValueDomain::kFloat && domain_ == ValueDomain::kUInt) {
      fmin_ = static_cast<double>(umin_);
      fmax_ = static_cast<double>(umax_);
    } else if (to == ValueDomain::kInt && domain_ == ValueDomain::kUInt) {
      imin_ = static_cast<int64_t>(umin_);
      imax_ = static_cast<int64_t>(umax_);
    } else {
      throw SchemaError("column '" + name_ + "': cannot promote " + type_.to_string() + " to " +
                        type.to_string());
    }
  }
  domain_ = to;
  type_ = type;
}

void ColumnState::check_mergeable_type(const DataType& type) const {
  DataType common;
  if (!(type_ == type) && !promoted_type(type_, type, common)) {
    throw SchemaError("column '" + name_ + "' has type " + type_.to_string() + " in one part and " +
                      type.to_string() + " in another, with no lossless common type");
  }
}

void ColumnState::merge(const ColumnState& other) {
  if (!(type_ == other.type_)) {
    check_mergeable_type(other.type_);
    DataType common;
    promoted_type(type_, other.type_, common);
    if (!(type_ == common)) promote_to(common);
    if (!(other.type_ == common)) {
      ColumnState promoted = other;
      promoted.promote_to(common);
      merge(promoted);
      return;
    }
  }
  rows_ += other.rows_;
  nulls_ += other.nulls_;
  nan_ += other.nan_;
  inf_ += other.inf_;
  zero_ += other.zero_;
  negative_ += other.negative_;
  empty_ += other.empty_;
  true_ += other.true_;
  false_ += other.false_;
  memory_bytes_ += other.memory_bytes_;
  if (other.has_minmax_) {
    if (!has_minmax_) {
      imin_ = other.imin_, imax_ = other.imax_, umin_ = other.umin_, umax_ = other.umax_;
      fmin_ = other.fmin_, fmax_ = other.fmax_, dmin_ = other.dmin_, dmax_ = other.dmax_;
      smin_ = other.smin_, smax_ = other.smax_;
      has_minmax_ = true;
    } else {
      imin_ = std::min(imin_, other.imin_), imax_ = std::max(imax_, other.imax_);
      umin_ = std::min(umin_, other.umin_), umax_ = std::max(umax_, other.umax_);
      fmin_ = std::min(fmin_, other.fmin_), fmax_ = std::max(fmax_, other.fmax_);
      dmin_ = std::min(dmin_, other.dmin_), dmax_ = std::max(dmax_, other.dmax_);
      if (other.smin_ < smin_) smin_ = other.smin_;
      if (other.smax_ > smax_) smax_ = other.smax_;
    }
  }
  len_min_ = std::min(len_min_, other.len_min_);
  len_max_ = std::max(len_max_, other.len_max_);
  len_sum_ += other.len_sum_;
  len_count_ += other.len_count_;
  moments_.merge(other.moments_);
  isum_ += other.isum_;
  kll_.merge(other.kll_);
  hll_.merge(other.hll_);
  freq_.merge(other.freq_);
  pattern_checked_ += other.pattern_checked_;
  for (size_t p = 0; p < kPatternCount; ++p) {
    pattern_counts_[p] += other.pattern_counts_[p];
    auto& mine = pattern_samples_list_[p];
    for (const auto& v : other.pattern_samples_list_[p]) {
      if (mine.size() >= pattern_samples_) break;
      if (std::find(mine.begin(), mine.end(), v) == mine.end()) mine.push_back(v);
    }
  }
}

// Layout (all little-endian; the enclosing partial profile frames and checksums it):
//   name (u64 len + bytes) | data type | domain u8 | 10 x u64 counters | has_minmax u8 |
//   imin i64 imax i64 | umin u64 umax u64 | fmin f64 fmax f64 | dmin i128 dmax i128 |
//   smin str smax str | len_min len_max len_sum len_count u64 | Moments | isum i128 | KLL | HLL |
//   FrequentItems | pattern_checked u64 | 18 x pattern count u64 | 18 x samples (u64 n, n strs)
void ColumnState::serialize(ByteWriter& out) const {
  out.str(name_);
  type_.serialize(out);
  out.u8(static_cast<uint8_t>(domain_));
  for (uint64_t v :
       {rows_, nulls_, nan_, inf_, zero_, negative_, empty_, true_, false_, memory_bytes_}) {
    out.u64(v);
  }
  out.u8(has_minmax_ ? 1 : 0);
  out.i64(imin_);
  out.i64(imax_);
  out.u64(umin_);
  out.u64(umax_);
  out.f64(fmin_);
  out.f64(fmax_);
  write_i128(out, dmin_);
  write_i128(out, dmax_);
  out.str(smin_);
  out.str(smax_);
  for (uint64_t v : {len_min_, len_max_, len_sum_, len_count_}) out.u64(v);
  moments_.serialize(out);
  write_i128(out, isum_);
  kll_.serialize(out);
  hll_.serialize(out);
  freq_.serialize(out);
  out.u64(pattern_checked_);
  for (uint64_t c : pattern_counts_) out.u64(c);
  for (const auto& samples : pattern_samples_list_) {
    out.u64(samples.size());
    for (const auto& v : samples) out.str(v);
  }
}

ColumnState::SerializedSizes ColumnState::serialized_sizes() const {
  auto bytes = [](const auto& part) {
    ByteWriter w;
    part.serialize(w);
    return w.size();
  };
  return {bytes(*this), bytes(hll_), bytes(kll_), bytes(freq_)};
}

ColumnState ColumnState::deserialize(ByteReader& in, const ProfileOptions& options) {
  std::string name(in.str());
  DataType type = DataType::deserialize(in);
  ColumnState c(std::move(name), std::move(type), options);
  const uint8_t domain = in.u8();
  if (domain != static_cast<uint8_t>(c.domain_))
    in.corrupt("column '" + c.name_ + "': domain does not match its type");
  for (uint64_t* v : {&c.rows_, &c.nulls_, &c.nan_, &c.inf_, &c.zero_, &c.negative_, &c.empty_,
                      &c.true_, &c.false_, &c.memory_bytes_}) {
    *v = in.u64();
  }
  if (c.nulls_ > c.rows_ || c.true_ + c.false_ > c.rows_ || c.nan_ + c.inf_ > c.rows_) {
    in.corrupt("column '" + c.name_ + "': inconsistent counts");
  }
  c.has_minmax_ = in.u8() != 0;
  c.imin_ = in.i64();
  c.imax_ = in.i64();
  c.umin_ = in.u64();
  c.umax_ = in.u64();
  c.fmin_ = in.f64();
  c.fmax_ = in.f64();
  c.dmin_ = read_i128(in);
  c.dmax_ = read_i128(in);
  c.smin_ = std::string(in.str());
  c.smax_ = std::string(in.str());
  c.len_min_ = in.u64();
  c.len_max_ = in.u64();
  c.len_sum_ = in.u64();
  c.len_count_ = in.u64();
  c.moments_ = Moments::deserialize(in);
  c.isum_ = read_i128(in);
  c.kll_ = KllSketch::deserialize(in);
  c.hll_ = HyperLogLog::deserialize(in);
  c.freq_ = FrequentItems::deserialize(in);
  if (c.kll_.k() != options.kll_k || c.hll_.precision() != options.hll_precision) {
    in.corrupt("column '" + c.name_ + "': sketch parameters differ from the profile's options");
  }
  c.pattern_checked_ = in.u64();
  for (auto& p : c.pattern_counts_) {
    p = in.u64();
    if (p > c.pattern_checked_)
      in.corrupt("column '" + c.name_ + "': pattern count exceeds values checked");
  }
  for (auto& samples : c.pattern_samples_list_) {
    const size_t n = in.count(8, 1000);
    for (size_t i = 0; i < n; ++i) samples.emplace_back(in.str());
  }
  return c;
}

}  // namespace truthound
