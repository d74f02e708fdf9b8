#include "truthound/util/sorted_codec.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <string>

namespace truthound {

namespace {

constexpr uint64_t kEscapeOnes = 16;
constexpr int kWidthBits = 6;

// Bits least significant first, flushed a byte at a time.
class BitWriter {
 public:
  explicit BitWriter(std::vector<uint8_t>& out) : out_(out) {}
  // count <= 57 bits at a time, so the 64-bit accumulator never overflows.
  void put(uint64_t bits, int count) {
    acc_ |= (count == 0 ? 0 : bits & (~uint64_t{0} >> (64 - count))) << used_;
    used_ += count;
    while (used_ >= 8) {
      out_.push_back(static_cast<uint8_t>(acc_));
      acc_ >>= 8;
      used_ -= 8;
    }
  }
  void put_wide(uint64_t bits, int count) {
    if (count > 32) {
      put(bits, 32);
      put(bits >> 32, count - 32);
    } else {
      put(bits, count);
    }
  }
  void ones(uint64_t count) {
    for (; count >= 32; count -= 32) put(0xFFFFFFFFu, 32);
    put(~uint64_t{0}, static_cast<int>(count));
  }
  void finish() {
    if (used_ > 0) out_.push_back(static_cast<uint8_t>(acc_));
    acc_ = 0;
    used_ = 0;
  }

 private:
  std::vector<uint8_t>& out_;
  uint64_t acc_ = 0;
  int used_ = 0;
};

// Reads what BitWriter wrote from a span; every read is checked against the span's end.
class BitReader {
 public:
  BitReader(std::span<const uint8_t> bytes, ByteReader& errors) : bytes_(bytes), errors_(errors) {}
  uint64_t get(int count) {
    if (count == 0) return 0;
    fill(count);
    const uint64_t v = acc_ & (~uint64_t{0} >> (64 - count));
    consume(count);
    return v;
  }
  uint64_t get_wide(int count) {
    if (count <= 32) return get(count);
    const uint64_t lo = get(32);
    return lo | (get(count - 32) << 32);
  }
  // Counts one bits up to a zero bit (consumed) or `limit` ones (then no zero is consumed).
  uint64_t unary(uint64_t limit) {
    uint64_t n = 0;
    for (;;) {
      fill(1);
      const int run = std::min<int>(std::countr_one(acc_), used_);
      if (n + static_cast<uint64_t>(run) >= limit) {
        consume(static_cast<int>(limit - n));
        return limit;
      }
      n += static_cast<uint64_t>(run);
      if (run < used_) {
        consume(run + 1);
        return n;
      }
      consume(run);
    }
  }
  // After the last code: what is left of the last byte is zero padding, and no byte is left.
  void finish() const {
    if (acc_ != 0 || used_ >= 8 || pos_ != bytes_.size()) {
      errors_.corrupt("expected the coded gaps to end at their last byte with zero padding");
    }
  }

 private:
  void fill(int count) {
    while (used_ < count) {
      if (pos_ >= bytes_.size()) errors_.corrupt("coded gaps end before their last code");
      if (used_ <= 56) {
        acc_ |= uint64_t{bytes_[pos_++]} << used_;
        used_ += 8;
      } else {
        // Callers ask for at most 32 bits, so a fill with more than 56 bits in hand is done.
        break;
      }
    }
  }
  void consume(int count) {
    acc_ = count >= 64 ? 0 : acc_ >> count;
    used_ -= count;
  }

