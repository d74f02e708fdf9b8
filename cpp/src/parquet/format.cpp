// Thrift compact-protocol page headers and the RLE / bit-packed hybrid decoder of Parquet
// (parquet-format's parquet.thrift and Encodings.md).
#include "truthound/parquet/format.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "thrift_compact.hpp"
#include "truthound/util/error.hpp"

namespace truthound::parquet {

namespace {

[[noreturn]] void header_error(const std::string& what) {
  throw SourceReadError("Parquet page header: " + what);
}

using CompactReader = thrift::CompactReader;
using namespace thrift::types;

// Fields of one sub-header, and which of them were present (bit i = field i).
struct SubHeader {
  int32_t f[7] = {};
  uint32_t seen = 0;
  bool is_compressed = true;
  bool present = false;
};

void read_sub_header(CompactReader& r, int depth, SubHeader& sub) {
  sub = SubHeader{};
  sub.present = true;
  r.read_struct(depth, [&](int16_t id, uint8_t type) {
    if (id >= 1 && id <= 6 && type == kI32) {
      sub.f[id] = r.i32();
      sub.seen |= 1u << id;
      return true;
    }
    if (id == 7 && (type == kBoolTrue || type == kBoolFalse)) {  // v2 is_compressed
      sub.is_compressed = type == kBoolTrue;
      return true;
    }
    return false;
  });
}

void require(const SubHeader& sub, const char* name, uint32_t fields,
             const char* const* field_names) {
  if (!sub.present) header_error(std::string("missing required field ") + name);
  for (int id = 1; id <= 6; ++id) {
    if ((fields & (1u << id)) == 0) continue;
    if ((sub.seen & (1u << id)) == 0) {
      header_error(std::string("missing required field ") + name + "." + field_names[id]);
    }
  }
}

int32_t non_negative(int32_t v, const char* name) {
  if (v < 0) header_error(std::string("negative ") + name + " (" + std::to_string(v) + ")");
  return v;
}

// ------------------------------------------------------------------ bit unpacking

template <typename T>
T load_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) {
    T r = 0;
    for (size_t i = 0; i < sizeof(T); ++i) r = static_cast<T>((r << 8) | p[sizeof(T) - 1 - i]);
    v = r;
  }
  return v;
}

// Unpacks `groups` groups of 8 values of W bits (LSB first) from p into out. Reads up to 8 bytes
// past the last group's W bytes: the caller guarantees they are addressable.
template <int W, typename Out>
void unpack_groups(const uint8_t* p, size_t groups, Out* out) {
  if constexpr (W == 0) {
    std::fill_n(out, groups * 8, Out{0});
  } else {
    constexpr uint64_t mask = (uint64_t{1} << W) - 1;
    for (size_t g = 0; g < groups; ++g, p += W, out += 8) {
      if constexpr (W <= 8) {
        const uint64_t w = load_le<uint64_t>(p);  // the whole group: 8 * W <= 64 bits
        [&]<size_t... K>(std::index_sequence<K...>) {
          ((out[K] = static_cast<Out>((w >> (K * W)) & mask)), ...);
        }(std::make_index_sequence<8>{});
      } else {
        [&]<size_t... K>(std::index_sequence<K...>) {
          ((out[K] = static_cast<Out>((load_le<uint64_t>(p + K * W / 8) >> (K * W % 8)) & mask)),
           ...);
        }(std::make_index_sequence<8>{});
      }
    }
  }
}

template <typename Out>
using UnpackFn = void (*)(const uint8_t*, size_t, Out*);

template <typename Out, size_t... W>
constexpr std::array<UnpackFn<Out>, sizeof...(W)> make_unpackers(std::index_sequence<W...>) {
  return {&unpack_groups<static_cast<int>(W), Out>...};
}

template <typename Out>
void unpack(int bit_width, const uint8_t* p, size_t groups, Out* out) {
  static constexpr auto kTable = make_unpackers<Out>(std::make_index_sequence<33>{});
  kTable[static_cast<size_t>(bit_width)](p, groups, out);
}

constexpr size_t kSlack = 8;  // bytes unpack_groups may read past the last group

[[noreturn]] void rle_error(const std::string& what) {
  throw SourceReadError("Parquet RLE/bit-packed data: " + what);
}

}  // namespace

// ------------------------------------------------------------------ page header

