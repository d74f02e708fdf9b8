// The page sizes of a Parquet file checked from its page headers alone (page_check.hpp).
#include "truthound/parquet/page_check.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "truthound/parquet/format.hpp"
#include "truthound/util/error.hpp"

namespace truthound::parquet {

namespace {

constexpr int64_t kSpare = int64_t{1} << 20;
constexpr size_t kFirstWindow = 4096;            // most page headers are tens of bytes
constexpr size_t kMaxHeader = size_t{16} << 20;  // Arrow's default page header limit

const char* codec_name(int32_t codec) {
  switch (codec) {
    case 1:
      return "snappy";
    case 2:
      return "gzip";
    case 4:
      return "brotli";
    case 5:
      return "lz4";
    case 6:
      return "zstd";
    case 7:
      return "lz4_raw";
    default:
      return "its codec";
  }
}

}  // namespace

int64_t max_uncompressed_size(int32_t codec, int64_t compressed) {
  int64_t per_byte = 0;
  switch (codec) {
    case 1:  // SNAPPY
      per_byte = 22;
      break;
    case 2:  // GZIP
      per_byte = 1032;
      break;
    case 4:  // BROTLI: (2^24 bytes per meta-block) / (27 bits of meta-block header), rounded up
      per_byte = ((int64_t{1} << 24) * 8 + 26) / 27;
      break;
    case 5:  // LZ4 (Hadoop-framed or raw blocks)
    case 7:  // LZ4_RAW
      per_byte = 255;
      break;
    case 6:  // ZSTD
      per_byte = 32768;
      break;
    default:  // UNCOMPRESSED, LZO, unknown
      return -1;
  }
  // compressed < 2^31 (an i32 in the page header): no overflow
  return per_byte * std::max<int64_t>(compressed, 0) + kSpare;
}

void check_page_sizes(const FileMeta& meta, std::span<const size_t> row_groups,
                      std::span<const size_t> leaves, const ReadAt& read_at,
                      const std::string& name) {
  std::vector<uint8_t> window;
  for (const size_t g : row_groups) {
    if (g >= meta.row_groups.size()) {
      throw SourceReadError(name + ": no row group " + std::to_string(g));
    }
    const RowGroupMeta& group = meta.row_groups[g];
    for (const size_t leaf : leaves) {
      if (leaf >= group.columns.size()) {
        throw SourceReadError(name + ": no column " + std::to_string(leaf));
      }
      const ColumnChunkMeta& chunk = group.columns[leaf];
      if (chunk.external) continue;
      const std::string where =
          name + ": row group " + std::to_string(g) + ", column '" + meta.leaf_paths[leaf] + "'";
      auto fail = [&](int64_t at, const std::string& what) {
        throw SourceReadError(where + ": the page at byte " + std::to_string(at) + " " + what);
      };
      // [start, end) lies inside the file: parse_file_meta checked it
      const int64_t end = chunk.start + chunk.length;
      int64_t pos = chunk.start, values = 0;
      while (values < chunk.num_values && pos < end) {
        const int64_t left = end - pos;
        size_t size = std::min<size_t>(kFirstWindow, static_cast<size_t>(left));
        PageHeader h;
        for (;;) {
          window.resize(size);
          read_at(pos, window);
          try {
            h = read_page_header(window);
            break;
          } catch (const SourceReadError& e) {
            // a header longer than the window (large statistics): read more, up to the limit
            const size_t most = std::min<size_t>(kMaxHeader, static_cast<size_t>(left));
            if (size >= most) fail(pos, std::string("has a malformed header (") + e.what() + ")");
            size = std::min(most, size * 4);
          }
        }
        const int64_t body = static_cast<int64_t>(h.header_size) + h.compressed_size;
        if (body > left) {
          fail(pos, "claims " + std::to_string(h.compressed_size) + " bytes, and " +
                        std::to_string(left - static_cast<int64_t>(h.header_size)) +
                        " bytes of its column chunk are left after its header");
        }
        const int64_t most = max_uncompressed_size(chunk.codec, h.compressed_size);
        if (most >= 0 && h.uncompressed_size > most) {
          fail(pos, "claims " + std::to_string(h.uncompressed_size) + " bytes uncompressed from " +
                        std::to_string(h.compressed_size) + " bytes of " + codec_name(chunk.codec) +
                        ", more than " + codec_name(chunk.codec) + " can expand to (" +
                        std::to_string(most) + ")");
        }
        if (h.type == PageType::kDataPage || h.type == PageType::kDataPageV2) {
          values += h.num_values;
        }
        pos += body;
      }
    }
  }
}

}  // namespace truthound::parquet
