#include "truthound/parquet/reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "truthound/parquet/format.hpp"
#include "truthound/parquet/snappy.hpp"
#include "truthound/util/error.hpp"
#include "truthound/util/load.hpp"

namespace truthound::parquet {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw SourceReadError(what);
}

// A page header is parsed from the next 64 KiB of the chunk; a read brings in at least that
// much, and a page body is read whole once its header is known. So at most 64 KiB are moved to
// the front of the buffer per page.
constexpr size_t kReadAhead = size_t{64} << 10;
constexpr size_t kHeaderWindow = kReadAhead;
// Bytes every page buffer and string output buffer has past its end, so short values are copied
// 16 bytes at a time instead of by a call to memcpy.
constexpr size_t kSlack = 16;

// Copies `n` bytes; reads and writes up to 15 bytes past both ends (each buffer has kSlack).
inline void copy_short(uint8_t* dst, const uint8_t* src, size_t n) {
  if (n > 256) {
    std::memcpy(dst, src, n);
    return;
  }
  for (size_t i = 0; i < n; i += 16) std::memcpy(dst + i, src + i, 16);
}

// A byte buffer that keeps its contents when it grows, 8-byte aligned. New bytes are not
// zeroed: every reader of a buffer writes what it reads first.
class Bytes {
 public:
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words_.get()); }
  size_t capacity() const { return words_capacity_ * sizeof(uint64_t); }
  void reserve(size_t n) {
    if (n <= capacity()) return;
    const size_t words = (std::max(n, capacity() * 2) + 7) / 8;
    auto grown = std::make_unique_for_overwrite<uint64_t[]>(words);
    if (words_capacity_ > 0) std::memcpy(grown.get(), words_.get(), capacity());
    words_ = std::move(grown);
    words_capacity_ = words;
  }
  template <typename T>
  T* as() {
    return reinterpret_cast<T*>(data());
  }

 private:
  std::unique_ptr<uint64_t[]> words_;
  size_t words_capacity_ = 0;
};

