// ColumnState::consume: type dispatch once per batch, then typed loops over Arrow buffers.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "truthound/arrow/bitmap.hpp"
#include "truthound/profile/column_state.hpp"
#include "truthound/util/error.hpp"
#include "truthound/util/hash.hpp"
#include "truthound/util/order_prefix.hpp"
#include "truthound/util/temporal.hpp"
#include "truthound/util/utf8.hpp"

namespace truthound {

namespace {

constexpr size_t kBlock = 2048;  // values per block: hashes and doubles stay in L1/L2

// ---- positions: which element of the array the k-th valid value is ----
struct Identity {
  int64_t base;
  int64_t operator()(size_t k) const { return base + static_cast<int64_t>(k); }
};
struct Lookup {
  const int64_t* pos;
  int64_t base;
  int64_t operator()(size_t k) const { return base + pos[k]; }
};

// ---- weights: how many rows the k-th value stands for ----
struct OneRow {
  static constexpr bool kUnit = true;
  uint64_t operator()(size_t) const { return 1; }
};

struct Weighted {
  static constexpr bool kUnit = false;
  const uint64_t* w;
  uint64_t operator()(size_t k) const { return w[k]; }
};

// ---- accessors: the k-th valid value ----
template <typename T, typename P>
struct Num {
  const T* p;
  P pos;
  T get(size_t k) const { return p[pos(k)]; }
};

inline double half_to_double(uint16_t h) {
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = std::ldexp(static_cast<double>(mant), -24);
  } else if (exp == 31) {
    v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else {
    v = std::ldexp(static_cast<double>(mant | 0x400), exp - 25);
  }
  return (h & 0x8000) ? -v : v;
}

template <typename P>
struct Half {
  const uint16_t* p;
  P pos;
  double get(size_t k) const { return half_to_double(p[pos(k)]); }
};

inline __int128 load_i128(const uint8_t* p) {
  uint64_t lo, hi;
  std::memcpy(&lo, p, 8);
  std::memcpy(&hi, p + 8, 8);
  return static_cast<__int128>((static_cast<unsigned __int128>(hi) << 64) | lo);
}

template <typename P>
struct Dec128 {
  const uint8_t* p;
  P pos;
  __int128 get(size_t k) const { return load_i128(p + 16 * pos(k)); }
};

template <typename T, typename P>
struct DecNarrow {
  const T* p;
  P pos;
  __int128 get(size_t k) const { return static_cast<__int128>(p[pos(k)]); }
};

// decimal256 is profiled through doubles (see README: exact only within 2^53 units)
template <typename P>
struct Dec256 {
  const uint8_t* p;
  P pos;
  double scale;
  double get(size_t k) const {
    const uint8_t* q = p + 32 * pos(k);
    uint64_t limb[4];
    std::memcpy(limb, q, 32);
    const bool neg = (limb[3] >> 63) != 0;
    if (neg) {  // two's complement negate
      unsigned carry = 1;
      for (auto& l : limb) {
        l = ~l + carry;
        carry = (carry && l == 0) ? 1 : 0;
      }
    }
    long double v = 0;
    for (int i = 3; i >= 0; --i)
      v = v * 18446744073709551616.0L + static_cast<long double>(limb[i]);
    v /= scale;
    return static_cast<double>(neg ? -v : v);
  }
};

template <typename O, typename P>
struct Str {
  const O* off;
  const char* data;
  P pos;
  std::string_view get(size_t k) const {
    const int64_t i = pos(k);
    return {data + off[i], static_cast<size_t>(off[i + 1] - off[i])};
  }
};

template <typename P>
struct FixedStr {
  const char* data;
  int64_t width;
  P pos;
  std::string_view get(size_t k) const {
    return {data + pos(k) * width, static_cast<size_t>(width)};
  }
};

template <typename P>
struct ViewStr {
  const uint8_t* views;
  const void* const* data_buffers;
  const int64_t* data_sizes;
  int64_t n_data;
  P pos;
  std::string_view get(size_t k) const {
    const uint8_t* v = views + 16 * pos(k);
    int32_t size;
    std::memcpy(&size, v, 4);
    if (size < 0) throw ArrowImportError("malformed string_view array: negative length");
    if (size <= 12) return {reinterpret_cast<const char*>(v + 4), static_cast<size_t>(size)};
    int32_t buf, off;
    std::memcpy(&buf, v + 8, 4);
    std::memcpy(&off, v + 12, 4);
    if (buf < 0 || buf >= n_data || off < 0 || off + static_cast<int64_t>(size) > data_sizes[buf]) {
      throw ArrowImportError("malformed string_view array: view points outside its data buffers");
    }
    return {static_cast<const char*>(data_buffers[buf]) + off, static_cast<size_t>(size)};
  }
};

template <typename T>
const T* buffer(const ArrowArray& a, int i, const std::string& column) {
  if (a.n_buffers <= i || a.buffers == nullptr || a.buffers[i] == nullptr) {
    throw ArrowImportError("column '" + column + "': malformed Arrow array, buffer " +
                           std::to_string(i) + " is missing");
  }
  return static_cast<const T*>(a.buffers[i]);
}

// Calls fn(values) with the value buffer of an integer array, typed by `id` (dates, times,
// timestamps and durations by their storage type); false when `id` is not an integer type.
template <typename Fn>
bool with_integer_buffer(TypeId id, const ArrowArray& a, const std::string& column, Fn&& fn) {
  switch (id) {
    case TypeId::kInt8:
      fn(buffer<int8_t>(a, 1, column));
      return true;
    case TypeId::kInt16:
      fn(buffer<int16_t>(a, 1, column));
      return true;
    case TypeId::kInt32:
    case TypeId::kDate32:
    case TypeId::kTime32:
      fn(buffer<int32_t>(a, 1, column));
      return true;
    case TypeId::kInt64:
    case TypeId::kDate64:
    case TypeId::kTimestamp:
    case TypeId::kTime64:
    case TypeId::kDuration:
      fn(buffer<int64_t>(a, 1, column));
      return true;
    case TypeId::kUInt8:
      fn(buffer<uint8_t>(a, 1, column));
      return true;
    case TypeId::kUInt16:
      fn(buffer<uint16_t>(a, 1, column));
      return true;
    case TypeId::kUInt32:
      fn(buffer<uint32_t>(a, 1, column));
      return true;
    case TypeId::kUInt64:
      fn(buffer<uint64_t>(a, 1, column));
      return true;
    default:
      return false;
  }
}

// Appends base + i for every set bit i in [0, length) of `valid` (bit 0 aligned).
void append_set_positions(const uint8_t* valid, int64_t length, int64_t base,
                          std::vector<int64_t>& out) {
  int64_t i = 0;
  for (; i + 64 <= length; i += 64) {
    uint64_t w;
    std::memcpy(&w, valid + (i >> 3), 8);
    while (w) {
      out.push_back(base + i + std::countr_zero(w));
      w &= w - 1;
    }
  }
  for (; i < length; ++i) {
    if (get_bit(valid, i)) out.push_back(base + i);
  }
}

inline uint64_t hash_i128(__int128 v) {
  if (v >= INT64_MIN && v <= INT64_MAX) return hash_int(static_cast<int64_t>(v));
  const auto u = static_cast<unsigned __int128>(v);
  return mix64(static_cast<uint64_t>(u) ^ mix64(static_cast<uint64_t>(u >> 64) ^ kHashSeed));
}

// The hash of a timestamp or duration: of its canonical form, so 2 s and 2000 ms hash alike.
// Seconds hash as plain integers.
inline uint64_t hash_time(int64_t v, TimeUnit unit) {
  const CanonicalTime c = canonical_time(v, unit);
  if (c.unit == TimeUnit::kSecond) return hash_int(c.value);
  return mix64(hash_int(c.value) ^ (kHashSeed + 0x7100ULL + static_cast<uint64_t>(c.unit)));
}

inline long double pow10l_int(int scale) {
  long double p = 1;
  for (int i = 0; i < scale; ++i) p *= 10;
  for (int i = 0; i > scale; --i) p /= 10;
  return p;
}

inline double canonical_double(double x) {
  if (x == 0) return 0.0;
  if (std::isnan(x)) return std::numeric_limits<double>::quiet_NaN();
  return x;
}

int fixed_byte_width(TypeId id) {
  switch (id) {
    case TypeId::kInt8:
    case TypeId::kUInt8:
      return 1;
    case TypeId::kInt16:
    case TypeId::kUInt16:
    case TypeId::kFloat16:
      return 2;
    case TypeId::kInt32:
    case TypeId::kUInt32:
    case TypeId::kFloat32:
    case TypeId::kDate32:
    case TypeId::kTime32:
      return 4;
    case TypeId::kInt64:
    case TypeId::kUInt64:
    case TypeId::kFloat64:
    case TypeId::kDate64:
    case TypeId::kTimestamp:
    case TypeId::kTime64:
    case TypeId::kDuration:
      return 8;
    default:
      return 0;
  }
}

}  // namespace

// ---------------------------------------------------------------- typed kernels

// Integers as int64 (V = int64_t: every signed type, dates and times) or uint64 (V = uint64_t).
template <typename V, typename Acc>
void ColumnState::consume_integers(const Acc& acc, size_t n, Scratch& s) {
  constexpr bool kSigned = std::is_signed_v<V>;
  using Sum = std::conditional_t<kSigned, __int128, unsigned __int128>;
  // Dates and times have no mean or variance (their min, max and quantiles are reported).
  const bool with_moments =
      !kSigned || (!type_.is_temporal() &&
                   !(type_.id == TypeId::kDictionary && type_.children[0].type.is_temporal()));
  V& global_min = [&]() -> V& {
    if constexpr (kSigned)
      return imin_;
    else
      return umin_;
  }();
  V& global_max = [&]() -> V& {
    if constexpr (kSigned)
      return imax_;
    else
      return umax_;
  }();
  // Timestamps and durations hash, and keep their top values, in canonical form ('t', unit,
  // value: see canonical_time), so parts read in different units merge (promote_to).
  const DataType& vt =
      type_.id == TypeId::kDictionary && !type_.children.empty() ? type_.children[0].type : type_;
  const bool timed = kSigned && has_time_unit(vt);
  const bool rehash = timed && vt.unit != TimeUnit::kSecond;
  s.hashes.resize(n);
  s.doubles.resize(std::min(n, kBlock));
  char buf[10];
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t m = std::min(kBlock, n - b);
    uint64_t* h = s.hashes.data() + b;
    double* d = s.doubles.data();
    V mn = std::numeric_limits<V>::max(), mx = std::numeric_limits<V>::min();
    uint64_t zeros = 0, negatives = 0;
    Sum sum = 0;
    for (size_t k = 0; k < m; ++k) {
      const auto v = static_cast<V>(acc.get(b + k));
      if constexpr (kSigned) {
        h[k] = hash_int(v);
        negatives += v < 0;
      } else {
        h[k] = hash_uint(v);
      }
      d[k] = static_cast<double>(v);
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
      zeros += v == 0;
      sum += v;
    }
    isum_ += static_cast<__int128>(sum);
    if (!has_minmax_) {
      global_min = mn;
      global_max = mx;
      has_minmax_ = true;
    } else {
      global_min = std::min(global_min, mn);
      global_max = std::max(global_max, mx);
    }
    zero_ += zeros;
    negative_ += negatives;
    if (rehash) {
      for (size_t k = 0; k < m; ++k) {
        h[k] = hash_time(static_cast<int64_t>(acc.get(b + k)), vt.unit);
      }
    }
    hll_.update(std::span<const uint64_t>(h, m));
    std::span<const double> ds(d, m);
    if (with_moments) moments_.update(ds);
    kll_.update(ds);
  }
  const std::span<const uint64_t> all(s.hashes.data(), n);
  if (timed) {
    freq_.update(all, [&](size_t k) {
      const CanonicalTime c = canonical_time(static_cast<int64_t>(acc.get(k)), vt.unit);
      buf[0] = 't';
      buf[1] = static_cast<char>(c.unit);
      std::memcpy(buf + 2, &c.value, 8);
      return std::string_view(buf, 10);
    });
  } else {
    freq_.update(all, [&](size_t k) {
      buf[0] = kSigned ? 'i' : 'u';
      const auto v = static_cast<V>(acc.get(k));
      std::memcpy(buf + 1, &v, 8);
      return std::string_view(buf, 9);
    });
  }
}

