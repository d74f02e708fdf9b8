// Specification of the raw snappy block decompressor (cpp/include/truthound/parquet/snappy.hpp):
// hand-built streams for every element kind, round trips through a small reference compressor
// written here (all literal and copy encodings, including forced 4-byte offsets and non-minimal
// literal lengths), the fast/slow loop boundary, and truncated or corrupted input, which must
// throw SourceReadError or fill the output exactly -- never touch memory out of bounds (run
// under AddressSanitizer with TRUTHOUND_SANITIZE=ON).
#include "truthound/parquet/snappy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "arrow_builders.hpp"
#include "truthound/util/error.hpp"

namespace truthound::parquet {
namespace {

using Bytes = std::vector<uint8_t>;
using truthound::testing::expect_throws;

void put_varint(Bytes& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

void put_le(Bytes& out, uint64_t v, int nbytes) {
  for (int i = 0; i < nbytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Builds a stream element by element and, alongside, the output it must decode to.
class StreamBuilder {
 public:
  // A literal; `extra` is the number of length bytes after the tag (0: length in the tag, which
  // needs size <= 60; -1: the minimal encoding). Non-minimal encodings are valid.
  StreamBuilder& literal(std::span<const uint8_t> bytes, int extra = -1) {
    const uint64_t n1 = bytes.size() - 1;
    if (extra < 0) extra = n1 < 60 ? 0 : n1 < 256 ? 1 : n1 < 65536 ? 2 : n1 < (1u << 24) ? 3 : 4;
    if (extra == 0) {
      EXPECT_LT(n1, 60u);
      body_.push_back(static_cast<uint8_t>(n1 << 2));
    } else {
      body_.push_back(static_cast<uint8_t>((59 + extra) << 2));
      put_le(body_, n1, extra);
    }
    body_.insert(body_.end(), bytes.begin(), bytes.end());
    expected_.insert(expected_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  StreamBuilder& literal(const std::string& s, int extra = -1) {
    return literal(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()), extra);
  }
  // Copy with a 1-byte offset: 4 <= len <= 11, offset < 2048.
  StreamBuilder& copy1(size_t offset, size_t len) {
    EXPECT_TRUE(len >= 4 && len <= 11 && offset < 2048);
    body_.push_back(static_cast<uint8_t>(1 | ((len - 4) << 2) | ((offset >> 8) << 5)));
    body_.push_back(static_cast<uint8_t>(offset & 0xff));
    return append_copy(offset, len);
  }
  // Copy with a 2-byte offset: 1 <= len <= 64, offset < 65536.
  StreamBuilder& copy2(size_t offset, size_t len) {
    EXPECT_TRUE(len >= 1 && len <= 64 && offset < 65536);
    body_.push_back(static_cast<uint8_t>(2 | ((len - 1) << 2)));
    put_le(body_, offset, 2);
    return append_copy(offset, len);
  }
  // Copy with a 4-byte offset: 1 <= len <= 64.
  StreamBuilder& copy4(size_t offset, size_t len) {
    EXPECT_TRUE(len >= 1 && len <= 64);
    body_.push_back(static_cast<uint8_t>(3 | ((len - 1) << 2)));
    put_le(body_, offset, 4);
    return append_copy(offset, len);
  }
  // The stream: varint length preamble, then the elements.
  Bytes finish() const { return finish(expected_.size()); }
  // The same with a preamble claiming `claimed_length` bytes.
  Bytes finish(uint64_t claimed_length) const {
    Bytes out;
    put_varint(out, claimed_length);
    out.insert(out.end(), body_.begin(), body_.end());
    return out;
  }
  const Bytes& expected() const { return expected_; }

 private:
  StreamBuilder& append_copy(size_t offset, size_t len) {
    EXPECT_TRUE(offset >= 1 && offset <= expected_.size()) << "test bug: bad offset " << offset;
    if (offset < 1 || offset > expected_.size()) return *this;
    for (size_t i = 0; i < len; ++i) expected_.push_back(expected_[expected_.size() - offset]);
    return *this;
  }
  Bytes body_;
  Bytes expected_;
};

// Decompresses into an exactly sized buffer (so ASan sees any overrun).
Bytes decompress(const Bytes& stream) {
  const Bytes in(stream);  // exactly sized copy
  Bytes out(snappy_uncompressed_length(in));
  snappy_decompress(in, out);
  return out;
}

// ---------------------------------------------------------------- reference compressor

enum class Style {
  kMinimal,  // like Google's encoder: one literal per gap, minimal encodings, 64-byte copies
  kRandom,   // literals split at random sizes with random length-byte counts; random copy kinds
};

class Compressor {
 public:
  Compressor(Style style, uint64_t seed) : style_(style), rng_(seed) {}

  Bytes compress(std::span<const uint8_t> x) {
    b_ = StreamBuilder();
    const size_t n = x.size();
    constexpr int kBits = 14;
    std::vector<int64_t> table(size_t{1} << kBits, -1);
    size_t lit_start = 0;
    size_t i = 0;
    while (i + 4 <= n) {
      uint32_t v;
      std::memcpy(&v, x.data() + i, 4);
      const uint32_t h = (v * 0x1e35a7bdu) >> (32 - kBits);
      const int64_t cand = table[h];
      table[h] = static_cast<int64_t>(i);
      if (cand >= 0 && std::memcmp(x.data() + cand, x.data() + i, 4) == 0) {
        size_t m = 4;
        while (i + m < n && x[cand + m] == x[i + m]) ++m;
        emit_literal(x.subspan(lit_start, i - lit_start));
        emit_match(i - static_cast<size_t>(cand), m);
        i += m;
        lit_start = i;
      } else {
        ++i;
      }
    }
    emit_literal(x.subspan(lit_start));
    EXPECT_TRUE(std::equal(x.begin(), x.end(), b_.expected().begin(), b_.expected().end()));
    return b_.finish();
  }

 private:
  size_t pick(size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi)(rng_); }

  void emit_literal(std::span<const uint8_t> s) {
    if (s.empty()) return;
    if (style_ == Style::kMinimal) {
      b_.literal(s);
      return;
    }
    while (!s.empty()) {
      size_t len;
      switch (pick(0, 3)) {
        case 0:
          len = pick(1, 16);
          break;
        case 1:
          len = pick(17, 64);
          break;
        case 2:
          len = pick(65, 400);
          break;
        default:
          len = pick(1, 100000);
          break;
      }
      len = std::min(len, s.size());
      const int minimal = len <= 60 ? 0 : len <= 256 ? 1 : len <= 65536 ? 2 : 3;
      const int extra = pick(0, 3) == 0 ? static_cast<int>(pick(minimal, 4)) : minimal;
      b_.literal(s.first(len), extra);
      s = s.subspan(len);
    }
  }

  void emit_match(size_t offset, size_t len) {
    if (style_ == Style::kMinimal) {
      auto copy_long = [&](size_t l) {
        offset < 65536 ? b_.copy2(offset, l) : b_.copy4(offset, l);
      };
      while (len >= 68) {
        copy_long(64);
        len -= 64;
      }
      if (len > 64) {
        copy_long(60);
        len -= 60;
      }
      if (len < 12 && offset < 2048) {
        b_.copy1(offset, len);
      } else {
        copy_long(len);
      }
      return;
    }
    while (len > 0) {
      const size_t piece = std::min(len, pick(1, 64));
      const size_t kind = pick(0, 2);
      if (kind == 0 && offset < 2048 && piece >= 4 && piece <= 11) {
        b_.copy1(offset, piece);
      } else if (kind <= 1 && offset < 65536) {
        b_.copy2(offset, piece);
      } else {
        b_.copy4(offset, piece);  // forced 4-byte offsets
      }
      len -= piece;
    }
  }

  Style style_;
  std::mt19937_64 rng_;
  StreamBuilder b_;
};

Bytes compress(std::span<const uint8_t> x, Style style, uint64_t seed = 1) {
  return Compressor(style, seed).compress(x);
}

// ---------------------------------------------------------------- data shapes

enum class Shape { kRandom, kText, kRuns, kPeriodic, kInts, kMixed };

Bytes make_data(Shape shape, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t lo, size_t hi) {
    return std::uniform_int_distribution<size_t>(lo, hi)(rng);
  };
  Bytes out;
  out.reserve(n + 64);
  static const char* const kWords[] = {"the",     "a",       "data",      "profile", "column",
                                       "value",   "null",    "quickly",   "of",      "and",
                                       "parquet", "snappy",  "truthound", "is",      "row",
                                       "to",      "metrics", "distinct",  "x",       "compression"};
  switch (shape) {
    case Shape::kRandom:
      while (out.size() < n) out.push_back(static_cast<uint8_t>(rng()));
      break;
    case Shape::kText:
      while (out.size() < n) {
        const std::string w = kWords[pick(0, std::size(kWords) - 1)];
        out.insert(out.end(), w.begin(), w.end());
        out.push_back(pick(0, 9) == 0 ? '.' : ' ');
      }
      break;
    case Shape::kRuns:
      while (out.size() < n) out.insert(out.end(), pick(1, 300), static_cast<uint8_t>(pick(0, 3)));
      break;
    case Shape::kPeriodic: {
      Bytes period(pick(1, 20));
      for (auto& c : period) c = static_cast<uint8_t>(rng());
      while (out.size() < n) {
        out.push_back(period[out.size() % period.size()]);
        if (pick(0, 500) == 0) out.back() ^= 0x5a;
      }
      break;
    }
    case Shape::kInts:
      while (out.size() < n) {
        const uint64_t v = pick(0, 3) == 0 ? rng() : pick(0, 1000);
        put_le(out, v, 8);
      }
      break;
    case Shape::kMixed:
      while (out.size() < n) {
        const Bytes part = make_data(static_cast<Shape>(pick(0, 4)), pick(1, 3000), rng());
        out.insert(out.end(), part.begin(), part.end());
      }
      break;
  }
  out.resize(n);
  return out;
}

// ---------------------------------------------------------------- length preamble

TEST(SnappyLength, ReadsTheVarintPreamble) {
  EXPECT_EQ(snappy_uncompressed_length(Bytes{0x00}), 0u);
  EXPECT_EQ(snappy_uncompressed_length(Bytes{0x7f, 0xaa}), 127u);
  EXPECT_EQ(snappy_uncompressed_length(Bytes{0x80, 0x01}), 128u);
  EXPECT_EQ(snappy_uncompressed_length(Bytes{0xfe, 0xff, 0x7f}), 2097150u);
  EXPECT_EQ(snappy_uncompressed_length(Bytes{0xff, 0xff, 0xff, 0xff, 0x0f}), 0xffffffffu);
  EXPECT_EQ(snappy_uncompressed_length(Bytes{0x80, 0x00}), 0u);  // non-minimal, still valid
}

TEST(SnappyLength, RejectsMalformedPreambles) {
  expect_throws<SourceReadError>([] { snappy_uncompressed_length(Bytes{}); }, {"snappy: "});
  expect_throws<SourceReadError>([] { snappy_uncompressed_length(Bytes{0x80}); }, {"snappy: "});
  expect_throws<SourceReadError>([] { snappy_uncompressed_length(Bytes{0xff, 0xff, 0xff}); },
                                 {"snappy: "});
  // > 2^32-1
  expect_throws<SourceReadError>(
      [] { snappy_uncompressed_length(Bytes{0xff, 0xff, 0xff, 0xff, 0x10}); }, {"snappy: "});
  // 5 bytes, all with the continuation bit
  expect_throws<SourceReadError>(
      [] { snappy_uncompressed_length(Bytes{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}); }, {"snappy: "});
}

// ---------------------------------------------------------------- hand-built streams

TEST(SnappyDecompress, EmptyOutput) {
  EXPECT_TRUE(decompress(Bytes{0x00}).empty());
  Bytes none;
  snappy_decompress(Bytes{0x00}, none);
  expect_throws<SourceReadError>([] { snappy_decompress(Bytes{}, std::span<uint8_t>()); },
                                 {"snappy: "});
  // length 0 but trailing elements
  expect_throws<SourceReadError>([] { decompress(Bytes{0x00, 0x00, 'a'}); }, {"snappy: "});
}

TEST(SnappyDecompress, EveryTagKind) {
  StreamBuilder b;
  b.literal("abcdefgh").copy1(8, 4).copy2(12, 20).copy4(5, 7).literal("Z").copy1(1, 11);
  EXPECT_EQ(decompress(b.finish()), b.expected());
  EXPECT_EQ(std::string(b.expected().begin(), b.expected().end()),
            "abcdefgh"
            "abcd"
            "abcdefghabcdabcdefgh"
            "defghde"
            "Z"
            "ZZZZZZZZZZZ");
}

TEST(SnappyDecompress, StreamFromGoogleSnappy) {
  // snappy::Compress (libsnappy 1.1.9) of `text`: a literal with a 1-byte length, 1- and 2-byte
  // offset copies, and a run (copy2 with offset 1, length 64).
  const std::string text =
      "Wikipedia is a free, web-based, collaborative, multilingual encyclopedia project. "
      "Wikipedia is a free encyclopedia; " +
      std::string(80, 'a') + ", collaborative!";
  const Bytes stream = {0xd4, 0x01, 0xf0, 0x52, 0x57, 0x69, 0x6b, 0x69, 0x70, 0x65, 0x64, 0x69,
                        0x61, 0x20, 0x69, 0x73, 0x20, 0x61, 0x20, 0x66, 0x72, 0x65, 0x65, 0x2c,
                        0x20, 0x77, 0x65, 0x62, 0x2d, 0x62, 0x61, 0x73, 0x65, 0x64, 0x2c, 0x20,
                        0x63, 0x6f, 0x6c, 0x6c, 0x61, 0x62, 0x6f, 0x72, 0x61, 0x74, 0x69, 0x76,
                        0x65, 0x2c, 0x20, 0x6d, 0x75, 0x6c, 0x74, 0x69, 0x6c, 0x69, 0x6e, 0x67,
                        0x75, 0x61, 0x6c, 0x20, 0x65, 0x6e, 0x63, 0x79, 0x63, 0x6c, 0x6f, 0x70,
                        0x65, 0x64, 0x69, 0x61, 0x20, 0x70, 0x72, 0x6f, 0x6a, 0x65, 0x63, 0x74,
                        0x2e, 0x20, 0x57, 0x46, 0x52, 0x00, 0x32, 0x2a, 0x00, 0x08, 0x3b, 0x20,
                        0x61, 0xfe, 0x01, 0x00, 0x3a, 0x01, 0x00, 0x3a, 0xa6, 0x00, 0x00, 0x21};
  ASSERT_EQ(text.size(), 212u);
  EXPECT_EQ(snappy_uncompressed_length(stream), 212u);
  const Bytes out = decompress(stream);
  EXPECT_EQ(std::string(out.begin(), out.end()), text);
  // hand-checked: literal "abc", copy1(offset 3, len 11), copy1(offset 3, len 4)
  const Bytes abc = decompress(Bytes{18, 0x08, 'a', 'b', 'c', 0x1d, 3, 0x01, 3});
  EXPECT_EQ(std::string(abc.begin(), abc.end()), "abcabcabcabcabcabc");
}

TEST(SnappyDecompress, LiteralLengthsWithOneToFourExtraBytes) {
  for (size_t len : {1u, 2u, 16u, 17u, 60u, 61u, 64u, 255u, 256u, 257u, 300u, 65536u, 65537u}) {
    for (int extra = 0; extra <= 4; ++extra) {
      if (extra == 0 && len > 60) continue;
      if (extra == 1 && len > 256) continue;
      if (extra == 2 && len > 65536) continue;
      const Bytes data = make_data(Shape::kRandom, len, len * 7 + extra);
      StreamBuilder b;
      b.literal(data, extra);
      // and followed by a long tail, so the literal is also decoded by the fast loop
      const Bytes tail = make_data(Shape::kRandom, 200, 99);
      StreamBuilder b2;
      b2.literal(data, extra).literal(tail);
      EXPECT_EQ(decompress(b.finish()), data) << len << " " << extra;
      EXPECT_EQ(decompress(b2.finish()), b2.expected()) << len << " " << extra;
    }
  }
}

TEST(SnappyDecompress, OverlappingCopiesWithOffsetsOneToTwenty) {
  for (size_t offset = 1; offset <= 20; ++offset) {
    for (size_t len = 1; len <= 64; ++len) {
      for (int kind = 0; kind < 3; ++kind) {
        if (kind == 0 && (len < 4 || len > 11)) continue;
        for (size_t tail : {0u, 100u}) {
          StreamBuilder b;
          b.literal(make_data(Shape::kRandom, offset + 3, offset));
          if (kind == 0) b.copy1(offset, len);
          if (kind == 1) b.copy2(offset, len);
          if (kind == 2) b.copy4(offset, len);
          if (tail > 0) b.literal(make_data(Shape::kText, tail, 5));
          EXPECT_EQ(decompress(b.finish()), b.expected())
              << "offset " << offset << " len " << len << " kind " << kind << " tail " << tail;
        }
      }
    }
  }
}

TEST(SnappyDecompress, CopyAtTheVeryEndOfTheOutput) {
  StreamBuilder b;
  b.literal(make_data(Shape::kText, 300, 3)).copy2(300, 64).copy1(1, 4);
  EXPECT_EQ(decompress(b.finish()), b.expected());
  StreamBuilder b2;
  b2.literal("x").copy2(1, 64).copy2(1, 64).copy4(65, 64);
  EXPECT_EQ(decompress(b2.finish()), Bytes(193, 'x'));
}

// The elements after the one under test: `n` input bytes of one of three kinds, so that the
// element ends at every distance from the end of the input and of the output independently.
enum class Tail {
  kLiteral,   // one literal: as many output bytes as input bytes
  kTinyCopy,  // 4-byte-offset copies of length 1: few output bytes for the input
  kLongCopy,  // 2-byte-offset copies of length 64: many output bytes for the input
};

void add_tail(StreamBuilder& b, Tail kind, size_t n, std::span<const uint8_t> noise) {
  if (n == 0) return;
  switch (kind) {
    case Tail::kLiteral:
      if (n <= 61) {
        b.literal(noise.subspan(200, std::max<size_t>(n - 1, 1)), 0);  // tag + bytes
      } else {
        b.literal(noise.subspan(200, n - 2), 1);  // tag + 1 length byte + bytes
      }
      break;
    case Tail::kTinyCopy:
      b.literal(noise.subspan(0, n % 5 + 1));  // 1..5 input bytes + 1 for the tag
      for (size_t i = 0; i + 1 < n / 5; ++i) b.copy4(1 + i % 7, 1);
      break;
    case Tail::kLongCopy:
      b.literal(noise.subspan(0, n % 3 + 1));
      for (size_t i = 0; i + 1 < n / 3; ++i) b.copy2(1 + i % 7, 64);
      break;
  }
}

// Every element kind at every distance from the end of the input and the output, so that it is
// decoded by the fast loop, by the slow loop, and right where one hands over to the other (a
// wild copy one byte too long there is caught by ASan).
TEST(SnappyDecompress, FastAndSlowLoopBoundary) {
  const Bytes noise = make_data(Shape::kRandom, 400, 11);
  const size_t lens[] = {1, 2, 3, 4, 5, 7, 8, 11, 12, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64};
  for (Tail kind : {Tail::kLiteral, Tail::kTinyCopy, Tail::kLongCopy}) {
    for (size_t head : {1u, 20u, 150u}) {
      for (size_t tail = 0; tail <= 100; ++tail) {
        for (size_t offset : {1u, 2u, 3u, 5u, 7u, 8u, 9u, 15u, 16u, 17u, 20u, 64u}) {
          if (offset > head) continue;
          for (size_t len : lens) {
            StreamBuilder b;
            b.literal(std::span(noise).first(head));
            if (len >= 4 && len <= 11 && (len + tail) % 2) {
              b.copy1(offset, len);
            } else {
              b.copy2(offset, len);
            }
            add_tail(b, kind, tail, noise);
            ASSERT_EQ(decompress(b.finish()), b.expected())
                << "head " << head << " offset " << offset << " len " << len << " tail " << tail
                << " kind " << static_cast<int>(kind);
          }
        }
        // a literal of every size class
        for (size_t len : {1u, 15u, 16u, 17u, 31u, 32u, 33u, 59u, 60u, 61u, 64u, 65u, 100u}) {
          StreamBuilder b;
          b.literal(std::span(noise).first(head)).literal(std::span(noise).subspan(100, len));
          add_tail(b, kind, tail, noise);
          ASSERT_EQ(decompress(b.finish()), b.expected())
              << "head " << head << " literal " << len << " tail " << tail << " kind "
              << static_cast<int>(kind);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- round trips

TEST(SnappyRoundTrip, AllSizesUpToTwoHundred) {
  for (size_t n = 0; n <= 200; ++n) {
    for (int shape = 0; shape < 6; ++shape) {
      const Bytes x = make_data(static_cast<Shape>(shape), n, n * 31 + shape);
      for (Style style : {Style::kMinimal, Style::kRandom}) {
        ASSERT_EQ(decompress(compress(x, style, n)), x) << "n " << n << " shape " << shape;
      }
    }
  }
}

TEST(SnappyRoundTrip, RandomShapesAndLengths) {
  std::mt19937_64 rng(2024);
  for (int iter = 0; iter < 240; ++iter) {
    const auto shape = static_cast<Shape>(iter % 6);
    const size_t cls = rng() % 4;
    const size_t n = cls == 0   ? rng() % 300
                     : cls == 1 ? rng() % 5000
                     : cls == 2 ? rng() % 70000
                                : rng() % 200001;
    const Bytes x = make_data(shape, n, rng());
    const Style style = iter % 2 ? Style::kRandom : Style::kMinimal;
    const Bytes stream = compress(x, style, rng());
    ASSERT_EQ(decompress(stream), x) << "iter " << iter << " n " << n;
  }
}

TEST(SnappyRoundTrip, SizesNearTheSlop) {
  // big buffers whose last element ends 0..70 bytes from the end of the input and output
  for (size_t extra = 0; extra <= 70; ++extra) {
    for (int shape = 0; shape < 6; ++shape) {
      const Bytes x = make_data(static_cast<Shape>(shape), 4000 + extra, extra * 6 + shape);
      for (Style style : {Style::kMinimal, Style::kRandom}) {
        ASSERT_EQ(decompress(compress(x, style, extra)), x) << extra << " " << shape;
      }
    }
  }
}

TEST(SnappyRoundTrip, FarOffsets) {
  // copies reaching back more than 65535 bytes need 4-byte offsets
  Bytes x = make_data(Shape::kText, 1000, 1);
  const Bytes noise = make_data(Shape::kRandom, 100000, 2);
  x.insert(x.end(), noise.begin(), noise.end());
  const Bytes again = Bytes(x.begin(), x.begin() + 1000);
  x.insert(x.end(), again.begin(), again.end());
  const Bytes stream = compress(x, Style::kMinimal);
  EXPECT_EQ(decompress(stream), x);
}

// ---------------------------------------------------------------- malformed input

TEST(SnappyMalformed, WrongOutputSizeThrows) {
  StreamBuilder b;
  b.literal("hello world").copy1(5, 5);
  const Bytes stream = b.finish();
  for (size_t size : {0u, 15u, 17u, 100u}) {
    Bytes out(size);
    expect_throws<SourceReadError>([&] { snappy_decompress(stream, out); }, {"snappy: "});
  }
  Bytes out(16);
  snappy_decompress(stream, out);
  EXPECT_EQ(std::string(out.begin(), out.end()), "hello worldworld");
}

TEST(SnappyMalformed, SpecificErrors) {
  // copy offset 0
  expect_throws<SourceReadError>([] { decompress(Bytes{5, 0x00, 'a', 0x01, 0x00}); },
                                 {"snappy: ", "offset 0"});
  // copy before the start of the output
  expect_throws<SourceReadError>([] { decompress(Bytes{5, 0x00, 'a', 0x01, 0x02}); }, {"snappy: "});
  // copy with nothing decoded yet
  expect_throws<SourceReadError>([] { decompress(Bytes{4, 0x01, 0x01}); }, {"snappy: "});
  // literal past the end of the input
  expect_throws<SourceReadError>([] { decompress(Bytes{3, 0x08, 'a', 'b'}); }, {"snappy: "});
  // literal past the end of the output
  expect_throws<SourceReadError>([] { decompress(Bytes{2, 0x08, 'a', 'b', 'c'}); }, {"snappy: "});
  // copy past the end of the output
  expect_throws<SourceReadError>([] { decompress(Bytes{4, 0x00, 'a', 0x01, 0x01}); }, {"snappy: "});
  // output not filled
  expect_throws<SourceReadError>([] { decompress(Bytes{9, 0x00, 'a', 0x01, 0x01}); }, {"snappy: "});
  // huge literal lengths (4 length bytes), with plenty of input around for the fast loop
  Bytes big = {200, 1, 0xfc, 0xff, 0xff, 0xff, 0xff};
  big.resize(300, 'q');
  expect_throws<SourceReadError>([&] { decompress(big); }, {"snappy: "});
  // the same errors inside the fast loop: a long valid prefix first
  for (const Bytes& bad_elem :
       {Bytes{0x01, 0x00}, Bytes{0x02, 0x00, 0x00}, Bytes{0x03, 0x00, 0x00, 0x00, 0x00},
        Bytes{0xfe, 0xff, 0x00, 0x00}, Bytes{0xff, 0xff, 0xff, 0x00, 0x00}}) {
    StreamBuilder b;
    b.literal(make_data(Shape::kRandom, 200, 3));
    Bytes stream = b.finish(1000);
    stream.insert(stream.end(), bad_elem.begin(), bad_elem.end());
    stream.resize(stream.size() + 200, 0);  // keeps the fast loop going
    expect_throws<SourceReadError>([&] { decompress(stream); }, {"snappy: "});
  }
  // a copy whose offset reaches one byte before the output start, inside the fast loop
  {
    StreamBuilder b;
    b.literal(make_data(Shape::kRandom, 100, 3));
    Bytes stream = b.finish(1000);
    const Bytes elem = {0x02 | (63 << 2), 101, 0};
    stream.insert(stream.end(), elem.begin(), elem.end());
    stream.resize(stream.size() + 200, 0);
    expect_throws<SourceReadError>([&] { decompress(stream); }, {"snappy: ", "before"});
  }
}

std::vector<Bytes> sample_streams() {
  std::vector<Bytes> streams;
  uint64_t seed = 1;
  for (size_t n : {0u, 1u, 30u, 100u, 300u, 2000u}) {
    for (int shape = 0; shape < 6; ++shape) {
      for (Style style : {Style::kMinimal, Style::kRandom}) {
        streams.push_back(compress(make_data(static_cast<Shape>(shape), n, seed), style, seed));
        ++seed;
      }
    }
  }
  return streams;
}

// sample_streams() and, per data shape, streams long enough to stay in the fast loop.
std::vector<Bytes> sample_and_long_streams(uint64_t seed) {
  std::vector<Bytes> streams = sample_streams();
  for (int shape = 0; shape < 6; ++shape) {
    const Bytes x = make_data(static_cast<Shape>(shape), 30000, seed + shape);
    streams.push_back(compress(x, Style::kMinimal, shape));
    streams.push_back(compress(x, Style::kRandom, shape));
  }
  return streams;
}

// Decodes a possibly corrupted stream into an exactly sized buffer; returns false if it threw.
// Either way nothing may be read or written out of bounds (ASan).
bool try_decompress(const Bytes& stream, size_t max_output = size_t{1} << 22) {
  try {
    const Bytes in(stream);
    const size_t n = snappy_uncompressed_length(in);
    if (n > max_output) return false;
    Bytes out(n);
    snappy_decompress(in, out);
    return true;
  } catch (const SourceReadError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("snappy: ", 0), 0u) << e.what();
    return false;
  }
}

TEST(SnappyMalformed, EveryTruncationThrows) {
  for (const Bytes& stream : sample_streams()) {
    ASSERT_TRUE(try_decompress(stream));
    for (size_t k = 0; k < stream.size(); ++k) {
      const Bytes cut(stream.begin(), stream.begin() + k);
      EXPECT_FALSE(try_decompress(cut)) << "prefix " << k << " of " << stream.size();
    }
  }
}

TEST(SnappyMalformed, RandomByteFlipsNeverCrash) {
  const std::vector<Bytes> streams = sample_and_long_streams(500);
  std::mt19937_64 rng(77);
  int threw = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes s = streams[rng() % streams.size()];
    if (s.size() < 2) continue;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      // mostly after the preamble, so the claimed length stays plausible
      const size_t pos = rng() % 8 == 0 ? rng() % s.size() : 1 + rng() % (s.size() - 1);
      s[pos] = rng() % 2 ? static_cast<uint8_t>(rng())
                         : static_cast<uint8_t>(s[pos] ^ (1u << (rng() % 8)));
    }
    if (!try_decompress(s)) ++threw;
  }
  EXPECT_GT(threw, 1000);
}

TEST(SnappyMalformed, RandomGarbageNeverCrashes) {
  std::mt19937_64 rng(78);
  for (int iter = 0; iter < 5000; ++iter) {
    Bytes s;
    put_varint(s, rng() % 3000);
    const size_t n = rng() % 3000;
    for (size_t i = 0; i < n; ++i) {
      // bias towards copies with small offsets so that many elements decode
      s.push_back(rng() % 3 ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>(rng() % 8));
    }
    try_decompress(s);
  }
}

// ---------------------------------------------------------------- two streams at once

// Both blocks through snappy_decompress2; false if it threw.
bool try_decompress2(const Bytes& a, const Bytes& b, Bytes* out_a = nullptr, Bytes* out_b = nullptr,
                     size_t max_output = size_t{1} << 22) {
  try {
    const Bytes in_a(a), in_b(b);
    const size_t na = snappy_uncompressed_length(in_a), nb = snappy_uncompressed_length(in_b);
    if (na > max_output || nb > max_output) return false;
    Bytes xa(na), xb(nb);
    snappy_decompress2(in_a, xa, in_b, xb);
    if (out_a) *out_a = std::move(xa);
    if (out_b) *out_b = std::move(xb);
    return true;
  } catch (const SourceReadError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("snappy: ", 0), 0u) << e.what();
    return false;
  }
}

TEST(SnappyDecompress2, SameAsOneAtATime) {
  // pairs of every size class, so either stream leaves the lockstep loop first, or never enters
  std::mt19937_64 rng(99);
  for (int iter = 0; iter < 400; ++iter) {
    Bytes x[2];
    for (auto& v : x) {
      const size_t cls = rng() % 4;
      const size_t n = cls == 0 ? rng() % 100 : cls == 1 ? rng() % 3000 : rng() % 70000;
      v = make_data(static_cast<Shape>(rng() % 6), n, rng());
    }
    const Bytes a = compress(x[0], iter % 2 ? Style::kRandom : Style::kMinimal, rng());
    const Bytes b = compress(x[1], iter % 3 ? Style::kMinimal : Style::kRandom, rng());
    Bytes da, db;
    ASSERT_TRUE(try_decompress2(a, b, &da, &db)) << "iter " << iter;
    EXPECT_EQ(da, x[0]) << "iter " << iter;
    EXPECT_EQ(db, x[1]) << "iter " << iter;
    EXPECT_EQ(da, decompress(a));
  }
}

TEST(SnappyDecompress2, WrongOutputSizeOfEitherThrows) {
  const Bytes good = compress(make_data(Shape::kText, 5000, 3), Style::kMinimal);
  const Bytes in(good);
  Bytes right(snappy_uncompressed_length(in)), wrong(right.size() - 1);
  EXPECT_THROW(snappy_decompress2(in, right, in, wrong), SourceReadError);
  EXPECT_THROW(snappy_decompress2(in, wrong, in, right), SourceReadError);
}

TEST(SnappyDecompress2, CorruptionInEitherStreamThrowsOrFillsExactly) {
  const std::vector<Bytes> streams = sample_and_long_streams(900);
  std::mt19937_64 rng(79);
  int threw = 0;
  for (int iter = 0; iter < 10000; ++iter) {
    Bytes s[2] = {streams[rng() % streams.size()], streams[rng() % streams.size()]};
    Bytes& bad = s[rng() % 2];
    if (bad.size() < 2) continue;
    if (rng() % 4 == 0) {
      bad.resize(rng() % bad.size());  // truncated
    } else {
      for (int f = 1 + static_cast<int>(rng() % 4); f > 0; --f) {
        const size_t pos = 1 + rng() % (bad.size() - 1);
        bad[pos] = static_cast<uint8_t>(rng());
      }
    }
    const bool one_by_one = try_decompress(s[0]) && try_decompress(s[1]);
    EXPECT_EQ(try_decompress2(s[0], s[1]), one_by_one) << "iter " << iter;
    threw += one_by_one ? 0 : 1;
  }
  EXPECT_GT(threw, 1000);
}

}  // namespace
}  // namespace truthound::parquet
