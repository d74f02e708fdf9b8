// The Parquet footer (FileMetaData of parquet.thrift): the fields the reader's plan needs, each
// checked before use.
#include "truthound/parquet/footer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <tuple>
#include <utility>

#include "thrift_compact.hpp"
#include "truthound/util/error.hpp"

namespace truthound::parquet {

namespace {

using thrift::CompactReader;
using namespace thrift::types;

constexpr std::string_view kContext = "Parquet footer";

struct SchemaElement {
  std::string name;
  int32_t num_children = 0;
  int32_t repetition = 0;  // 0 required, 1 optional, 2 repeated
  bool has_children = false;
};

// Reads the list whose header was just announced by a field of type kList, calling
// read_element() for each element of `want` type; a list of another element type is skipped.
// Integers of any width are one zigzag varint in the compact protocol, and thrift's generated
// readers read them whatever width the list header says: so does this.
template <typename ReadElement>
bool read_list(CompactReader& r, int depth, uint8_t want, ReadElement&& read_element) {
  uint8_t element = 0;
  const uint64_t size = r.list_header(element);
  const auto integer = [](uint8_t t) { return t == kI16 || t == kI32 || t == kI64; };
  if (element != want && !(integer(element) && integer(want))) {
    for (uint64_t i = 0; i < size; ++i) r.skip_element(element, depth);
    return false;
  }
  for (uint64_t i = 0; i < size; ++i) read_element();
  return true;
}

SchemaElement read_schema_element(CompactReader& r, int depth) {
  SchemaElement e;
  bool named = false;
  r.read_struct(depth, [&](int16_t id, uint8_t t) {
    if (id == 3 && t == kI32) {
      e.repetition = r.i32();
    } else if (id == 4 && t == kBinary) {
      e.name = std::string(r.binary());
      named = true;
    } else if (id == 5 && t == kI32) {
      e.num_children = r.i32();
      e.has_children = true;
    } else {
      return false;
    }
    return true;
  });
  if (!named) r.error("a schema element without a name");
  if (e.num_children < 0) r.error("schema element '" + e.name + "' has a negative child count");
  return e;
}

struct ChunkFields {
  ColumnChunkMeta meta;
  std::vector<std::string> path;
  uint32_t seen = 0;  // bit i: ColumnMetaData field i
};

void read_column_meta(CompactReader& r, int depth, ChunkFields& c) {
  r.read_struct(depth, [&](int16_t id, uint8_t t) {
    ColumnChunkMeta& m = c.meta;
    if (t == kI32 && (id == 1 || id == 4)) {
      (id == 1 ? m.physical_type : m.codec) = r.i32();
    } else if (t == kI64 && (id == 5 || id == 7 || id == 9 || id == 11)) {
      const int64_t v = r.i64();
      if (id == 5) m.num_values = v;
      if (id == 7) m.total_compressed_size = v;
      if (id == 9) m.data_page_offset = v;
      if (id == 11) m.dictionary_page_offset = v;
    } else if (t == kList && id == 2) {
      if (!read_list(r, depth + 1, kI32, [&] { m.encodings.push_back(r.i32()); })) return true;
    } else if (t == kList && id == 3) {
      if (!read_list(r, depth + 1, kBinary, [&] { c.path.emplace_back(r.binary()); })) return true;
    } else {
      return false;
    }
    c.seen |= 1u << id;
    return true;
  });
}

ChunkFields read_column_chunk(CompactReader& r, int depth) {
  ChunkFields c;
  bool has_meta = false;
  r.read_struct(depth, [&](int16_t id, uint8_t t) {
    if (id == 1 && t == kBinary) {
      c.meta.external = !r.binary().empty();
      return true;
    }
    if (id == 3 && t == kStruct) {
      read_column_meta(r, depth + 1, c);
      has_meta = true;
      return true;
    }
    return false;
  });
  if (!has_meta) r.error("a column chunk without metadata (an encrypted column?)");
  return c;
}

struct Version {
  std::string application;
  int major = 0, minor = 0, patch = 0;
};

// "parquet-mr version 1.2.8 (build ...)" -> {"parquet-mr", 1, 2, 8}; no version gives 0.0.0,
// as Arrow's ApplicationVersion does.
Version parse_created_by(std::string_view s) {
  Version v;
  const size_t at = s.find(" version");
  std::string_view app = s.substr(0, at);
  while (!app.empty() && app.back() == ' ') app.remove_suffix(1);
  v.application = std::string(app);
  if (at == std::string_view::npos) return v;
  std::string_view rest = s.substr(at + 8);
  int* parts[] = {&v.major, &v.minor, &v.patch};
  size_t i = 0;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  for (int* part : parts) {
    int n = 0;
    bool any = false;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9' && n < 100000) {
      n = n * 10 + (rest[i++] - '0');
      any = true;
    }
    if (!any) break;
    *part = n;
    if (i >= rest.size() || rest[i] != '.') break;
    ++i;
  }
  return v;
}

// The chunk's byte range, as Arrow's ComputeColumnChunkRange computes and checks it.
void set_range(ColumnChunkMeta& m, int64_t file_size, bool parquet_816, const std::string& where) {
  auto bad = [&](const std::string& what) {
    throw SourceReadError(std::string(kContext) + ": " + where + ": " + what);
  };
  int64_t start = m.data_page_offset;
  if (m.dictionary_page_offset > 0 && m.dictionary_page_offset < start)
    start = m.dictionary_page_offset;
  const int64_t length = m.total_compressed_size;
  if (start < 0 || length < 0)
    bad("negative column chunk offset or size (" + std::to_string(start) + ", " +
        std::to_string(length) + ")");
  if (start > file_size || length > file_size - start)
    bad("the column chunk [" + std::to_string(start) + ", +" + std::to_string(length) +
        ") runs past the end of the file (" + std::to_string(file_size) + " bytes)");
  m.start = start;
  m.length = length;
  if (parquet_816) m.padding = std::min<int64_t>(100, file_size - (start + length));
  m.length += m.padding;
}

}  // namespace