template <typename Acc>
void ColumnState::consume_floats(const Acc& acc, size_t n, Scratch& s) {
  s.hashes.resize(n);
  s.doubles.resize(std::min(n, kBlock));
  char buf[9];
  uint64_t batch_nans = 0;
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t m = std::min(kBlock, n - b);
    uint64_t* h = s.hashes.data() + b;
    double* d = s.doubles.data();
    size_t f = 0;
    double mn = std::numeric_limits<double>::infinity(), mx = -mn;
    uint64_t zeros = 0, negatives = 0, nans = 0, infs = 0;
    for (size_t k = 0; k < m; ++k) {
      double x = static_cast<double>(acc.get(b + k));
      h[k] = hash_double(x);
      if (std::isfinite(x)) [[likely]] {
        x += 0.0;  // -0.0 -> 0.0
        d[f++] = x;
        mn = x < mn ? x : mn;
        mx = x > mx ? x : mx;
        zeros += x == 0;
        negatives += x < 0;
      } else if (std::isnan(x)) {
        ++nans;
      } else {
        ++infs;
      }
    }
    if (f > 0) {
      if (!has_minmax_) {
        fmin_ = mn;
        fmax_ = mx;
        has_minmax_ = true;
      } else {
        fmin_ = std::min(fmin_, mn);
        fmax_ = std::max(fmax_, mx);
      }
    }
    zero_ += zeros;
    negative_ += negatives;
    nan_ += nans;
    inf_ += infs;
    std::span<const uint64_t> hs(h, m);
    hll_.update(hs);
    batch_nans += nans;
    std::span<const double> ds(d, f);
    moments_.update(ds);
    kll_.update(ds);
  }
  auto value_at = [&](size_t row) {
    buf[0] = 'f';
    const double v = canonical_double(static_cast<double>(acc.get(row)));
    std::memcpy(buf + 1, &v, 8);
    return std::string_view(buf, 9);
  };
  if (batch_nans == 0) [[likely]] {
    freq_.update(std::span<const uint64_t>(s.hashes.data(), n), value_at);
  } else {
    // NaN has nan_count: top and bottom values leave it out. The other rows go to the sketch in
    // order, with their positions.
    auto& rows = s.kept_rows;
    auto& kept = s.kept_hashes;
    rows.clear();
    kept.clear();
    for (size_t k = 0; k < n; ++k) {
      if (!std::isnan(static_cast<double>(acc.get(k)))) {
        rows.push_back(static_cast<uint32_t>(k));
        kept.push_back(s.hashes[k]);
      }
    }
    freq_.update(std::span<const uint64_t>(kept),
                 [&](size_t j) { return value_at(static_cast<size_t>(rows[j])); });
  }
}