  std::span<const uint8_t> bytes_;
  ByteReader& errors_;
  size_t pos_ = 0;
  uint64_t acc_ = 0;
  int used_ = 0;
};

// Bits of one code of q with parameter r.
uint64_t code_bits(uint64_t q, int r) {
  const uint64_t hi = q >> r;
  if (hi < kEscapeOnes) return hi + 1 + static_cast<uint64_t>(r);
  return kEscapeOnes + kWidthBits + static_cast<uint64_t>(std::bit_width(q));
}

// The parameter near log2 of the mean gap that codes the gaps in the fewest bits (the lowest on
// ties): a function of the gaps alone, so the reader can check it.
int choose_rice_parameter(std::span<const uint64_t> q) {
  unsigned __int128 sum = 0;
  for (uint64_t x : q) sum += x;
  const uint64_t mean = static_cast<uint64_t>(sum / q.size());
  const int center = std::max(0, static_cast<int>(std::bit_width(mean)) - 1);
  int best = 0;
  uint64_t best_bits = UINT64_MAX;
  for (int r = std::max(0, center - 2); r <= std::min(63, center + 1); ++r) {
    uint64_t bits = 0;
    for (uint64_t x : q) bits += code_bits(x, r);
    if (bits < best_bits) {
      best_bits = bits;
      best = r;
    }
  }
  return best;
}

int common_trailing_zeros(std::span<const uint64_t> gaps) {
  int t = 64;
  for (uint64_t g : gaps) {
    if (g != 0) t = std::min(t, std::countr_zero(g));
  }
  return t == 64 ? 0 : t;
}

}  // namespace

void write_sorted_u64(ByteWriter& out, std::span<const uint64_t> values) {
  out.varint(values.size());
  if (values.empty()) return;
  out.u64(values[0]);
  if (values.size() == 1) return;
  std::vector<uint64_t> q(values.size() - 1);
  for (size_t i = 1; i < values.size(); ++i) q[i - 1] = values[i] - values[i - 1];
  const int t = common_trailing_zeros(q);
  for (uint64_t& x : q) x >>= t;
  const int r = choose_rice_parameter(q);
  std::vector<uint8_t> bits;
  BitWriter w(bits);
  for (uint64_t x : q) {
    const uint64_t hi = x >> r;
    if (hi < kEscapeOnes) {
      w.ones(hi);
      w.put(0, 1);
      w.put_wide(x, r);
    } else {
      const int width = std::bit_width(x);
      w.ones(kEscapeOnes);
      w.put(static_cast<uint64_t>(width - 1), kWidthBits);
      w.put_wide(x, width);
    }
  }
  w.finish();
  out.u8(static_cast<uint8_t>(t));
  out.u8(static_cast<uint8_t>(r));
  out.varint(bits.size());
  out.raw(bits.data(), bits.size());
}

std::vector<uint64_t> read_sorted_u64(ByteReader& in, uint64_t max_count, bool strict) {
  const uint64_t count = in.varint();
  if (count > max_count) {
    in.corrupt("expected at most " + std::to_string(max_count) + " sorted values, got " +
               std::to_string(count));
  }
  std::vector<uint64_t> values;
  if (count == 0) return values;
  // Every value after the first costs at least one bit: a count beyond 8 per byte left is
  // corrupt before anything is allocated for it.
  if (count - 1 > uint64_t{in.remaining()} * 8) {
    in.corrupt("expected at most " + std::to_string(uint64_t{in.remaining()} * 8) +
               " coded values in the bytes left, got " + std::to_string(count));
  }
  values.reserve(static_cast<size_t>(count));
  values.push_back(in.u64());
  if (count == 1) return values;
  const uint8_t t = in.u8();
  const uint8_t r = in.u8();
  if (t > 63 || r > 63) {
    in.corrupt("expected a shift and a Rice parameter below 64, got " + std::to_string(t) +
               " and " + std::to_string(r));
  }
  const uint64_t nbytes = in.varint();
  if (nbytes > in.remaining()) {
    in.corrupt("expected " + std::to_string(nbytes) + " bytes of coded gaps, got " +
               std::to_string(in.remaining()));
  }
  const std::span<const uint8_t> bytes = in.raw(static_cast<size_t>(nbytes));
  BitReader bits(bytes, in);
  std::vector<uint64_t> q(static_cast<size_t>(count - 1));
  for (auto& x : q) {
    const uint64_t hi = bits.unary(kEscapeOnes);
    if (hi < kEscapeOnes) {
      x = (hi << r) | bits.get_wide(r);
    } else {
      const int width = static_cast<int>(bits.get(kWidthBits)) + 1;
      x = bits.get_wide(width);
      if (static_cast<int>(std::bit_width(x)) != width || (x >> r) < kEscapeOnes) {
        in.corrupt("expected an escaped gap of " + std::to_string(width) +
                   " bits that needs the escape, got " + std::to_string(x));
      }
    }
    if (strict && x == 0) in.corrupt("expected strictly increasing values, got a repeat");
    const uint64_t prev = values.back();
    if (x > ((UINT64_MAX - prev) >> t)) in.corrupt("expected sorted values below 2^64");
    values.push_back(prev + (x << t));
  }
  bits.finish();
  // The writer shifted out every trailing zero the gaps share: none is left (t = 0 when every
  // gap is 0).
  const bool all_zero = std::all_of(q.begin(), q.end(), [](uint64_t x) { return x == 0; });
  if (all_zero ? t != 0 : common_trailing_zeros(q) != 0) {
    in.corrupt("expected the shift " + std::to_string(t) + " to be the gaps' trailing zeros");
  }
  if (choose_rice_parameter(q) != r) {
    in.corrupt("expected Rice parameter " + std::to_string(choose_rice_parameter(q)) + ", got " +
               std::to_string(r));
  }
  return values;
}

uint64_t double_key(double d) {
  const uint64_t b = std::bit_cast<uint64_t>(d);
  const uint64_t mask =
      static_cast<uint64_t>(static_cast<int64_t>(b) >> 63) | 0x8000000000000000ULL;
  return b ^ mask;
}

double key_double(uint64_t key) {
  const uint64_t mask = ((key >> 63) - 1) | 0x8000000000000000ULL;
  return std::bit_cast<double>(key ^ mask);
}

}  // namespace truthound