FileMeta parse_file_meta(std::span<const uint8_t> footer, int64_t file_size) {
  CompactReader r(footer, kContext);
  FileMeta f;
  f.file_size = file_size;
  std::vector<SchemaElement> schema;
  std::vector<std::vector<ChunkFields>> groups;
  bool has_schema = false, has_rows = false, has_groups = false;
  r.read_struct(1, [&](int16_t id, uint8_t t) {
    if (id == 2 && t == kList) {
      has_schema = read_list(r, 2, kStruct, [&] { schema.push_back(read_schema_element(r, 2)); });
      return true;
    }
    if (id == 3 && t == kI64) {
      f.num_rows = r.i64();
      has_rows = true;
      return true;
    }
    if (id == 4 && t == kList) {
      has_groups = read_list(r, 2, kStruct, [&] {
        RowGroupMeta g;
        std::vector<ChunkFields> chunks;
        bool rows = false, columns = false;
        r.read_struct(2, [&](int16_t gid, uint8_t gt) {
          if (gid == 1 && gt == kList) {
            columns = read_list(r, 3, kStruct, [&] { chunks.push_back(read_column_chunk(r, 3)); });
            return true;
          }
          if (gid == 3 && gt == kI64) {
            g.num_rows = r.i64();
            rows = true;
            return true;
          }
          return false;
        });
        if (!rows || !columns) r.error("a row group without num_rows or columns");
        if (g.num_rows < 0) r.error("negative row count in a row group");
        f.row_groups.push_back(std::move(g));
        groups.push_back(std::move(chunks));
      });
      return true;
    }
    if (id == 6 && t == kBinary) {
      f.created_by = std::string(r.binary());
      return true;
    }
    return false;
  });
  if (!has_schema || schema.empty()) r.error("no schema");
  if (!has_rows) r.error("no num_rows");
  if (f.num_rows < 0) r.error("negative row count (" + std::to_string(f.num_rows) + ")");
  if (!has_groups) r.error("no row groups");

  // The schema is a tree written depth first: each group element is followed by its children.
  struct Open {
    int32_t children_left;
    int32_t max_def, max_rep;
    size_t path_len;
  };
  std::vector<Open> stack;
  std::vector<std::string> path;
  if (!schema[0].has_children) r.error("the schema root has no children");
  stack.push_back({schema[0].num_children, 0, 0, 0});
  for (size_t i = 1; i < schema.size(); ++i) {
    while (!stack.empty() && stack.back().children_left == 0) {
      stack.pop_back();
      path.resize(stack.empty() ? 0 : stack.back().path_len);
    }
    if (stack.empty()) r.error("schema elements after the root's last child");
    Open& parent = stack.back();
    --parent.children_left;
    const SchemaElement& e = schema[i];
    const int32_t def = parent.max_def + (e.repetition != 0 ? 1 : 0);
    const int32_t rep = parent.max_rep + (e.repetition == 2 ? 1 : 0);
    path.resize(parent.path_len);
    path.push_back(e.name);
    if (e.has_children && e.num_children > 0) {
      stack.push_back({e.num_children, def, rep, path.size()});
      continue;
    }
    std::string joined;
    for (size_t k = 0; k < path.size(); ++k) joined += (k ? "." : "") + path[k];
    f.leaf_paths.push_back(std::move(joined));
    f.leaf_max_definition.push_back(def);
    f.leaf_max_repetition.push_back(rep);
  }
  for (const Open& o : stack)
    if (o.children_left != 0) r.error("the schema has fewer elements than its child counts say");
  if (f.leaf_paths.empty()) r.error("the schema has no columns");

  const Version v = parse_created_by(f.created_by);
  const bool parquet_816 = v.application == "parquet-mr" &&
                           std::tie(v.major, v.minor, v.patch) < std::make_tuple(1, 2, 9);
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<ChunkFields>& chunks = groups[g];
    const std::string where_group = "row group " + std::to_string(g);
    if (chunks.size() != f.leaf_paths.size())
      r.error(where_group + " has " + std::to_string(chunks.size()) +
              " column chunks, the schema " + std::to_string(f.leaf_paths.size()) + " columns");
    for (size_t i = 0; i < chunks.size(); ++i) {
      ChunkFields& c = chunks[i];
      const std::string where = where_group + ", column '" + f.leaf_paths[i] + "'";
      constexpr uint32_t kRequired =
          (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 9);
      if ((c.seen & kRequired) != kRequired) r.error(where + ": required chunk metadata missing");
      std::string joined;
      for (size_t k = 0; k < c.path.size(); ++k) joined += (k ? "." : "") + c.path[k];
      if (joined != f.leaf_paths[i])
        r.error(where + ": the chunk's path is '" + joined + "', not its column's");
      if (c.meta.num_values < 0) r.error(where + ": negative value count");
      if (!c.meta.external) set_range(c.meta, file_size, parquet_816, where);
      f.row_groups[g].columns.push_back(std::move(c.meta));
    }
  }
  return f;
}