template <typename Acc>
void ColumnState::consume_decimals(const Acc& acc, size_t n, Scratch& s) {
  const DataType& vt = type_.id == TypeId::kDictionary ? type_.children[0].type : type_;
  const long double divisor = pow10l_int(vt.scale);
  s.hashes.resize(n);
  s.doubles.resize(std::min(n, kBlock));
  char buf[17];
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t m = std::min(kBlock, n - b);
    uint64_t* h = s.hashes.data() + b;
    double* d = s.doubles.data();
    for (size_t k = 0; k < m; ++k) {
      const __int128 v = acc.get(b + k);
      h[k] = hash_i128(v);
      d[k] = static_cast<double>(static_cast<long double>(v) / divisor);
      if (!has_minmax_) {
        dmin_ = dmax_ = v;
        has_minmax_ = true;
      } else {
        dmin_ = v < dmin_ ? v : dmin_;
        dmax_ = v > dmax_ ? v : dmax_;
      }
      zero_ += v == 0;
      negative_ += v < 0;
    }
    hll_.update(std::span<const uint64_t>(h, m));
    std::span<const double> ds(d, m);
    moments_.update(ds);
    kll_.update(ds);
  }
  freq_.update(std::span<const uint64_t>(s.hashes.data(), n), [&](size_t k) {
    buf[0] = 'd';
    const __int128 v = acc.get(k);
    std::memcpy(buf + 1, &v, 16);
    return std::string_view(buf, 17);
  });
}

