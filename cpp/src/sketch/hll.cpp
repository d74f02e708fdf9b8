#include "truthound/sketch/hll.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <sstream>

#include "truthound/util/error.hpp"
#include "truthound/util/rans.hpp"
#include "truthound/util/sorted_codec.hpp"

namespace truthound {

namespace {

constexpr uint8_t kModeExact = 0;
constexpr uint8_t kModeDense = 1;
constexpr size_t kInitialSlots = 16;
// Fibonacci multiplier: spreads the table index even if a caller's hashes are weak in the top
// bits (sequential integers passed unhashed, say).
constexpr uint64_t kSlotMul = 0x9e3779b97f4a7c15ULL;

inline size_t slot_of(uint64_t hash, int shift) {
  return static_cast<size_t>((hash * kSlotMul) >> shift);
}

inline uint8_t rank_of(uint64_t hash, uint8_t p) {
  // The p index bits are shifted out; the sentinel bit caps the rank at 64 - p + 1.
  const uint64_t w = (hash << p) | (uint64_t{1} << (p - 1));
  return static_cast<uint8_t>(std::countl_zero(w) + 1);
}

// Ertl 2017, Algorithm 6: sigma corrects for registers still at 0, tau for registers at the
// maximum rank. Both series converge in a few dozen steps in double precision.
double sigma(double x) {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1.0;
  double z = x;
  double z_prev;
  do {
    x *= x;
    z_prev = z;
    z += x * y;
    y += y;
  } while (z != z_prev);
  return z;
}

double tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0;
  double z = 1.0 - x;
  double z_prev;
  do {
    x = std::sqrt(x);
    z_prev = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (z != z_prev);
  return z / 3.0;
}

}  // namespace

HyperLogLog::HyperLogLog(uint8_t precision, uint32_t exact_limit)
    : precision_(precision), exact_limit_(exact_limit) {
  if (precision < kMinPrecision || precision > kMaxPrecision) {
    throw InvalidArgumentError(
        "HyperLogLog: precision must be in " + std::to_string(kMinPrecision) + ".." +
        std::to_string(kMaxPrecision) + ", got " + std::to_string(precision));
  }
  if (exact_limit > kMaxExactLimit) {
    throw InvalidArgumentError("HyperLogLog: exact_limit must be at most " +
                               std::to_string(kMaxExactLimit) + ", got " +
                               std::to_string(exact_limit));
  }
  table_.assign(kInitialSlots, 0);
  table_mask_ = kInitialSlots - 1;
  table_shift_ = 64 - std::countr_zero(kInitialSlots);
}

bool HyperLogLog::is_empty() const {
  // Dense mode is only entered after more than exact_limit >= 0 hashes, and deserialize
  // rejects an all-zero register array, so a dense sketch is never empty.
  return is_exact() && exact_count_ == 0;
}

void HyperLogLog::grow_table() {
  std::vector<uint64_t> old = std::move(table_);
  const size_t slots = old.size() * 2;
  table_.assign(slots, 0);
  table_mask_ = slots - 1;
  table_shift_ = 64 - std::countr_zero(slots);
  for (uint64_t h : old) {
    if (h == 0) continue;
    size_t s = slot_of(h, table_shift_);
    while (table_[s] != 0) s = (s + 1) & table_mask_;
    table_[s] = h;
  }
}

void HyperLogLog::insert_exact(uint64_t hash) {
  if (hash == 0) {
    if (has_zero_) return;
    has_zero_ = true;
    ++exact_count_;
  } else {
    size_t s = slot_of(hash, table_shift_);
    for (;;) {
      const uint64_t v = table_[s];
      if (v == hash) return;
      if (v == 0) break;
      s = (s + 1) & table_mask_;
    }
    table_[s] = hash;
    ++exact_count_;
    if (exact_count_ <= exact_limit_ && 2 * size_t{exact_count_} > table_.size()) grow_table();
  }
  if (exact_count_ > exact_limit_) convert_to_dense();
}

template <class F>
void HyperLogLog::for_each_exact(F&& f) const {
  if (has_zero_) f(uint64_t{0});
  for (uint64_t h : table_) {
    if (h != 0) f(h);
  }
}

std::vector<uint64_t> HyperLogLog::sorted_exact() const {
  std::vector<uint64_t> out;
  out.reserve(exact_count_);
  for_each_exact([&](uint64_t h) { out.push_back(h); });
  std::sort(out.begin(), out.end());
  return out;
}

void HyperLogLog::convert_to_dense() {
  std::vector<uint8_t> regs(size_t{1} << precision_, 0);
  const int shift = 64 - precision_;
  const uint8_t p = precision_;
  for_each_exact([&](uint64_t h) {
    uint8_t& r = regs[h >> shift];
    r = std::max(r, rank_of(h, p));
  });
  registers_ = std::move(regs);
  table_ = std::vector<uint64_t>();
  table_mask_ = 0;
  exact_count_ = 0;
  has_zero_ = false;
}

void HyperLogLog::update_dense(std::span<const uint64_t> hashes) {
  uint8_t* regs = registers_.data();
  const int shift = 64 - precision_;
  const uint8_t p = precision_;
  const uint64_t* h = hashes.data();
  const size_t n = hashes.size();
  size_t i = 0;
  // Two independent streams per iteration keep the load/max/store chains overlapping.
  for (; i + 2 <= n; i += 2) {
    const uint64_t a = h[i];
    const uint64_t b = h[i + 1];
    const uint8_t ra = rank_of(a, p);
    const uint8_t rb = rank_of(b, p);
    uint8_t& xa = regs[a >> shift];
    xa = std::max(xa, ra);
    uint8_t& xb = regs[b >> shift];
    xb = std::max(xb, rb);
  }
  for (; i < n; ++i) {
    uint8_t& x = regs[h[i] >> shift];
    x = std::max(x, rank_of(h[i], p));
  }
}

void HyperLogLog::update(uint64_t hash) {
  update(std::span<const uint64_t>(&hash, 1));
}

void HyperLogLog::update(std::span<const uint64_t> hashes) {
  if (!is_exact()) {
    update_dense(hashes);
    return;
  }
  const uint64_t* h = hashes.data();
  const size_t n = hashes.size();
  for (size_t i = 0; i < n; ++i) {
    const uint64_t x = h[i];
    // Inline probe for the common case (already present); inserts go out of line.
    if (x != 0) {
      size_t s = slot_of(x, table_shift_);
      uint64_t v;
      while ((v = table_[s]) != x && v != 0) s = (s + 1) & table_mask_;
      if (v == x) continue;
    }
    insert_exact(x);
    if (!is_exact()) {
      update_dense(hashes.subspan(i + 1));
      return;
    }
  }
}

void HyperLogLog::merge(const HyperLogLog& other) {
  if (other.precision_ != precision_) {
    throw InvalidArgumentError("HyperLogLog: cannot merge precision " +
                               std::to_string(other.precision_) + " into precision " +
                               std::to_string(precision_));
  }
  if (&other == this || other.is_empty()) return;
  if (is_empty()) {
    *this = other;
    return;
  }
  exact_limit_ = std::min(exact_limit_, other.exact_limit_);
  if (is_exact() && exact_count_ > exact_limit_) convert_to_dense();
  if (other.is_exact()) {
    if (is_exact()) {
      // Sorted order: which hash crosses the limit must not depend on the other's table layout
      // (it does not change the result either way, but keeps the work deterministic).
      for (uint64_t h : other.sorted_exact()) {
        insert_exact(h);
        if (!is_exact()) break;
      }
    }
    if (!is_exact()) {
      const int shift = 64 - precision_;
      other.for_each_exact([&](uint64_t h) {
        uint8_t& r = registers_[h >> shift];
        r = std::max(r, rank_of(h, precision_));
      });
    }
    return;
  }
  if (is_exact()) convert_to_dense();
  const uint8_t* src = other.registers_.data();
  uint8_t* dst = registers_.data();
  for (size_t i = 0, m = registers_.size(); i < m; ++i) dst[i] = std::max(dst[i], src[i]);
}

double HyperLogLog::estimate() const {
  if (is_exact()) return static_cast<double>(exact_count_);
  const int q = 64 - precision_;
  uint32_t hist[66] = {};
  for (uint8_t r : registers_) ++hist[r];
  const double m = static_cast<double>(registers_.size());
  if (hist[0] == registers_.size()) return 0.0;
  double z = m * tau(1.0 - hist[q + 1] / m);
  for (int k = q; k >= 1; --k) z = 0.5 * (z + hist[k]);
  z += m * sigma(hist[0] / m);
  constexpr double kAlphaInf = 0.7213475204444817;  // 1 / (2 ln 2)
  return kAlphaInf * m * m / z;
}

double HyperLogLog::relative_standard_error() const {
  if (is_exact()) return 0.0;
  return 1.04 / std::sqrt(static_cast<double>(size_t{1} << precision_));
}

double HyperLogLog::lower_bound(int num_std_dev) const {
  if (num_std_dev < 0) {
    throw InvalidArgumentError("HyperLogLog: num_std_dev must be >= 0, got " +
                               std::to_string(num_std_dev));
  }
  const double est = estimate();
  if (is_exact()) return est;
  return std::max(est * (1.0 - num_std_dev * relative_standard_error()), 1.0);
}

double HyperLogLog::upper_bound(int num_std_dev) const {
  if (num_std_dev < 0) {
    throw InvalidArgumentError("HyperLogLog: num_std_dev must be >= 0, got " +
                               std::to_string(num_std_dev));
  }
  const double est = estimate();
  if (is_exact()) return est;
  return est * (1.0 + num_std_dev * relative_standard_error());
}

namespace {
// Version 2's 4-bit value that marks a packed register as an exception.
constexpr uint8_t kNibbleException = 15;
constexpr uint8_t kFormatVersionNibbles = 2;
constexpr uint8_t kFormatVersionBytes = 1;
}  // namespace

void HyperLogLog::serialize(ByteWriter& out) const {
  out.u8(kFamilyId);
  out.u8(kFormatVersion);
  out.u8(precision_);
  out.u8(is_exact() ? kModeExact : kModeDense);
  out.u32(exact_limit_);
  if (is_exact()) {
    write_sorted_u64(out, sorted_exact());
    return;
  }
  const auto [lo_it, hi_it] = std::minmax_element(registers_.begin(), registers_.end());
  const uint8_t lo = *lo_it, hi = *hi_it;
  out.u8(lo);
  out.u8(hi);
  std::vector<uint64_t> counts(hi - lo + 1);
  std::vector<uint8_t> symbols(registers_.size());
  for (size_t i = 0; i < registers_.size(); ++i) {
    symbols[i] = static_cast<uint8_t>(registers_[i] - lo);
    ++counts[symbols[i]];
  }
  for (uint64_t c : counts) out.varint(c);
  if (lo == hi) {
    out.varint(0);
    return;
  }
  const std::vector<uint8_t> coded = rans_encode(symbols, counts);
  out.varint(coded.size());
  out.raw(coded.data(), coded.size());
}

std::vector<uint8_t> HyperLogLog::serialize() const {
  ByteWriter out;
  serialize(out);
  return out.take();
}

namespace {

// Version 3's registers (see the layout in hll.hpp), in the one canonical form serialize writes.
std::vector<uint8_t> read_coded(ByteReader& in, size_t m, uint8_t max_rank) {
  const uint8_t lo = in.u8();
  const uint8_t hi = in.u8();
  if (lo > hi || hi > max_rank || hi == 0) {
    in.corrupt("expected HyperLogLog registers 0 <= lo <= hi <= " + std::to_string(max_rank) +
               " with hi >= 1, got lo " + std::to_string(lo) + ", hi " + std::to_string(hi));
  }
  std::vector<uint64_t> counts(hi - lo + 1);
  uint64_t total = 0;
  for (uint64_t& c : counts) {
    c = in.varint();
    if (c > m - total) in.corrupt("expected register counts summing to " + std::to_string(m));
    total += c;
  }
  if (total != m || counts.front() == 0 || counts.back() == 0) {
    in.corrupt("expected register counts summing to " + std::to_string(m) +
               ", with registers at lo and at hi, got " + std::to_string(total));
  }
  const uint64_t size = in.varint();
  if ((lo == hi) != (size == 0) || size > in.remaining()) {
    in.corrupt("expected " + std::string(lo == hi ? "no" : "some") +
               " coded registers within the bytes left, got " + std::to_string(size) + " bytes");
  }
  std::vector<uint8_t> regs(m, 0);
  if (lo != hi && !rans_decode(in.raw(static_cast<size_t>(size)), counts, regs)) {
    in.corrupt("coded HyperLogLog registers do not decode to their counts");
  }
  if (lo != 0) {
    for (uint8_t& r : regs) r = static_cast<uint8_t>(r + lo);
  }
  return regs;
}

// Version 2's packed registers, checked to be in the one canonical form it wrote: base is the
// smallest register, every nibble 15 has its exception (in increasing register order) and no
// other register has one, every exception is at least base + 15.
std::vector<uint8_t> read_nibbles(ByteReader& in, size_t m, uint8_t max_rank) {
  const uint8_t base = in.u8();
  if (base > max_rank) {
    in.corrupt("expected HyperLogLog base register <= " + std::to_string(max_rank) + ", got " +
               std::to_string(base));
  }
  const std::span<const uint8_t> nibbles = in.raw(m / 2);
  std::vector<uint8_t> regs(m);
  uint64_t marked = 0;
  bool at_base = false;
  for (size_t i = 0; i < m; ++i) {
    const uint8_t v = (nibbles[i / 2] >> (4 * (i % 2))) & 0x0F;
    regs[i] = static_cast<uint8_t>(base + v);
    marked += v == kNibbleException;
    at_base |= v == 0;
  }
  if (!at_base)
    in.corrupt("expected a HyperLogLog register equal to the base " + std::to_string(base));
  const uint64_t count = in.varint();
  if (count != marked) {
    in.corrupt("expected " + std::to_string(marked) + " HyperLogLog exceptions, got " +
               std::to_string(count));
  }
  size_t next = 0;
  for (uint64_t e = 0; e < count; ++e) {
    const uint64_t gap = in.varint();
    if (gap >= m - next) in.corrupt("HyperLogLog exception beyond the last register");
    const size_t at = next + static_cast<size_t>(gap);
    const uint8_t value = in.u8();
    if (regs[at] != base + kNibbleException || value < base + kNibbleException ||
        value > max_rank) {
      in.corrupt("expected a HyperLogLog exception in " + std::to_string(base + kNibbleException) +
                 ".." + std::to_string(max_rank) + " at a marked register, got " +
                 std::to_string(value) + " at register " + std::to_string(at));
    }
    regs[at] = value;
    next = at + 1;
  }
  return regs;
}

}  // namespace

HyperLogLog HyperLogLog::deserialize(ByteReader& in) {
  const uint8_t family = in.u8();
  if (family != kFamilyId) {
    in.corrupt("expected HyperLogLog family id " + std::to_string(kFamilyId) + ", got " +
               std::to_string(family));
  }
  const uint8_t version = in.u8();
  if (version < kFormatVersionBytes || version > kFormatVersion) {
    in.corrupt("expected HyperLogLog format version 1.." + std::to_string(kFormatVersion) +
               ", got " + std::to_string(version));
  }
  const uint8_t p = in.u8();
  if (p < kMinPrecision || p > kMaxPrecision) {
    in.corrupt("expected HyperLogLog precision in 4..18, got " + std::to_string(p));
  }
  const uint8_t mode = in.u8();
  if (mode != kModeExact && mode != kModeDense) {
    in.corrupt("expected HyperLogLog mode 0 (exact) or 1 (dense), got " + std::to_string(mode));
  }
  const uint32_t limit = in.u32();
  if (limit > kMaxExactLimit) {
    in.corrupt("expected HyperLogLog exact_limit <= " + std::to_string(kMaxExactLimit) + ", got " +
               std::to_string(limit));
  }
  HyperLogLog hll(p, limit);
  if (mode == kModeExact) {
    const std::vector<uint64_t> hashes =
        version == kFormatVersion ? read_sorted_u64(in, limit, true) : in.array<uint64_t>(limit);
    for (size_t i = 1; i < hashes.size(); ++i) {
      if (hashes[i] <= hashes[i - 1]) {
        in.corrupt("expected strictly increasing HyperLogLog hashes, got " +
                   std::to_string(hashes[i]) + " after " + std::to_string(hashes[i - 1]));
      }
    }
    // count <= limit, so these inserts never turn the sketch dense.
    for (uint64_t h : hashes) hll.insert_exact(h);
  } else {
    const size_t m = size_t{1} << p;
    const uint8_t max_rank = static_cast<uint8_t>(64 - p + 1);
    std::vector<uint8_t> regs;
    if (version == kFormatVersion) {
      regs = read_coded(in, m, max_rank);  // within 0..max_rank, not all 0: checked there
    } else {
      if (version == kFormatVersionNibbles) {
        regs = read_nibbles(in, m, max_rank);
      } else {
        const std::span<const uint8_t> raw = in.raw(m);
        regs.assign(raw.begin(), raw.end());
      }
      bool any = false;
      for (size_t i = 0; i < m; ++i) {
        if (regs[i] > max_rank) {
          in.corrupt("expected HyperLogLog register <= " + std::to_string(max_rank) + ", got " +
                     std::to_string(regs[i]) + " at register " + std::to_string(i));
        }
        any |= regs[i] != 0;
      }
      if (!any) in.corrupt("expected a dense HyperLogLog to have a non-zero register, got none");
    }
    hll.table_ = std::vector<uint64_t>();
    hll.table_mask_ = 0;
    hll.registers_ = std::move(regs);
  }
  return hll;
}

HyperLogLog HyperLogLog::deserialize(const void* data, size_t size) {
  ByteReader in(data, size, "HyperLogLog");
  HyperLogLog hll = deserialize(in);
  in.expect_end();
  return hll;
}

std::string HyperLogLog::to_string() const {
  std::ostringstream os;
  os << "HyperLogLog(p=" << int{precision_} << ", mode=" << (is_exact() ? "exact" : "dense")
     << ", exact_limit=" << exact_limit_ << ", estimate=" << estimate();
  if (!is_exact()) {
    os << ", rse=" << relative_standard_error() << ", bounds(2sd)=[" << lower_bound(2) << ", "
       << upper_bound(2) << "]";
  }
  os << ")";
  return os.str();
}

}  // namespace truthound