FileMeta parse_file_tail(std::span<const uint8_t> tail, int64_t file_size) {
  auto fail = [](const std::string& what) { throw SourceReadError("Parquet footer: " + what); };
  if (file_size < 12) fail("not a Parquet file: " + std::to_string(file_size) + " bytes");
  if (tail.size() < 8 || static_cast<int64_t>(tail.size()) > file_size)
    fail("the tail holds " + std::to_string(tail.size()) + " bytes");
  const uint8_t* end = tail.data() + tail.size();
  if (std::memcmp(end - 4, "PARE", 4) == 0) fail("encrypted footers are not read");
  if (std::memcmp(end - 4, "PAR1", 4) != 0) fail("not a Parquet file (no PAR1 magic bytes)");
  const uint32_t length = static_cast<uint32_t>(end[-8]) | static_cast<uint32_t>(end[-7]) << 8 |
                          static_cast<uint32_t>(end[-6]) << 16 |
                          static_cast<uint32_t>(end[-5]) << 24;
  if (static_cast<int64_t>(length) > file_size - 12)
    fail("a footer of " + std::to_string(length) + " bytes in a file of " +
         std::to_string(file_size) + " bytes");
  if (length > tail.size() - 8)
    fail("the footer is " + std::to_string(length) + " bytes, the tail holds " +
         std::to_string(tail.size() - 8));
  return parse_file_meta({end - 8 - length, length}, file_size);
}

FileMeta read_file_meta(const std::string& path) {
  auto fail = [&](const std::string& what) { throw SourceReadError(path + ": " + what); };
  struct Fd {
    int fd;
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
  } file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  const int fd = file.fd;
  if (fd < 0) fail(std::string("cannot open: ") + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd, &st) != 0) fail(std::string("cannot stat: ") + std::strerror(errno));
  const auto size = static_cast<int64_t>(st.st_size);
  auto read_at = [&](int64_t offset, uint8_t* dst, size_t n) {
    while (n > 0) {
      const ssize_t got = ::pread(fd, dst, n, offset);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail(std::string("read failed: ") + std::strerror(errno));
      if (got == 0) fail("the file ends early (truncated while read?)");
      dst += got;
      n -= static_cast<size_t>(got);
      offset += got;
    }
  };
  try {
    if (size < 12) fail("not a Parquet file: " + std::to_string(size) + " bytes");
    uint8_t last[8];
    read_at(size - 8, last, 8);
    const uint32_t length = static_cast<uint32_t>(last[0]) | static_cast<uint32_t>(last[1]) << 8 |
                            static_cast<uint32_t>(last[2]) << 16 |
                            static_cast<uint32_t>(last[3]) << 24;
    // the length is checked against the file size (by parse_file_tail) before it sizes a buffer
    const int64_t want = std::min<int64_t>(int64_t{length} + 8, size - 4);
    std::vector<uint8_t> tail(static_cast<size_t>(std::max<int64_t>(want, 8)));
    read_at(size - static_cast<int64_t>(tail.size()), tail.data(), tail.size());
    return parse_file_tail(tail, size);
  } catch (const SourceReadError& e) {
    if (std::string_view(e.what()).starts_with(path)) throw;
    throw SourceReadError(path + ": " + e.what());
  }
}

}  // namespace truthound::parquet