void ColumnState::note_patterns(std::string_view v, uint32_t mask, uint64_t weight) {
  while (mask) {
    const int bit = std::countr_zero(mask);
    mask &= mask - 1;
    pattern_counts_[bit] += weight;
    auto& samples = pattern_samples_list_[bit];
    if (samples.size() < pattern_samples_ &&
        std::find(samples.begin(), samples.end(), v) == samples.end()) {
      samples.emplace_back(v.substr(0, 200));
    }
  }
}

template <typename Acc, typename Weight>
void ColumnState::consume_strings(const Acc& acc, size_t n, Scratch& s, bool utf8, Weight weight) {
  s.hashes.resize(n);
  const bool patterns = utf8 && detect_patterns_;
  uint32_t alone = 0;  // see match_patterns_next
  uint64_t rows = 0;
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t m = std::min(kBlock, n - b);
    uint64_t* h = s.hashes.data() + b;
    std::string_view bmin = acc.get(b), bmax = bmin;
    uint64_t kmin = order_prefix(bmin), kmax = kmin;
    uint64_t lmin = UINT64_MAX, lmax = 0, lsum = 0, empties = 0, brows = 0;
    for (size_t k = 0; k < m; ++k) {
      const std::string_view v = acc.get(b + k);
      const uint64_t w = weight(b + k);
      h[k] = hash_bytes(v.data(), v.size());
      const uint64_t len = utf8 ? utf8_length(v.data(), v.size()) : v.size();
      lmin = len < lmin ? len : lmin;
      lmax = len > lmax ? len : lmax;
      lsum += len * w;
      empties += v.empty() ? w : 0;
      brows += w;
      // Most values differ from the block's min and max in their first 8 bytes: compare those
      // as one big-endian integer and fall back to the full comparison only on a tie.
      const uint64_t key = order_prefix(v);
      if (key <= kmin && (key < kmin || v < bmin)) {
        bmin = v;
        kmin = key;
      }
      if (key >= kmax && (key > kmax || v > bmax)) {
        bmax = v;
        kmax = key;
      }
      if (patterns) {
        if (const uint32_t mask = match_patterns_next(v, alone)) note_patterns(v, mask, w);
      }
    }
    if (!has_minmax_) {
      smin_.assign(bmin);
      smax_.assign(bmax);
      has_minmax_ = true;
    } else {
      if (bmin < std::string_view(smin_)) smin_.assign(bmin);
      if (bmax > std::string_view(smax_)) smax_.assign(bmax);
    }
    len_min_ = std::min(len_min_, lmin);
    len_max_ = std::max(len_max_, lmax);
    len_sum_ += lsum;
    len_count_ += brows;
    empty_ += empties;
    rows += brows;
    hll_.update(std::span<const uint64_t>(h, m));
  }
  if constexpr (Weight::kUnit) {
    freq_.update(std::span<const uint64_t>(s.hashes.data(), n),
                 [&](size_t k) { return top_value_bytes(acc.get(k)); });
  } else {
    for (size_t k = 0; k < n; ++k)
      freq_.update(s.hashes[k], top_value_bytes(acc.get(k)), weight(k));
  }
  if (patterns) pattern_checked_ += rows;
}