PageHeader read_page_header(std::span<const uint8_t> bytes) {
  CompactReader r(bytes, "Parquet page header");
  PageHeader h;
  uint32_t seen = 0;
  int32_t type = 0;
  SubHeader v1, dict, v2;
  r.read_struct(1, [&](int16_t id, uint8_t t) {
    switch (id) {
      case 1:
      case 2:
      case 3: {
        if (t != kI32) return false;
        const int32_t v = r.i32();
        if (id == 1) type = v;
        if (id == 2) h.uncompressed_size = v;
        if (id == 3) h.compressed_size = v;
        seen |= 1u << id;
        return true;
      }
      case 5:
      case 7:
      case 8:
        if (t != kStruct) return false;
        read_sub_header(r, 2, id == 5 ? v1 : id == 7 ? dict : v2);
        return true;
      default:
        return false;  // crc, index page header, newer fields
    }
  });
  if ((seen & 2u) == 0) header_error("missing required field type");
  if ((seen & 4u) == 0) header_error("missing required field uncompressed_page_size");
  if ((seen & 8u) == 0) header_error("missing required field compressed_page_size");
  if (type < 0) header_error("negative page type (" + std::to_string(type) + ")");
  h.type = static_cast<PageType>(type);
  non_negative(h.uncompressed_size, "uncompressed_page_size");
  non_negative(h.compressed_size, "compressed_page_size");

  static constexpr const char* kV1Names[] = {
      "", "num_values", "encoding", "definition_level_encoding", "repetition_level_encoding", "",
      ""};
  static constexpr const char* kDictNames[] = {"", "num_values", "encoding", "", "", "", ""};
  static constexpr const char* kV2Names[] = {"",
                                             "num_values",
                                             "num_nulls",
                                             "num_rows",
                                             "encoding",
                                             "definition_levels_byte_length",
                                             "repetition_levels_byte_length"};
  switch (h.type) {
    case PageType::kDataPage:
      require(v1, "data_page_header", 0b11110, kV1Names);
      h.num_values = non_negative(v1.f[1], "num_values");
      h.encoding = static_cast<Encoding>(v1.f[2]);
      h.definition_level_encoding = static_cast<Encoding>(v1.f[3]);
      h.repetition_level_encoding = static_cast<Encoding>(v1.f[4]);
      break;
    case PageType::kDictionaryPage:
      require(dict, "dictionary_page_header", 0b110, kDictNames);
      h.num_values = non_negative(dict.f[1], "num_values");
      h.encoding = static_cast<Encoding>(dict.f[2]);
      break;
    case PageType::kDataPageV2:
      require(v2, "data_page_header_v2", 0b1111110, kV2Names);
      h.num_values = non_negative(v2.f[1], "num_values");
      h.num_nulls = non_negative(v2.f[2], "num_nulls");
      h.num_rows = non_negative(v2.f[3], "num_rows");
      h.encoding = static_cast<Encoding>(v2.f[4]);
      h.definition_levels_byte_length = non_negative(v2.f[5], "definition_levels_byte_length");
      h.repetition_levels_byte_length = non_negative(v2.f[6], "repetition_levels_byte_length");
      h.is_compressed = v2.is_compressed;
      break;
    default:
      break;  // index pages and unknown page types: the caller skips them
  }
  h.header_size = r.pos();
  return h;
}

std::span<const uint8_t> length_prefixed(std::span<const uint8_t> data, size_t& consumed) {
  if (data.size() < 4) {
    throw SourceReadError("Parquet length-prefixed data: " + std::to_string(data.size()) +
                          " bytes, too short for the 4-byte length");
  }
  const uint32_t n = load_le<uint32_t>(data.data());
  if (n > data.size() - 4) {
    throw SourceReadError("Parquet length-prefixed data: length " + std::to_string(n) +
                          " runs past the " + std::to_string(data.size() - 4) + " bytes left");
  }
  consumed = 4 + static_cast<size_t>(n);
  return data.subspan(4, n);
}

// ------------------------------------------------------------------ RLE / bit-packed hybrid

RleBitPackedDecoder::RleBitPackedDecoder(std::span<const uint8_t> data, int bit_width)
    : data_(data), bit_width_(bit_width) {
  if (bit_width < 0 || bit_width > 32) rle_error("bad bit width " + std::to_string(bit_width));
  mask_ = bit_width == 32 ? 0xffffffffu : (uint32_t{1} << bit_width) - 1;
}