// Sets bits [start, start + n) of a bitmap: the partial bytes at either end bit by bit, the
// whole bytes between them at once.
void set_bits(uint8_t* bits, int64_t start, int64_t n) {
  int64_t i = start;
  const int64_t end = start + n;
  for (; i < end && (i & 7) != 0; ++i) bits[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
  const int64_t whole = (end - i) >> 3;
  if (whole > 0) {
    std::memset(bits + (i >> 3), 0xff, static_cast<size_t>(whole));
    i += whole << 3;
  }
  for (; i < end; ++i) bits[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
}

class File {
 public:
  explicit File(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail(path + ": cannot open: " + std::strerror(errno));
    struct stat st{};
    if (::fstat(fd_, &st) != 0) fail(path + ": cannot stat: " + std::strerror(errno));
    size_ = static_cast<int64_t>(st.st_size);
  }
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  int64_t size() const { return size_; }

  void read(int64_t offset, uint8_t* dst, size_t n) const {
    while (n > 0) {
      const ssize_t r = ::pread(fd_, dst, n, offset);
      if (r < 0) {
        if (errno == EINTR) continue;
        fail(std::string("read failed: ") + std::strerror(errno));
      }
      if (r == 0) fail("the file ends inside a column chunk (truncated?)");
      dst += r;
      n -= static_cast<size_t>(r);
      offset += r;
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  int64_t size_ = 0;
};

// The bytes of one column chunk, read from the file a window at a time.
class ChunkBytes {
 public:
  void reset(const File* file, const ColumnChunk& chunk) {
    file_ = file;
    next_ = chunk.offset;
    end_file_ = chunk.offset + chunk.length;
    pos_ = end_ = 0;
  }
  size_t available() const { return end_ - pos_; }
  int64_t left() const { return static_cast<int64_t>(available()) + (end_file_ - next_); }
  std::span<const uint8_t> peek() const { return {buf_.data() + pos_, available()}; }
  void skip(size_t n) { pos_ += n; }
  // Passes over `n` bytes, without reading from the file those not read yet.
  void discard(size_t n) {
    if (static_cast<int64_t>(n) > left()) fail("a page runs past the end of its column chunk");
    const size_t here = std::min(n, available());
    pos_ += here;
    next_ += static_cast<int64_t>(n - here);
  }

  // At least `n` bytes available (the span of peek() is valid until the next ensure).
  void ensure(size_t n) {
    if (available() >= n) return;
    if (static_cast<int64_t>(n) > left()) fail("a page runs past the end of its column chunk");
    if (available() > 0) std::memmove(buf_.data(), buf_.data() + pos_, available());
    end_ = available();
    pos_ = 0;
    const size_t want = std::min<size_t>(std::max(n, kReadAhead), static_cast<size_t>(left()));
    if (buf_.size() < want + kSlack) buf_.resize(want + kSlack);
    const size_t r = std::min<size_t>(want - end_, static_cast<size_t>(end_file_ - next_));
    file_->read(next_, buf_.data() + end_, r);
    next_ += static_cast<int64_t>(r);
    end_ += r;
  }

 private:
  const File* file_ = nullptr;
  int64_t next_ = 0, end_file_ = 0;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0, end_ = 0;
};

enum class Kind { kBool, kFixed4, kFixed8, kBinary32, kBinary64 };

int width_of(Kind k) {
  return k == Kind::kFixed4 ? 4 : 8;
}

// A dictionary page's values. Binary values keep Arrow offsets of the output's width, so a
// dictionary-read column hands them out as they are.
struct Dictionary {
  int64_t size = 0;
  std::vector<uint8_t> fixed;   // size * width bytes
  std::vector<int64_t> starts;  // binary: size + 1 offsets into data
  std::vector<uint8_t> data;
  std::vector<uint8_t> arrow_offsets;  // binary: offsets in the output's width
};

// Buffers of one column of one batch.
struct ColumnOut {
  Bytes validity, values, data;  // values: fixed values, offsets, or dictionary indices
  // dictionary-read columns: values of plain pages met in this batch, appended to the dictionary
  Bytes extra_offsets, extra_data, dict_offsets, dict_data;
  std::shared_ptr<const Dictionary> dictionary;
  const void* buffers[3] = {nullptr, nullptr, nullptr};
  const void* dict_buffers[3] = {nullptr, nullptr, nullptr};
  ArrowArray array{};
  ArrowArray dict_array{};
};

struct Batch {
  std::atomic<bool> in_use{false};
  std::vector<ColumnOut> columns;
  std::vector<ArrowArray*> children;
  const void* buffers[1] = {nullptr};
};

void release_child(ArrowArray* a) {
  a->release = nullptr;
}

void release_batch(ArrowArray* a) {
  for (int64_t i = 0; i < a->n_children; ++i) {
    ArrowArray* c = a->children[i];
    if (c->dictionary != nullptr && c->dictionary->release != nullptr)
      c->dictionary->release(c->dictionary);
    if (c->release != nullptr) c->release(c);
  }
  std::unique_ptr<std::shared_ptr<Batch>> holder(
      static_cast<std::shared_ptr<Batch>*>(a->private_data));
  (*holder)->in_use.store(false, std::memory_order_release);
  a->release = nullptr;
}

struct ColumnSpec {
  Kind kind;
  bool dictionary_out;
};

ColumnSpec spec_of(const ArrowSchema& s, const ColumnRead& c) {
  const std::string where = "column '" + c.name + "'";
  std::string_view f = s.format ? s.format : "";
  bool dict = false;
  if (s.dictionary != nullptr) {
    if (f != "i") throw InvalidArgumentError(where + ": dictionary indices must be int32");
    f = s.dictionary->format ? s.dictionary->format : "";
    dict = true;
  }
  Kind kind;
  PhysicalType want;
  if (f == "b") {
    kind = Kind::kBool, want = PhysicalType::kBoolean;
  } else if (f == "f") {
    kind = Kind::kFixed4, want = PhysicalType::kFloat;
  } else if (f == "g") {
    kind = Kind::kFixed8, want = PhysicalType::kDouble;
  } else if (f == "i" || f == "I" || f == "tdD" || f == "tts" || f == "ttm") {
    kind = Kind::kFixed4, want = PhysicalType::kInt32;
  } else if (f == "l" || f == "L" || f == "ttu" || f == "ttn" || f.starts_with("ts") ||
             f.starts_with("tD")) {
    kind = Kind::kFixed8, want = PhysicalType::kInt64;
  } else if (f == "u" || f == "z") {
    kind = Kind::kBinary32, want = PhysicalType::kByteArray;
  } else if (f == "U" || f == "Z") {
    kind = Kind::kBinary64, want = PhysicalType::kByteArray;
  } else {
    throw InvalidArgumentError(where + ": Arrow type '" + std::string(f) +
                               "' is not read by the Parquet reader");
  }
  if (want != c.physical)
    throw InvalidArgumentError(where + ": Arrow type does not fit its physical type");
  if (dict && kind != Kind::kBinary32 && kind != Kind::kBinary64)
    throw InvalidArgumentError(where + ": only string columns are read dictionary-encoded");
  if (c.max_definition_level < 0 || c.max_definition_level > 1)
    throw InvalidArgumentError(where + ": nested columns are not read by the Parquet reader");
  return {kind, dict};
}

// The decoding state of one column within its current column chunk.
class ColumnReader {
 public:
  ColumnReader(const ColumnRead& read, ColumnSpec spec) : read_(read), spec_(spec) {}

  void start_chunk(const File* file, const ColumnChunk& chunk) {
    if (chunk.codec != Codec::kUncompressed && chunk.codec != Codec::kSnappy)
      fail("compression codec " + std::to_string(static_cast<int>(chunk.codec)) + " not read");
    // Every size below is bounded by the chunk's bytes, so the chunk must lie in the file.
    if (chunk.offset < 0 || chunk.length < 0 || chunk.offset > file->size() ||
        chunk.length > file->size() - chunk.offset)
      fail("the column chunk [" + std::to_string(chunk.offset) + ", +" +
           std::to_string(chunk.length) + ") is not inside the file (" +
           std::to_string(file->size()) + " bytes)");
    if (chunk.num_values < 0) fail("negative value count in the column chunk");
    if (chunk.padding < 0 || chunk.padding > chunk.length) fail("bad column chunk padding");
    bytes_.reset(file, chunk);
    codec_ = chunk.codec;
    dictionary_.reset();
    ahead_.reset();
    rows_wanted_ = INT64_MAX;
    remaining_ = 0;
    chunk_values_left_ = chunk.num_values;
    padding_ = chunk.padding;
  }

  // Fills `out` with the next `n` slots of the column.
  void fill(ColumnOut& out, int64_t n) {
    out.extra_offsets.reserve(8);
    extra_count_ = 0;
    extra_bytes_ = 0;
    out.extra_offsets.as<int64_t>()[0] = 0;
    const bool nullable = read_.max_definition_level > 0;
    if (nullable) {
      out.validity.reserve(static_cast<size_t>((n + 7) / 8));
      std::memset(out.validity.data(), 0, static_cast<size_t>((n + 7) / 8));
    }
    prepare_values(out, n);
    int64_t valid_total = 0;
    for (int64_t p = 0; p < n;) {
      if (remaining_ == 0 && !next_page(nullptr, rows_wanted_ - p))
        fail("the column chunk has fewer values than the row group's rows");
      const int64_t k = std::min(n - p, remaining_);
      const uint8_t* lv = nullptr;
      int64_t valid = k;
      if (nullable) {
        // levels are decoded a batch's worth at a time: a page's count, bounded by the row
        // group's rows from the footer, does not size a buffer
        if (levels_.size() < static_cast<size_t>(k)) levels_.resize(static_cast<size_t>(k));
        if (levels_dec_->decode(std::span<uint8_t>(levels_.data(), static_cast<size_t>(k))) !=
            static_cast<size_t>(k))
          fail("fewer definition levels than values in a page");
        lv = levels_.data();
        valid = 0;
        for (int64_t i = 0; i < k; ++i) valid += lv[i];
        if (valid == k) {
          set_bits(out.validity.data(), p, k);
          lv = nullptr;
        } else {
          for (int64_t i = 0; i < k; ++i)
            if (lv[i])
              out.validity.data()[(p + i) >> 3] |= static_cast<uint8_t>(1u << ((p + i) & 7));
        }
      }
      decode(out, p, k, lv, valid);
      valid_total += valid;
      remaining_ -= k;
      p += k;
    }
    finish(out, n, n - valid_total);
    if (rows_wanted_ != INT64_MAX) rows_wanted_ -= n;
  }

  // The reader stops after the next `n` rows of this chunk (a row range that ends before it).
  void want_rows(int64_t n) { rows_wanted_ = n; }

  // After the row group's last row: true unless a page holding values is left (pages of no
  // values, and index pages, may follow the last value).
  bool chunk_done() { return remaining_ == 0 && !next_page(); }

  // Passes over the chunk's first `n` rows: whole pages by their headers, then the rows of the
  // page where row n falls, decoded into `scratch` and dropped.
  void skip_rows(int64_t n, ColumnOut& scratch) {
    if (n > 0 && remaining_ == 0 && !next_page(&n) && n > 0)
      fail("the column chunk has fewer values than the row group's rows");
    if (n > 0) fill(scratch, n);
  }

 private:
  // --------------------------------------------------------------------------- pages

  std::span<const uint8_t> decompress(std::span<const uint8_t> body, int64_t size,
                                      bool compressed) {
    if (codec_ == Codec::kUncompressed || !compressed) {
      if (static_cast<int64_t>(body.size()) != size) fail("page size does not match its header");
      return body;
    }
    if (snappy_uncompressed_length(body) != static_cast<size_t>(size))
      fail("page size does not match its header");
    check_expansion(body.size(), size);
    page_.resize(std::max<size_t>(page_.size(), static_cast<size_t>(size) + kSlack));
    snappy_decompress(body, {page_.data(), static_cast<size_t>(size)});
    return {page_.data(), static_cast<size_t>(size)};
  }

  // A snappy element expands at most 64 / 3 times (a 3-byte copy of 64 bytes): a page that
  // claims more than that of its compressed bytes is refused before its buffer is sized.
  static void check_expansion(size_t compressed, int64_t size) {
    if (static_cast<uint64_t>(size) > uint64_t{22} * compressed + 32)
      fail("a snappy page of " + std::to_string(compressed) + " bytes claims " +
           std::to_string(size) + " bytes decompressed, more than snappy can expand to");
  }

  // With the bytes of data page `h1` next in the chunk and another snappy data page v1 right
  // after it, decompresses both at once (snappy_decompress2) into page_ and ahead_page_, passes
  // over both and keeps the second's header in ahead_. False, with nothing consumed, when the
  // pages do not qualify; the usual path then reads them one by one (and reports any error).
  bool decompress_pair(const PageHeader& h1) {
    if (codec_ != Codec::kSnappy || h1.num_values >= chunk_values_left_) return false;
    const auto c1 = static_cast<size_t>(h1.compressed_size);
    const int64_t after = bytes_.left() - static_cast<int64_t>(c1);
    if (after <= 0) return false;
    bytes_.ensure(c1 + static_cast<size_t>(std::min<int64_t>(after, kHeaderWindow)));
    PageHeader h2;
    try {
      h2 = read_page_header(bytes_.peek().subspan(c1));
    } catch (const SourceReadError&) {
      return false;  // a header with large statistics, or a bad one: read on its own
    }
    if (h2.type != PageType::kDataPage || h2.compressed_size < 0 || h2.uncompressed_size < 0)
      return false;
    const size_t total = c1 + h2.header_size + static_cast<size_t>(h2.compressed_size);
    if (static_cast<int64_t>(total) > bytes_.left()) return false;
    bytes_.ensure(total);
    const auto body1 = bytes_.peek().first(c1);
    const auto body2 = bytes_.peek().subspan(c1 + h2.header_size, total - c1 - h2.header_size);
    const auto n1 = static_cast<size_t>(h1.uncompressed_size);
    const auto n2 = static_cast<size_t>(h2.uncompressed_size);
    if (snappy_uncompressed_length(body1) != n1 || snappy_uncompressed_length(body2) != n2 ||
        n1 > 22 * body1.size() + 32 || n2 > 22 * body2.size() + 32)
      return false;
    page_.resize(std::max(page_.size(), n1 + kSlack));
    ahead_page_.resize(std::max(ahead_page_.size(), n2 + kSlack));
    snappy_decompress2(body1, {page_.data(), n1}, body2, {ahead_page_.data(), n2});
    bytes_.skip(total);
    ahead_ = h2;
    return true;
  }

  PageHeader read_header() {
    bytes_.ensure(static_cast<size_t>(std::min<int64_t>(bytes_.left(), kHeaderWindow)));
    try {
      return read_page_header(bytes_.peek());
    } catch (const SourceReadError&) {
      if (static_cast<int64_t>(bytes_.available()) >= bytes_.left()) throw;
    }
    // a header with large statistics: up to 16 MiB of it
    bytes_.ensure(static_cast<size_t>(std::min<int64_t>(bytes_.left(), int64_t{16} << 20)));
    return read_page_header(bytes_.peek());
  }

  // Moves to the next page holding values; false at the end of the chunk.
  // Moves to the next page holding values; false at the end of the chunk. With `skip`, data
  // pages that hold no more than *skip rows are passed over by their headers alone (not
  // decompressed), and *skip goes down by their rows.
  // `wanted`: rows of the column still to be read before the reader stops in this chunk; the
  // page after one that holds them all is not decompressed ahead.
  bool next_page(int64_t* skip = nullptr, int64_t wanted = INT64_MAX) {
    for (;;) {
      if (ahead_) {  // decompressed with the page before it
        const PageHeader h = *ahead_;
        ahead_.reset();
        page_.swap(ahead_page_);
        start_page_v1(h, {page_.data(), static_cast<size_t>(h.uncompressed_size)});
        if (remaining_ > 0) return true;
        continue;
      }
      // A padded chunk (ColumnChunk::padding) ends with its last value, as Arrow's page reader
      // ends every chunk: the padding may reach into the next chunk.
      if (bytes_.left() == 0 || (chunk_values_left_ == 0 && bytes_.left() <= padding_))
        return false;
      const PageHeader h = read_header();
      if (h.compressed_size < 0 || h.uncompressed_size < 0) fail("negative page size");
      bytes_.skip(h.header_size);
      const bool data = h.type == PageType::kDataPage || h.type == PageType::kDataPageV2;
      if (skip != nullptr && data && h.num_values >= 0 && h.num_values <= *skip) {
        take_values(h.num_values);  // a flat column: one value (or null) per row
        *skip -= h.num_values;
        bytes_.discard(static_cast<size_t>(h.compressed_size));
        continue;
      }
      if (skip == nullptr && h.type == PageType::kDataPage && h.num_values < wanted &&
          decompress_pair(h)) {
        start_page_v1(h, {page_.data(), static_cast<size_t>(h.uncompressed_size)});
        if (remaining_ > 0) return true;
        continue;
      }
      bytes_.ensure(static_cast<size_t>(h.compressed_size));
      const std::span<const uint8_t> body =
          bytes_.peek().first(static_cast<size_t>(h.compressed_size));
      bytes_.skip(static_cast<size_t>(h.compressed_size));
      switch (h.type) {
        case PageType::kDictionaryPage:
          // a second dictionary would relabel every index read after it (Arrow refuses it too)
          if (dictionary_) fail("a column chunk with more than one dictionary page");
          read_dictionary(h, decompress(body, h.uncompressed_size, true));
          continue;
        case PageType::kDataPage:
          start_page_v1(h, decompress(body, h.uncompressed_size, true));
          break;
        case PageType::kDataPageV2:
          start_page_v2(h, body);
          break;
        default:
          continue;  // index pages
      }
      if (remaining_ > 0) return true;
    }
  }

  void read_dictionary(const PageHeader& h, std::span<const uint8_t> v) {
    if (h.encoding != Encoding::kPlain && h.encoding != Encoding::kPlainDictionary)
      fail("dictionary page encoding " + std::to_string(static_cast<int>(h.encoding)) +
           " not read");
    if (h.num_values < 0) fail("negative dictionary size");
    auto d = std::make_shared<Dictionary>();
    d->size = h.num_values;
    const auto n = static_cast<size_t>(h.num_values);
    if (spec_.kind == Kind::kFixed4 || spec_.kind == Kind::kFixed8) {
      const size_t w = static_cast<size_t>(width_of(spec_.kind));
      if (v.size() < n * w) fail("dictionary page shorter than its values");
      d->fixed.assign(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n * w));
    } else if (spec_.kind == Kind::kBool) {
      fail("a boolean column with a dictionary page");
    } else {
      if (n > v.size() / 4) fail("dictionary page shorter than its values");  // 4-byte lengths
      d->starts.resize(n + 1);
      d->data.reserve(v.size());
      size_t pos = 0;
      for (size_t i = 0; i < n; ++i) {
        if (v.size() - pos < 4) fail("dictionary page shorter than its values");
        const uint32_t len = load_le<uint32_t>(v.data() + pos);
        pos += 4;
        if (v.size() - pos < len) fail("dictionary page shorter than its values");
        d->starts[i] = static_cast<int64_t>(d->data.size());
        d->data.insert(d->data.end(), v.begin() + static_cast<std::ptrdiff_t>(pos),
                       v.begin() + static_cast<std::ptrdiff_t>(pos + len));
        pos += len;
      }
      d->starts[n] = static_cast<int64_t>(d->data.size());
      if (spec_.dictionary_out) {
        if (spec_.kind == Kind::kBinary32) {
          if (d->data.size() > INT32_MAX) fail("dictionary larger than 2 GiB in a string column");
          d->arrow_offsets.resize((n + 1) * 4);
          auto* o = reinterpret_cast<int32_t*>(d->arrow_offsets.data());
          for (size_t i = 0; i <= n; ++i) o[i] = static_cast<int32_t>(d->starts[i]);
        } else {
          d->arrow_offsets.resize((n + 1) * 8);
          std::memcpy(d->arrow_offsets.data(), d->starts.data(), (n + 1) * 8);
        }
      }
    }
    dictionary_ = std::move(d);
  }

  void start_levels(std::span<const uint8_t> levels) { levels_dec_.emplace(levels, 1); }

  // Counts a page's values against the chunk's, before anything is sized by them.
  void take_values(int64_t num_values) {
    if (num_values < 0) fail("negative value count in a page header");
    if (num_values > chunk_values_left_)
      fail("the column chunk has more values than the row group's rows");
    chunk_values_left_ -= num_values;
  }

  void start_page_v1(const PageHeader& h, std::span<const uint8_t> page) {
    take_values(h.num_values);
    if (read_.max_definition_level > 0) {
      if (h.definition_level_encoding != Encoding::kRle)
        fail("definition level encoding " +
             std::to_string(static_cast<int>(h.definition_level_encoding)) + " not read");
      size_t used = 0;
      const auto levels = length_prefixed(page, used);
      start_levels(levels);
      page = page.subspan(used);
    }
    start_values(h.encoding, page);
    remaining_ = h.num_values;
  }

  void start_page_v2(const PageHeader& h, std::span<const uint8_t> body) {
    if (h.num_values < 0 || h.definition_levels_byte_length < 0 ||
        h.repetition_levels_byte_length != 0)
      fail("bad level lengths in a data page v2 header");
    take_values(h.num_values);
    const auto def = static_cast<size_t>(h.definition_levels_byte_length);
    if (def > body.size()) fail("data page v2 levels run past the page");
    if (read_.max_definition_level > 0) start_levels(body.first(def));
    const int64_t values_size =
        static_cast<int64_t>(h.uncompressed_size) - static_cast<int64_t>(def);
    if (values_size < 0) fail("data page v2 levels longer than the page");
    // A values section of no bytes is empty, compressed or not (parquet-mr writes such pages
    // for all-null pages; Arrow reads them)
    const auto section = body.subspan(def);
    start_values(h.encoding,
                 section.empty() ? section : decompress(section, values_size, h.is_compressed));
    remaining_ = h.num_values;
  }

  void start_values(Encoding e, std::span<const uint8_t> v) {
    encoding_ = e;
    values_ = v;
    vpos_ = 0;
    bit_ = 0;
    if (e == Encoding::kPlainDictionary || e == Encoding::kRleDictionary) {
      if (!dictionary_) fail("a dictionary-encoded page without a dictionary page");
      if (v.empty()) fail("empty dictionary-encoded page");
      const int width = v[0];
      if (width > 32) fail("dictionary index bit width " + std::to_string(width));
      indices_.emplace(v.subspan(1), width);
    } else if (e == Encoding::kRle) {
      if (spec_.kind != Kind::kBool) fail("RLE-encoded values in a non-boolean column");
      size_t used = 0;
      indices_.emplace(length_prefixed(v, used), 1);
    } else if (e != Encoding::kPlain) {
      fail("value encoding " + std::to_string(static_cast<int>(e)) + " not read");
    }
  }

  // --------------------------------------------------------------------------- values

  void prepare_values(ColumnOut& out, int64_t n) {
    const auto un = static_cast<size_t>(n);
    switch (spec_.kind) {
      case Kind::kBool:
        out.values.reserve((un + 7) / 8);
        std::memset(out.values.data(), 0, (un + 7) / 8);
        break;
      case Kind::kFixed4:
      case Kind::kFixed8:
        out.values.reserve(un * static_cast<size_t>(width_of(spec_.kind)));
        break;
      case Kind::kBinary32:
      case Kind::kBinary64:
        if (spec_.dictionary_out) {
          out.values.reserve(un * 4);
        } else {
          out.values.reserve((un + 1) * (spec_.kind == Kind::kBinary32 ? 4 : 8));
          data_len_ = 0;
        }
        break;
    }
  }

  const uint32_t* read_indices(int64_t count, uint32_t bound) {
    idx_.resize(static_cast<size_t>(count));
    if (indices_->decode(std::span<uint32_t>(idx_.data(), idx_.size())) != idx_.size())
      fail("fewer dictionary indices than values in a page");
    uint32_t top = 0;
    for (uint32_t i : idx_) top = std::max(top, i);
    if (count > 0 && top >= bound) fail("dictionary index out of range");
    return idx_.data();
  }

  void decode(ColumnOut& out, int64_t p, int64_t k, const uint8_t* lv, int64_t valid) {
    const bool dict =
        encoding_ == Encoding::kPlainDictionary || encoding_ == Encoding::kRleDictionary;
    switch (spec_.kind) {
      case Kind::kBool:
        return decode_bool(out, p, k, lv, valid);
      case Kind::kFixed4:
      case Kind::kFixed8:
        return dict ? decode_fixed_dict(out, p, k, lv, valid)
                    : decode_fixed_plain(out, p, k, lv, valid);
      case Kind::kBinary32:
        if (spec_.dictionary_out) return decode_dict_out(out, p, k, lv, valid, dict);
        return decode_binary<int32_t>(out, p, k, lv, valid, dict);
      case Kind::kBinary64:
        if (spec_.dictionary_out) return decode_dict_out(out, p, k, lv, valid, dict);
        return decode_binary<int64_t>(out, p, k, lv, valid, dict);
    }
  }

  void decode_bool(ColumnOut& out, int64_t p, int64_t k, const uint8_t* lv, int64_t valid) {
    uint8_t* bits = out.values.data();
    if (encoding_ == Encoding::kRle) {
      const uint32_t* v = read_indices(valid, 2);
      for (int64_t i = 0, j = 0; i < k; ++i) {
        if (lv && !lv[i]) continue;
        if (v[j++]) bits[(p + i) >> 3] |= static_cast<uint8_t>(1u << ((p + i) & 7));
      }
      return;
    }
    if (encoding_ != Encoding::kPlain) fail("dictionary-encoded booleans");
    if ((bit_ + static_cast<uint64_t>(valid) + 7) / 8 > values_.size())
      fail("page shorter than its boolean values");
    for (int64_t i = 0; i < k; ++i) {
      if (lv && !lv[i]) continue;
      if ((values_[bit_ >> 3] >> (bit_ & 7)) & 1)
        bits[(p + i) >> 3] |= static_cast<uint8_t>(1u << ((p + i) & 7));
      ++bit_;
    }
  }

  void decode_fixed_plain(ColumnOut& out, int64_t p, int64_t k, const uint8_t* lv, int64_t valid) {
    const auto w = static_cast<size_t>(width_of(spec_.kind));
    const size_t need = static_cast<size_t>(valid) * w;
    if (values_.size() - vpos_ < need) fail("page shorter than its values");
    uint8_t* dst = out.values.data() + static_cast<size_t>(p) * w;
    const uint8_t* src = values_.data() + vpos_;
    if (lv == nullptr) {
      std::memcpy(dst, src, need);
    } else {
      for (int64_t i = 0; i < k; ++i, dst += w) {
        if (lv[i]) {
          std::memcpy(dst, src, w);
          src += w;
        } else {
          std::memset(dst, 0, w);
        }
      }
    }
    vpos_ += need;
  }

  void decode_fixed_dict(ColumnOut& out, int64_t p, int64_t k, const uint8_t* lv, int64_t valid) {
    const uint32_t* idx = read_indices(
        valid, static_cast<uint32_t>(std::min<int64_t>(dictionary_->size, UINT32_MAX)));
    if (spec_.kind == Kind::kFixed4) {
      gather<uint32_t>(out, p, k, lv, idx);
    } else {
      gather<uint64_t>(out, p, k, lv, idx);
    }
  }

  template <typename T>
  void gather(ColumnOut& out, int64_t p, int64_t k, const uint8_t* lv, const uint32_t* idx) {
    const auto* dict = reinterpret_cast<const T*>(dictionary_->fixed.data());
    T* dst = out.values.as<T>() + p;
    if (lv == nullptr) {
      for (int64_t i = 0; i < k; ++i) std::memcpy(dst + i, dict + idx[i], sizeof(T));
    } else {
      for (int64_t i = 0, j = 0; i < k; ++i) {
        if (lv[i]) {
          std::memcpy(dst + i, dict + idx[j++], sizeof(T));
        } else {
          dst[i] = 0;
        }
      }
    }
  }

  template <typename O>
  void decode_binary(ColumnOut& out, int64_t p, int64_t k, const uint8_t* lv, int64_t valid,
                     bool dict) {
    O* offsets = out.values.as<O>();
    if (p == 0) offsets[0] = 0;
    if (dict) {
      const uint32_t* idx = read_indices(
          valid, static_cast<uint32_t>(std::min<int64_t>(dictionary_->size, UINT32_MAX)));
      const int64_t* starts = dictionary_->starts.data();
      size_t total = 0;
      for (int64_t j = 0; j < valid; ++j)
        total += static_cast<size_t>(starts[idx[j] + 1] - starts[idx[j]]);
      reserve_data<O>(out, total);
      uint8_t* data = out.data.data();
      const uint8_t* src = dictionary_->data.data();
      for (int64_t i = 0, j = 0; i < k; ++i) {
        if (lv == nullptr || lv[i]) {
          const uint32_t e = idx[j++];
          const auto len = static_cast<size_t>(starts[e + 1] - starts[e]);
          std::memcpy(data + data_len_, src + starts[e], len);
          data_len_ += len;
        }
        offsets[p + i + 1] = static_cast<O>(data_len_);
      }
      return;
    }
    // plain: the page's remaining bytes bound the string bytes
    const size_t avail = values_.size() - vpos_;
    reserve_data<O>(out, avail);
    uint8_t* data = out.data.data();
    const uint8_t* v = values_.data();
    size_t pos = vpos_;
    const size_t end = values_.size();
    for (int64_t i = 0; i < k; ++i) {
      if (lv == nullptr || lv[i]) {
        if (end - pos < 4) fail("page shorter than its values");
        const uint32_t len = load_le<uint32_t>(v + pos);
        pos += 4;
        if (end - pos < len) fail("page shorter than its values");
        copy_short(data + data_len_, v + pos, len);
        data_len_ += len;
        pos += len;
      }
      offsets[p + i + 1] = static_cast<O>(data_len_);
    }
    vpos_ = pos;
  }

  template <typename O>
  void reserve_data(ColumnOut& out, size_t more) {
    if (std::is_same_v<O, int32_t> && data_len_ + more > static_cast<size_t>(INT32_MAX))
      fail("more than 2 GiB of strings in one batch of a string column (read it as large_string)");
    out.data.reserve(data_len_ + more + kSlack);
  }

  // A dictionary-read string column: indices into the row group's dictionary; values of plain
  // pages are appended to this batch's copy of the dictionary.
  void decode_dict_out(ColumnOut& out, int64_t p, int64_t k, const uint8_t* lv, int64_t valid,
                       bool dict) {
    int32_t* dst = out.values.as<int32_t>() + p;
    const int64_t dict_size = dictionary_ ? dictionary_->size : 0;
    if (dict) {
      const uint32_t* idx =
          read_indices(valid, static_cast<uint32_t>(std::min<int64_t>(dict_size, INT32_MAX)));
      for (int64_t i = 0, j = 0; i < k; ++i)
        dst[i] = (lv == nullptr || lv[i]) ? static_cast<int32_t>(idx[j++]) : 0;
      return;
    }
    const size_t end = values_.size();
    size_t pos = vpos_;
    out.extra_offsets.reserve(static_cast<size_t>(extra_count_ + k + 1) * 8);
    out.extra_data.reserve(extra_bytes_ + (end - pos) + 8);
    for (int64_t i = 0; i < k; ++i) {
      if (lv != nullptr && !lv[i]) {
        dst[i] = 0;
        continue;
      }
      if (end - pos < 4) fail("page shorter than its values");
      const uint32_t len = load_le<uint32_t>(values_.data() + pos);
      pos += 4;
      if (end - pos < len) fail("page shorter than its values");
      std::memcpy(out.extra_data.data() + extra_bytes_, values_.data() + pos, len);
      pos += len;
      extra_bytes_ += len;
      if (dict_size + extra_count_ >= INT32_MAX) fail("dictionary too large");
      dst[i] = static_cast<int32_t>(dict_size + extra_count_);
      out.extra_offsets.as<int64_t>()[++extra_count_] = static_cast<int64_t>(extra_bytes_);
    }
    vpos_ = pos;
  }

  // --------------------------------------------------------------------------- export

  void finish(ColumnOut& out, int64_t n, int64_t nulls) {
    out.dictionary = dictionary_;  // read by the batch's first page, if it starts the chunk
    ArrowArray& a = out.array;
    a = ArrowArray{};
    a.length = n;
    a.null_count = nulls;
    a.release = release_child;
    out.buffers[0] = nulls > 0 ? out.validity.data() : nullptr;
    a.buffers = out.buffers;
    switch (spec_.kind) {
      case Kind::kBool:
      case Kind::kFixed4:
      case Kind::kFixed8:
        a.n_buffers = 2;
        out.buffers[1] = out.values.data();
        return;
      case Kind::kBinary32:
      case Kind::kBinary64:
        break;
    }
    if (!spec_.dictionary_out) {
      a.n_buffers = 3;
      if (n == 0) {
        if (spec_.kind == Kind::kBinary32)
          out.values.as<int32_t>()[0] = 0;
        else
          out.values.as<int64_t>()[0] = 0;
      }
      out.data.reserve(8);
      out.buffers[1] = out.values.data();
      out.buffers[2] = out.data.data();
      return;
    }
    a.n_buffers = 2;
    out.buffers[1] = out.values.data();
    export_dictionary(out);
    a.dictionary = &out.dict_array;
  }

  void export_dictionary(ColumnOut& out) {
    static const Dictionary kEmpty{0, {}, {0}, {}, std::vector<uint8_t>(8, 0)};
    const Dictionary& d = out.dictionary ? *out.dictionary : kEmpty;
    const bool wide = spec_.kind == Kind::kBinary64;
    const size_t ow = wide ? 8 : 4;
    ArrowArray& da = out.dict_array;
    da = ArrowArray{};
    da.length = d.size + extra_count_;
    da.n_buffers = 3;
    da.release = release_child;
    da.buffers = out.dict_buffers;
    if (extra_count_ == 0 && !d.arrow_offsets.empty()) {
      out.dict_buffers[1] = d.arrow_offsets.data();
      out.dict_buffers[2] = d.data.empty() ? d.arrow_offsets.data() : d.data.data();
      return;
    }
    // the dictionary plus this batch's plain values, copied
    const auto total = static_cast<size_t>(d.size + extra_count_);
    const size_t bytes = d.data.size() + extra_bytes_;
    if (!wide && bytes > static_cast<size_t>(INT32_MAX)) fail("dictionary larger than 2 GiB");
    out.dict_offsets.reserve((total + 1) * ow);
    out.dict_data.reserve(bytes + 8);
    if (!d.data.empty()) std::memcpy(out.dict_data.data(), d.data.data(), d.data.size());
    if (extra_bytes_ > 0)
      std::memcpy(out.dict_data.data() + d.data.size(), out.extra_data.data(), extra_bytes_);
    const int64_t* extra = out.extra_offsets.as<int64_t>();
    const auto base = static_cast<int64_t>(d.data.size());
    for (size_t i = 0; i <= total; ++i) {
      const int64_t o = i <= static_cast<size_t>(d.size)
                            ? (d.starts.empty() ? 0 : d.starts[i])
                            : base + extra[i - static_cast<size_t>(d.size)];
      if (wide)
        out.dict_offsets.as<int64_t>()[i] = o;
      else
        out.dict_offsets.as<int32_t>()[i] = static_cast<int32_t>(o);
    }
    out.dict_buffers[1] = out.dict_offsets.data();
    out.dict_buffers[2] = out.dict_data.data();
  }

  const ColumnRead& read_;
  ColumnSpec spec_;
  ChunkBytes bytes_;
  Codec codec_ = Codec::kUncompressed;
  std::shared_ptr<const Dictionary> dictionary_;
  std::vector<uint8_t> page_;        // the decompressed page
  std::optional<PageHeader> ahead_;  // the next page, decompressed into ahead_page_ with page_
  int64_t rows_wanted_ = INT64_MAX;  // see want_rows
  std::vector<uint8_t> ahead_page_;
  std::optional<RleBitPackedDecoder> levels_dec_;  // the page's definition levels
  std::vector<uint8_t> levels_;                    // those of the slots being filled
  int64_t remaining_ = 0;                          // slots left in the page
  int64_t chunk_values_left_ = 0;  // values of the chunk not yet met in a page header
  int64_t padding_ = 0;            // see ColumnChunk::padding
  Encoding encoding_ = Encoding::kPlain;
  std::span<const uint8_t> values_;
  size_t vpos_ = 0;   // next byte of plain values
  uint64_t bit_ = 0;  // next bit of plain booleans
  std::optional<RleBitPackedDecoder> indices_;
  std::vector<uint32_t> idx_;
  size_t data_len_ = 0;  // string bytes written in the current batch
  int64_t extra_count_ = 0;
  size_t extra_bytes_ = 0;
};

}  // namespace

struct BatchReader::Impl {
  ReadPlan plan;
  File file;
  std::vector<ColumnReader> columns;
  std::vector<std::shared_ptr<Batch>> pool;
  size_t group = 0;        // current row group
  int64_t group_left = 0;  // its rows not yet read
  bool started = false;
  int64_t rows_read = 0;
  ColumnOut skipped;  // rows passed over at the start of a row range

  Impl(ReadPlan p, const ArrowSchema& schema) : plan(std::move(p)), file(plan.path) {
    if (schema.n_children != static_cast<int64_t>(plan.columns.size()))
      throw InvalidArgumentError("Parquet reader: the schema has " +
                                 std::to_string(schema.n_children) + " columns, the plan " +
                                 std::to_string(plan.columns.size()));
    if (!plan.row_ranges.empty()) {
      if (plan.row_ranges.size() != plan.row_group_rows.size())
        throw InvalidArgumentError("Parquet reader: one row range per row group, or none");
      for (size_t g = 0; g < plan.row_ranges.size(); ++g) {
        const auto [first, count] = plan.row_ranges[g];
        if (first < 0 || count < 0 || first > plan.row_group_rows[g] - count)
          throw InvalidArgumentError("Parquet reader: row range [" + std::to_string(first) + ", +" +
                                     std::to_string(count) + ") outside row group " +
                                     std::to_string(g) + " of " +
                                     std::to_string(plan.row_group_rows[g]) + " rows");
      }
    }
    if (plan.batch_rows <= 0)
      throw InvalidArgumentError("Parquet reader: batch_rows must be positive");
    columns.reserve(plan.columns.size());
    for (size_t i = 0; i < plan.columns.size(); ++i) {
      const ColumnRead& c = plan.columns[i];
      if (c.chunks.size() != plan.row_group_rows.size())
        throw InvalidArgumentError("Parquet reader: column '" + c.name + "' has " +
                                   std::to_string(c.chunks.size()) + " chunks for " +
                                   std::to_string(plan.row_group_rows.size()) + " row groups");
      for (size_t g = 0; g < c.chunks.size(); ++g) {
        // the plan's counts come from the file's footer: a disagreement is the file's fault
        if (plan.row_group_rows[g] < 0)
          throw SourceReadError(plan.path + ": row group " + std::to_string(g) +
                                " has a negative row count (" +
                                std::to_string(plan.row_group_rows[g]) + ")");
        if (c.chunks[g].num_values != plan.row_group_rows[g])
          throw SourceReadError(plan.path + ": column '" + c.name + "', row group " +
                                std::to_string(g) + ": " + std::to_string(c.chunks[g].num_values) +
                                " values for " + std::to_string(plan.row_group_rows[g]) +
                                " rows (a nested column, or a corrupt footer)");
      }
      columns.emplace_back(c, spec_of(*schema.children[i], c));
    }
  }

  std::string where(size_t column) const {
    return plan.path + ": column '" + plan.columns[column].name + "'";
  }

  std::pair<int64_t, int64_t> range_of(size_t g) const {
    if (plan.row_ranges.empty()) return {0, plan.row_group_rows[g]};
    return plan.row_ranges[g];
  }

  std::shared_ptr<Batch> free_batch() {
    for (auto& b : pool) {
      if (!b->in_use.load(std::memory_order_acquire)) return b;
    }
    auto b = std::make_shared<Batch>();
    b->columns.resize(columns.size());
    b->children.resize(columns.size());
    for (size_t i = 0; i < columns.size(); ++i) b->children[i] = &b->columns[i].array;
    pool.push_back(b);
    return b;
  }

  bool next(ArrowArray* out) {
    while (group_left == 0) {
      if (started) ++group;
      if (group >= plan.row_group_rows.size()) return false;
      started = true;
      const auto [first, count] = range_of(group);
      group_left = count;
      if (count == 0) continue;
      for (size_t i = 0; i < columns.size(); ++i) {
        try {
          columns[i].start_chunk(&file, plan.columns[i].chunks[group]);
          columns[i].skip_rows(first, skipped);
          if (first + count < plan.row_group_rows[group]) columns[i].want_rows(count);
        } catch (const SourceReadError& e) {
          throw SourceReadError(where(i) + ", row group " + std::to_string(group) + ": " +
                                e.what());
        }
      }
    }
    const int64_t n = std::min(group_left, plan.batch_rows);
    std::shared_ptr<Batch> batch = free_batch();
    for (size_t i = 0; i < columns.size(); ++i) {
      try {
        columns[i].fill(batch->columns[i], n);
      } catch (const SourceReadError& e) {
        throw SourceReadError(where(i) + ", row group " + std::to_string(group) + ": " + e.what());
      }
    }
    group_left -= n;
    rows_read += n;
    const auto [first, count] = range_of(group);
    if (group_left == 0 && first + count == plan.row_group_rows[group]) {
      for (size_t i = 0; i < columns.size(); ++i) {
        bool done;
        try {
          done = columns[i].chunk_done();
        } catch (const SourceReadError& e) {
          throw SourceReadError(where(i) + ", row group " + std::to_string(group) + ": " +
                                e.what());
        }
        if (!done)
          throw SourceReadError(where(i) + ", row group " + std::to_string(group) +
                                ": the column chunk has more values than the row group's rows");
      }
    }
    *out = ArrowArray{};
    out->length = n;
    out->n_buffers = 1;
    out->buffers = batch->buffers;
    out->n_children = static_cast<int64_t>(columns.size());
    out->children = batch->children.data();
    out->release = release_batch;
    batch->in_use.store(true, std::memory_order_relaxed);
    out->private_data = std::make_unique<std::shared_ptr<Batch>>(std::move(batch)).release();
    return true;
  }
};

BatchReader::BatchReader(ReadPlan plan, const ArrowSchema& schema)
    : impl_(std::make_unique<Impl>(std::move(plan), schema)) {}

BatchReader::~BatchReader() = default;

bool BatchReader::next(ArrowArray* out) {
  return impl_->next(out);
}

int64_t BatchReader::rows_read() const {
  return impl_->rows_read;
}

}  // namespace truthound::parquet