void ColumnState::consume_dictionary_entries(const ArrowArray& dict, const DataType& vt,
                                             bool row_hashes, Scratch& s) {
  // s.positions holds the entry of each valid row and s.entry_counts the rows per entry.
  s.entries.clear();
  s.entry_weights.clear();
  for (size_t e = 0; e < s.entry_counts.size(); ++e) {
    if (s.entry_counts[e] != 0) {
      s.entries.push_back(static_cast<int64_t>(e));
      s.entry_weights.push_back(s.entry_counts[e]);
    }
  }
  std::swap(s.positions, s.entries);  // consume_values reads its positions from s.positions
  consume_values(dict, vt, 0, s.positions.size(), true, s, s.entry_weights.data());
  std::swap(s.positions, s.entries);
  if (!row_hashes) return;
  // s.hashes has one hash per used entry: spread them over the rows (entry_counts now maps an
  // entry to its hash).
  for (size_t k = 0; k < s.entries.size(); ++k)
    s.entry_counts[static_cast<size_t>(s.entries[k])] = s.hashes[k];
  s.hashes.resize(s.positions.size());
  for (size_t k = 0; k < s.positions.size(); ++k)
    s.hashes[k] = s.entry_counts[static_cast<size_t>(s.positions[k])];
}

// ---------------------------------------------------------------- dispatch

void ColumnState::consume_values(const ArrowArray& a, const DataType& t, int64_t base, size_t n,
                                 bool indexed, Scratch& s, const uint64_t* weights) {
  s.hashes.clear();
  if (n == 0) return;
  const std::string& c = name_;
  auto with_pos = [&](auto&& fn) {
    if (indexed) {
      fn(Lookup{s.positions.data(), a.offset});
    } else {
      fn(Identity{a.offset + base});
    }
  };
  // Strings, each value standing for one row or (dictionary entries) for weights[k] rows.
  auto strings = [&](auto pos, auto&& make, bool utf8) {
    if (weights != nullptr) {
      consume_strings(make(pos), n, s, utf8, Weighted{weights});
    } else {
      consume_strings(make(pos), n, s, utf8, OneRow{});
    }
  };
  // utf8/binary with offsets of type O (int32 or int64)
  auto offset_strings = [&]<typename O>(O, bool utf8) {
    const auto* off = buffer<O>(a, 1, c);
    const char* data =
        a.n_buffers > 2 && a.buffers[2] ? static_cast<const char*>(a.buffers[2]) : "";
    with_pos([&](auto pos) {
      strings(pos, [&](auto p) { return Str<O, decltype(p)>{off, data, p}; }, utf8);
    });
  };
  // Integers: as int64, except uint64 (which int64 cannot hold).
  auto ints = [&]<typename T>(const T* p) {
    using V = std::conditional_t<std::is_same_v<T, uint64_t>, uint64_t, int64_t>;
    with_pos([&](auto pos) { consume_integers<V>(Num<T, decltype(pos)>{p, pos}, n, s); });
  };
  if (with_integer_buffer(t.id, a, c, ints)) return;
  switch (t.id) {
    case TypeId::kFloat16: {
      const auto* p = buffer<uint16_t>(a, 1, c);
      return with_pos([&](auto pos) { consume_floats(Half<decltype(pos)>{p, pos}, n, s); });
    }
    case TypeId::kFloat32: {
      const auto* p = buffer<float>(a, 1, c);
      return with_pos([&](auto pos) { consume_floats(Num<float, decltype(pos)>{p, pos}, n, s); });
    }
    case TypeId::kFloat64: {
      const auto* p = buffer<double>(a, 1, c);
      return with_pos([&](auto pos) { consume_floats(Num<double, decltype(pos)>{p, pos}, n, s); });
    }
    case TypeId::kDecimal: {
      if (t.width == 256) {
        const auto* p = buffer<uint8_t>(a, 1, c);
        const auto scale = static_cast<double>(pow10l_int(t.scale));
        return with_pos(
            [&](auto pos) { consume_floats(Dec256<decltype(pos)>{p, pos, scale}, n, s); });
      }
      if (t.width == 128) {
        const auto* p = buffer<uint8_t>(a, 1, c);
        return with_pos([&](auto pos) { consume_decimals(Dec128<decltype(pos)>{p, pos}, n, s); });
      }
      if (t.width == 64) {
        const auto* p = buffer<int64_t>(a, 1, c);
        return with_pos(
            [&](auto pos) { consume_decimals(DecNarrow<int64_t, decltype(pos)>{p, pos}, n, s); });
      }
      const auto* p = buffer<int32_t>(a, 1, c);
      return with_pos(
          [&](auto pos) { consume_decimals(DecNarrow<int32_t, decltype(pos)>{p, pos}, n, s); });
    }
    case TypeId::kUtf8:
    case TypeId::kBinary:
      return offset_strings(int32_t{}, t.id == TypeId::kUtf8);
    case TypeId::kLargeUtf8:
    case TypeId::kLargeBinary:
      return offset_strings(int64_t{}, t.id == TypeId::kLargeUtf8);
    case TypeId::kUtf8View:
    case TypeId::kBinaryView: {
      const auto* views = buffer<uint8_t>(a, 1, c);
      if (a.n_buffers < 3) throw ArrowImportError("column '" + c + "': malformed view array");
      const int64_t n_data = a.n_buffers - 3;
      const auto* sizes =
          n_data > 0 ? buffer<int64_t>(a, static_cast<int>(a.n_buffers - 1), c) : nullptr;
      return with_pos([&](auto pos) {
        strings(
            pos,
            [&](auto p) { return ViewStr<decltype(p)>{views, a.buffers + 2, sizes, n_data, p}; },
            t.id == TypeId::kUtf8View);
      });
    }
    case TypeId::kFixedSizeBinary: {
      const char* data = t.width > 0 ? buffer<char>(a, 1, c) : "";
      return with_pos([&](auto pos) {
        strings(pos, [&](auto p) { return FixedStr<decltype(p)>{data, t.width, p}; }, false);
      });
    }
    default:
      throw UnsupportedTypeError("column '" + c + "': type " + t.to_string() +
                                 " is not supported as dictionary values");
  }
}