bool RleBitPackedDecoder::next_run() {
  pos_ = run_end_;
  if (pos_ >= data_.size()) return false;
  uint32_t header = 0;
  for (int shift = 0;; shift += 7) {
    if (pos_ >= data_.size()) rle_error("run header truncated at offset " + std::to_string(pos_));
    const uint8_t b = data_[pos_++];
    if (shift == 28 && b > 0x0f) rle_error("bad run header at offset " + std::to_string(pos_));
    header |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  const uint64_t avail = data_.size() - pos_;
  if ((header & 1) != 0) {
    const uint64_t groups = header >> 1;
    const uint64_t bytes = groups * static_cast<uint64_t>(bit_width_);
    rle_ = false;
    group_pos_ = group_len_ = 0;
    if (bytes <= avail) {
      run_left_ = groups * 8;
      run_end_ = pos_ + static_cast<size_t>(bytes);
    } else {
      // Only the last group may be cut short (bit_width_ > 0 here since bytes > avail).
      if ((groups - 1) * static_cast<uint64_t>(bit_width_) > avail) {
        rle_error("bit-packed run of " + std::to_string(groups * 8) + " values needs " +
                  std::to_string(bytes) + " bytes, " + std::to_string(avail) + " left");
      }
      run_left_ = avail * 8 / static_cast<uint64_t>(bit_width_);
      run_end_ = data_.size();
    }
  } else {
    const size_t value_bytes = (static_cast<size_t>(bit_width_) + 7) / 8;
    if (value_bytes > avail) {
      rle_error("RLE run value needs " + std::to_string(value_bytes) + " bytes, " +
                std::to_string(avail) + " left");
    }
    uint32_t v = 0;
    for (size_t i = 0; i < value_bytes; ++i) v |= static_cast<uint32_t>(data_[pos_ + i]) << (8 * i);
    rle_ = true;
    rle_value_ = v & mask_;
    run_left_ = header >> 1;
    run_end_ = pos_ + value_bytes;
  }
  return true;
}

void RleBitPackedDecoder::buffer_group() {
  const size_t w = static_cast<size_t>(bit_width_);
  const size_t avail = data_.size() - pos_;
  if (avail >= w + kSlack) {
    unpack(bit_width_, data_.data() + pos_, 1, group_);
  } else {
    uint8_t tmp[32 + kSlack] = {};
    const size_t n = std::min(w, run_end_ - pos_);
    if (n > 0) std::memcpy(tmp, data_.data() + pos_, n);
    unpack(bit_width_, tmp, 1, group_);
  }
  pos_ += std::min(w, run_end_ - pos_);
  group_pos_ = 0;
  group_len_ = static_cast<uint32_t>(std::min<uint64_t>(8, run_left_));
}

template <typename Out>
size_t RleBitPackedDecoder::decode_impl(std::span<Out> out) {
  const size_t want = out.size();
  Out* dst = out.data();
  size_t n = 0;
  const size_t w = static_cast<size_t>(bit_width_);
  while (n < want) {
    if (run_left_ == 0) {
      if (!next_run()) break;
      continue;
    }
    if (rle_) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(run_left_, want - n));
      std::fill_n(dst + n, take, static_cast<Out>(rle_value_));
      n += take;
      run_left_ -= take;
      continue;
    }
    if (group_pos_ < group_len_) {
      const size_t take = std::min<size_t>(group_len_ - group_pos_, want - n);
      for (size_t i = 0; i < take; ++i) dst[n + i] = static_cast<Out>(group_[group_pos_ + i]);
      group_pos_ += static_cast<uint32_t>(take);
      n += take;
      run_left_ -= take;
      continue;
    }
    // Whole groups straight into `out`, as far as the slack after them is inside the data.
    size_t groups = static_cast<size_t>(std::min<uint64_t>((want - n) / 8, run_left_ / 8));
    if (groups > 0 && w > 0) {
      const size_t avail = data_.size() - pos_;
      groups = avail >= kSlack ? std::min(groups, (avail - kSlack) / w) : 0;
    }
    if (groups > 0) {
      unpack(bit_width_, data_.data() + pos_, groups, dst + n);
      pos_ += groups * w;
      n += groups * 8;
      run_left_ -= groups * 8;
      continue;
    }
    buffer_group();
  }
  return n;
}

size_t RleBitPackedDecoder::decode(std::span<uint32_t> out) {
  return decode_impl(out);
}

size_t RleBitPackedDecoder::decode(std::span<uint8_t> out) {
  if (bit_width_ > 8) {
    rle_error("bit width " + std::to_string(bit_width_) + " is too wide for 8-bit levels");
  }
  return decode_impl(out);
}

}  // namespace truthound::parquet