void ColumnState::consume(const BatchColumn& col, Scratch& s, uint64_t* row_hashes) {
  const ArrowArray& a = *col.array;
  const DataType& t = *col.type;
  const int64_t len = col.length;
  if (len <= 0) return;
  if (a.length < col.offset + len || a.offset < 0) {
    throw ArrowImportError("column '" + name_ + "': Arrow array is shorter than its batch");
  }
  rows_ += static_cast<uint64_t>(len);
  const int64_t first = a.offset + col.offset;  // element index of row 0

  if (t.id == TypeId::kNull) {
    nulls_ += static_cast<uint64_t>(len);
    if (row_hashes) {
      for (int64_t i = 0; i < len; ++i) row_hashes[i] = combine_hash(row_hashes[i], kNullHash);
    }
    return;
  }
  const bool has_bitmap = a.null_count != 0 && a.n_buffers > 0 && a.buffers != nullptr &&
                          a.buffers[0] != nullptr && t.id != TypeId::kOther;
  const auto* vbits = has_bitmap ? static_cast<const uint8_t*>(a.buffers[0]) : nullptr;
  const uint8_t* valid = combine_validity(vbits, first, col.parent_valid, len, s.validity)
                             ? s.validity.data()
                             : nullptr;
  const int64_t n_valid = valid ? count_set_bits(valid, 0, len) : len;
  nulls_ += static_cast<uint64_t>(len - n_valid);

  // memory footprint of what this batch holds for the column
  uint64_t mem = vbits ? static_cast<uint64_t>((len + 7) / 8) : 0;
  if (int w = fixed_byte_width(t.id)) mem += static_cast<uint64_t>(len) * w;

  switch (t.id) {
    case TypeId::kOther:
      memory_bytes_ += mem;
      return;
    case TypeId::kBool: {
      const auto* bits = buffer<uint8_t>(a, 1, name_);
      mem += static_cast<uint64_t>((len + 7) / 8);
      int64_t trues = 0;
      if (valid == nullptr) {
        trues = count_set_bits(bits, first, len);
      } else {
        for (int64_t i = 0; i < len; ++i) trues += get_bit(valid, i) && get_bit(bits, first + i);
      }
      true_ += static_cast<uint64_t>(trues);
      false_ += static_cast<uint64_t>(n_valid - trues);
      if (row_hashes) {
        for (int64_t i = 0; i < len; ++i) {
          const bool ok = valid == nullptr || get_bit(valid, i);
          row_hashes[i] =
              combine_hash(row_hashes[i], ok ? hash_int(get_bit(bits, first + i)) : kNullHash);
        }
      }
      memory_bytes_ += mem;
      return;
    }
    case TypeId::kList:
    case TypeId::kLargeList:
    case TypeId::kMap:
    case TypeId::kFixedSizeList: {
      auto note_len = [&](uint64_t l) {
        len_min_ = std::min(len_min_, l);
        len_max_ = std::max(len_max_, l);
        len_sum_ += l;
        ++len_count_;
      };
      if (t.id == TypeId::kFixedSizeList) {
        for (int64_t i = 0; i < n_valid; ++i) note_len(static_cast<uint64_t>(t.width));
      } else if (t.id == TypeId::kLargeList) {
        const auto* off = buffer<int64_t>(a, 1, name_);
        mem += static_cast<uint64_t>(len + 1) * 8;
        for (int64_t i = 0; i < len; ++i) {
          if (valid == nullptr || get_bit(valid, i))
            note_len(static_cast<uint64_t>(off[first + i + 1] - off[first + i]));
        }
      } else {
        const auto* off = buffer<int32_t>(a, 1, name_);
        mem += static_cast<uint64_t>(len + 1) * 4;
        for (int64_t i = 0; i < len; ++i) {
          if (valid == nullptr || get_bit(valid, i))
            note_len(static_cast<uint64_t>(off[first + i + 1] - off[first + i]));
        }
      }
      memory_bytes_ += mem;
      return;
    }
    case TypeId::kDictionary: {
      if (a.dictionary == nullptr) {
        throw ArrowImportError("column '" + name_ + "': dictionary array without its dictionary");
      }
      const ArrowArray& dict = *a.dictionary;
      const DataType& vt = t.children[0].type;
      if (dict.length < 0 || dict.offset < 0) {
        throw ArrowImportError("column '" + name_ +
                               "': dictionary with a negative length or offset");
      }
      const bool dict_bitmap = dict.null_count != 0 && dict.n_buffers > 0 &&
                               dict.buffers != nullptr && dict.buffers[0] != nullptr;
      const auto* dbits = dict_bitmap ? static_cast<const uint8_t*>(dict.buffers[0]) : nullptr;
      mem += static_cast<uint64_t>(len) * static_cast<uint64_t>(fixed_byte_width(t.index_id));
      s.positions.clear();
      s.validity2.assign(static_cast<size_t>((len + 7) / 8), 0);
      // Strings with at least two rows per entry on average: hash, measure and match each used
      // entry once. (Entries go to the frequent-items sketch in dictionary order, not row order:
      // the same counts while it holds every value, and within its error bound otherwise.)
      const bool by_entry = vt.is_string_like() && 2 * dict.length <= n_valid;
      if (by_entry) s.entry_counts.assign(static_cast<size_t>(dict.length), 0);
      int64_t dict_nulls = 0;
      auto gather = [&]<typename I>(const I* indices) {
        s.positions.reserve(static_cast<size_t>(n_valid));
        for (int64_t i = 0; i < len; ++i) {
          if (valid != nullptr && !get_bit(valid, i)) continue;
          const I raw = indices[first + i];
          const auto idx = static_cast<int64_t>(raw);
          // a negative index converts to a huge unsigned one
          if (static_cast<uint64_t>(raw) >= static_cast<uint64_t>(dict.length)) {
            throw ArrowImportError("column '" + name_ + "': dictionary index " +
                                   std::to_string(raw) + " out of range [0, " +
                                   std::to_string(dict.length) + ")");
          }
          if (dbits != nullptr && !get_bit(dbits, dict.offset + idx)) {
            ++dict_nulls;
            continue;
          }
          s.validity2[static_cast<size_t>(i >> 3)] |= static_cast<uint8_t>(1u << (i & 7));
          s.positions.push_back(idx);
          if (by_entry) ++s.entry_counts[static_cast<size_t>(idx)];
        }
      };
      if (!with_integer_buffer(t.index_id, a, name_,
                               gather)) {  // the index type is an integer type
        throw ArrowImportError("column '" + name_ + "': bad dictionary index type");
      }
      nulls_ += static_cast<uint64_t>(dict_nulls);
      if (by_entry) {
        consume_dictionary_entries(dict, vt, row_hashes != nullptr, s);
      } else {
        consume_values(dict, vt, 0, s.positions.size(), true, s);
      }
      valid = s.validity2.data();
      break;
    }
    default: {
      if (t.id == TypeId::kUtf8 || t.id == TypeId::kBinary) {
        const auto* off = buffer<int32_t>(a, 1, name_);
        mem += static_cast<uint64_t>(len + 1) * 4 +
               static_cast<uint64_t>(off[first + len] - off[first]);
      } else if (t.id == TypeId::kLargeUtf8 || t.id == TypeId::kLargeBinary) {
        const auto* off = buffer<int64_t>(a, 1, name_);
        mem += static_cast<uint64_t>(len + 1) * 8 +
               static_cast<uint64_t>(off[first + len] - off[first]);
      } else if (t.id == TypeId::kUtf8View || t.id == TypeId::kBinaryView) {
        mem += static_cast<uint64_t>(len) * 16;
      } else if (t.id == TypeId::kFixedSizeBinary || t.id == TypeId::kDecimal) {
        mem += static_cast<uint64_t>(len) * (t.id == TypeId::kDecimal ? t.width / 8 : t.width);
      }
      if (valid == nullptr) {
        consume_values(a, t, col.offset, static_cast<size_t>(len), false, s);
      } else {
        s.positions.clear();
        append_set_positions(valid, len, col.offset, s.positions);
        consume_values(a, t, 0, s.positions.size(), true, s);
      }
    }
  }
  memory_bytes_ += mem;

  if (row_hashes != nullptr) {
    const uint64_t* h = s.hashes.data();
    if (valid == nullptr) {
      for (int64_t i = 0; i < len; ++i) row_hashes[i] = combine_hash(row_hashes[i], h[i]);
    } else {
      size_t k = 0;
      for (int64_t i = 0; i < len; ++i) {
        row_hashes[i] = combine_hash(row_hashes[i], get_bit(valid, i) ? h[k++] : kNullHash);
      }
    }
  }
}

void ColumnState::row_doubles(const BatchColumn& col, Scratch& s, double* out) const {
  const ArrowArray& a = *col.array;
  const DataType& t = *col.type;
  const int64_t len = col.length;
  const int64_t first = a.offset + col.offset;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const bool has_bitmap =
      a.null_count != 0 && a.n_buffers > 0 && a.buffers != nullptr && a.buffers[0] != nullptr;
  const auto* vbits = has_bitmap ? static_cast<const uint8_t*>(a.buffers[0]) : nullptr;
  std::vector<uint8_t> vb;
  const uint8_t* valid =
      combine_validity(vbits, first, col.parent_valid, len, vb) ? vb.data() : nullptr;
  (void)s;
  auto fill = [&](auto get) {
    for (int64_t i = 0; i < len; ++i) {
      if (valid != nullptr && !get_bit(valid, i)) {
        out[i] = nan;
        continue;
      }
      const double v = get(first + i);
      out[i] = std::isfinite(v) ? v : nan;
    }
  };
  const std::string& c = name_;
  switch (t.id) {
    case TypeId::kInt8: {
      auto p = buffer<int8_t>(a, 1, c);
      return fill([&](int64_t i) { return double(p[i]); });
    }
    case TypeId::kInt16: {
      auto p = buffer<int16_t>(a, 1, c);
      return fill([&](int64_t i) { return double(p[i]); });
    }
    case TypeId::kInt32: {
      auto p = buffer<int32_t>(a, 1, c);
      return fill([&](int64_t i) { return double(p[i]); });
    }
    case TypeId::kInt64: {
      auto p = buffer<int64_t>(a, 1, c);
      return fill([&](int64_t i) { return double(p[i]); });
    }
    case TypeId::kUInt8: {
      auto p = buffer<uint8_t>(a, 1, c);
      return fill([&](int64_t i) { return double(p[i]); });
    }
    case TypeId::kUInt16: {
      auto p = buffer<uint16_t>(a, 1, c);
      return fill([&](int64_t i) { return double(p[i]); });
    }
    case TypeId::kUInt32: {
      auto p = buffer<uint32_t>(a, 1, c);
      return fill([&](int64_t i) { return double(p[i]); });
    }
    case TypeId::kUInt64: {
      auto p = buffer<uint64_t>(a, 1, c);
      return fill([&](int64_t i) { return double(p[i]); });
    }
    case TypeId::kFloat16: {
      auto p = buffer<uint16_t>(a, 1, c);
      return fill([&](int64_t i) { return half_to_double(p[i]); });
    }
    case TypeId::kFloat32: {
      auto p = buffer<float>(a, 1, c);
      return fill([&](int64_t i) { return double(p[i]); });
    }
    case TypeId::kFloat64: {
      auto p = buffer<double>(a, 1, c);
      return fill([&](int64_t i) { return p[i]; });
    }
    case TypeId::kDecimal: {
      const long double div = pow10l_int(t.scale);
      if (t.width == 128) {
        auto p = buffer<uint8_t>(a, 1, c);
        return fill([&](int64_t i) {
          return double(static_cast<long double>(load_i128(p + 16 * i)) / div);
        });
      }
      if (t.width == 64) {
        auto p = buffer<int64_t>(a, 1, c);
        return fill([&](int64_t i) { return double(static_cast<long double>(p[i]) / div); });
      }
      if (t.width == 32) {
        auto p = buffer<int32_t>(a, 1, c);
        return fill([&](int64_t i) { return double(static_cast<long double>(p[i]) / div); });
      }
      auto p = buffer<uint8_t>(a, 1, c);
      Dec256<Identity> acc{p, Identity{0}, static_cast<double>(div)};
      return fill([&](int64_t i) { return acc.get(static_cast<size_t>(i)); });
    }
    default:
      for (int64_t i = 0; i < len; ++i) out[i] = nan;
  }
}

}  // namespace truthound
