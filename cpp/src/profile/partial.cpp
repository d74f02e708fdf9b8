#include "truthound/profile/partial.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>
#include <string_view>

#include "truthound/arrow/bitmap.hpp"
#include "truthound/arrow/stream.hpp"
#include "truthound/util/error.hpp"
#include "truthound/util/hash.hpp"
#include "truthound/util/json.hpp"
#include "truthound/util/temporal.hpp"

namespace truthound {

namespace {

// A dictionary array of a column's own value type (utf8 values in a large_utf8 column too, as
// pyarrow reads large strings with read_dictionary) is an encoding of the column, not a type
// change: it is consumed into the column as it is.
bool encodes_values_of(const DataType& batch, const DataType& column) {
  if (batch.id != TypeId::kDictionary || batch.children.empty()) return false;
  const DataType& v = batch.children[0].type;
  return v == column || (v.id == TypeId::kUtf8 && column.id == TypeId::kLargeUtf8) ||
         (v.id == TypeId::kBinary && column.id == TypeId::kLargeBinary);
}

constexpr char kMagic[4] = {'T', 'H', 'P', 'P'};
constexpr int kMaxNesting = 64;

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out.empty() ? "(unnamed source)" : out;
}

}  // namespace

PartialProfile::PartialProfile(ProfileOptions options)
    : options_(options), duplicates_(options.duplicate_exact_limit) {
  options_.validate();
}

std::vector<std::string> PartialProfile::column_names() const {
  std::vector<std::string> out;
  out.reserve(columns_.size());
  for (const auto& c : columns_) out.push_back(c.name());
  return out;
}

void PartialProfile::add_source(std::string source) {
  if (std::find(sources_.begin(), sources_.end(), source) == sources_.end()) {
    sources_.push_back(std::move(source));
  }
}

void PartialProfile::add_null_rows(ColumnState& c, uint64_t n) {
  c.add_null_rows(n);
}

// Bytes of frequent-items table slots a profile's columns may take together at a low load: a
// table of 12 columns keeps the fast 1/8 load up to 65,536 slots (1 MiB), one of 1,000 columns
// fills tables to 1/2 from 16,384 slots on, so a column of 10,000 distinct values takes 512 KiB
// instead of 1 MiB (10,000 x 10,000 table, 2 workers: peak RSS measured in the issue note).
constexpr size_t kTopValueTableBudget = size_t{256} << 20;
constexpr size_t kMinDenseSlots = 1024;

void PartialProfile::fit_tables() {
  const size_t per_column = kTopValueTableBudget / 16 / std::max<size_t>(1, columns_.size());
  const size_t slots = std::clamp(std::bit_floor(std::max<size_t>(1, per_column)), kMinDenseSlots,
                                  FrequentItems::kDenseSlots);
  if (slots == dense_slots_) return;
  dense_slots_ = slots;
  for (auto& c : columns_) c.set_dense_slots(slots);
}

ColumnState& PartialProfile::column_for(const std::string& name, const DataType& type) {
  auto it = index_.find(name);
  if (it != index_.end()) return columns_[it->second];
  index_.emplace(name, columns_.size());
  columns_.emplace_back(name, type, options_);
  columns_.back().set_dense_slots(dense_slots_);
  add_null_rows(columns_.back(), rows_);  // rows seen before the column appeared
  fit_tables();
  return columns_.back();
}

void PartialProfile::flatten(const Field& field, const ArrowArray& array, const std::string& prefix,
                             int64_t offset, int64_t length, const uint8_t* parent_valid,
                             std::vector<Leaf>& out, int depth) {
  if (depth > kMaxNesting) throw ArrowImportError("struct nesting deeper than 64 levels");
  const DataType& t = field.type;
  if (array.n_children != static_cast<int64_t>(t.children.size()) && t.id == TypeId::kStruct) {
    throw ArrowImportError("struct column '" + prefix + "': array has " +
                           std::to_string(array.n_children) + " children, schema has " +
                           std::to_string(t.children.size()));
  }
  if (array.offset < 0 || array.length < 0) {
    throw ArrowImportError("column '" + prefix + "': Arrow array with a negative length or offset");
  }
  const int64_t first = array.offset + offset;
  if (array.length < offset + length) {
    throw ArrowImportError("column '" + prefix + "': Arrow array is shorter than its batch");
  }
  // this struct's own validity, combined with its parents'
  const bool has_bitmap = array.null_count != 0 && array.n_buffers > 0 &&
                          array.buffers != nullptr && array.buffers[0] != nullptr;
  const uint8_t* valid = parent_valid;
  if (has_bitmap) {
    auto mask = std::make_unique<std::vector<uint8_t>>();
    combine_validity(static_cast<const uint8_t*>(array.buffers[0]), first, parent_valid, length,
                     *mask);
    valid = mask->data();
    masks_.push_back(std::move(mask));
  }
  if (array.children == nullptr && array.n_children > 0)
    throw ArrowImportError("struct array without children");
  for (size_t i = 0; i < t.children.size(); ++i) {
    const Field& child = t.children[i];
    const ArrowArray* ca = array.children[i];
    if (ca == nullptr) throw ArrowImportError("struct array with a null child");
    std::string name = prefix.empty() ? child.name : prefix + "." + child.name;
    if (child.type.id == TypeId::kStruct) {
      flatten(child, *ca, name, first, length, valid, out, depth + 1);
    } else {
      out.push_back(Leaf{std::move(name), &child.type, ca, first, valid});
    }
  }
}

void PartialProfile::consume_batch(const ArrowSchema& schema, const ArrowArray& array) {
  const Field root = parse_field(schema);
  if (root.type.id != TypeId::kStruct) {
    throw ArrowImportError("a record batch must be a struct array, got " + root.type.to_string());
  }
  const int64_t len = array.length;
  if (len < 0 || array.offset < 0)
    throw ArrowImportError("record batch with a negative length or offset");
  if (array.offset > INT64_MAX - len)
    throw ArrowImportError("record batch offset + length overflows");
  masks_.clear();
  std::vector<Leaf> leaves;
  // the batch's own offset applies to every column; record batches have no validity of their own.
  // `top` is the batch seen from element 0: its rows are [array.offset, array.offset + len).
  ArrowArray top = array;
  top.null_count = 0;
  top.offset = 0;
  top.length = array.offset + len;
  flatten(root, top, "", array.offset, len, nullptr, leaves, 0);

  bool hash_rows = duplicates_available_;
  for (const auto& leaf : leaves) {
    if (domain_of(*leaf.type) == ValueDomain::kList ||
        domain_of(*leaf.type) == ValueDomain::kOther) {
      hash_rows = false;
    }
  }
  if (!hash_rows) duplicates_available_ = false;
  if (hash_rows) row_hashes_.assign(static_cast<size_t>(len), kHashSeed);

  // Check every type change before consuming anything, so a SchemaError leaves this unchanged.
  for (const auto& leaf : leaves) {
    auto it = index_.find(leaf.name);
    if (it != index_.end()) columns_[it->second].check_mergeable_type(*leaf.type);
  }
  std::vector<char> seen(columns_.size() + leaves.size(), 0);
  for (const auto& leaf : leaves) {
    ColumnState& c = column_for(leaf.name, *leaf.type);
    const size_t ci = index_[leaf.name];
    if (ci < seen.size()) seen[ci] = 1;
    BatchColumn bc{leaf.array, leaf.type, len, leaf.offset, leaf.parent_valid};
    uint64_t* rh = hash_rows ? row_hashes_.data() : nullptr;
    if (c.type() == *leaf.type || leaf.type->id == TypeId::kNull ||
        encodes_values_of(*leaf.type, c.type())) {
      c.consume(bc, scratch_, rh);
    } else {
      // schema drift inside a stream (int32 then int64, date32 then int64, a column that was
      // all-null so far...): profile the batch on its own type, then merge, which promotes
      // losslessly or throws SchemaError. Comparing domains is not enough: date32 and int64
      // share one, and so do timestamps of different units.
      ColumnState fresh(leaf.name, *leaf.type, options_);
      fresh.consume(bc, scratch_, rh);
      c.merge(fresh);
    }
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i >= seen.size() || !seen[i]) add_null_rows(columns_[i], static_cast<uint64_t>(len));
  }
  rows_ += static_cast<uint64_t>(len);
  if (hash_rows) {
    for (uint64_t& h : row_hashes_) h = finish_row_hash(h);
    duplicates_.update(row_hashes_);
  }

  if (options_.correlations) {
    std::vector<std::pair<const Leaf*, const ColumnState*>> numeric;
    for (const auto& leaf : leaves) {
      const ColumnState& c = columns_[index_[leaf.name]];
      if (c.is_numeric()) numeric.emplace_back(&leaf, &c);
    }
    corr_values_.resize(numeric.size());
    for (size_t i = 0; i < numeric.size(); ++i) {
      corr_values_[i].resize(static_cast<size_t>(len));
      const Leaf& l = *numeric[i].first;
      numeric[i].second->row_doubles(BatchColumn{l.array, l.type, len, l.offset, l.parent_valid},
                                     scratch_, corr_values_[i].data());
    }
    std::vector<double> xs, ys;
    for (size_t i = 0; i < numeric.size(); ++i) {
      for (size_t j = i + 1; j < numeric.size(); ++j) {
        xs.clear();
        ys.clear();
        const auto& a = corr_values_[i];
        const auto& b = corr_values_[j];
        for (size_t r = 0; r < a.size(); ++r) {
          if (!std::isnan(a[r]) && !std::isnan(b[r])) {
            xs.push_back(a[r]);
            ys.push_back(b[r]);
          }
        }
        correlations_[{numeric[i].first->name, numeric[j].first->name}].update(xs, ys);
      }
    }
  }
}

void PartialProfile::consume_stream(ArrowArrayStream& stream) {
  StreamReader reader(stream);
  for (OwnedArray batch = reader.next(); !batch.is_released(); batch = reader.next()) {
    consume_batch(reader.schema(), *batch.get());
  }
}

std::vector<uint64_t> PartialProfile::row_hashes(const ArrowSchema& schema, const ArrowArray& array,
                                                 const std::vector<std::string>& keys) {
  const Field root = parse_field(schema);
  if (root.type.id != TypeId::kStruct) {
    throw ArrowImportError("a record batch must be a struct array, got " + root.type.to_string());
  }
  const int64_t len = array.length;
  if (len < 0 || array.offset < 0 || array.offset > INT64_MAX - len)
    throw ArrowImportError("record batch with a negative or overflowing length or offset");
  // Only the value hashes are wanted: the smallest sketches, no patterns.
  ProfileOptions options;
  options.patterns = false;
  options.hll_precision = 4;
  options.kll_k = 8;
  options.top_n = 0;
  options.frequent_items_capacity = 16;
  options.duplicate_exact_limit = 0;
  PartialProfile scratch(options);
  std::vector<Leaf> leaves;
  ArrowArray top = array;
  top.null_count = 0;
  top.offset = 0;
  top.length = array.offset + len;
  scratch.flatten(root, top, "", array.offset, len, nullptr, leaves, 0);
  std::vector<uint64_t> hashes(static_cast<size_t>(len), kHashSeed);
  for (const auto& key : keys) {
    auto leaf =
        std::find_if(leaves.begin(), leaves.end(), [&](const Leaf& l) { return l.name == key; });
    if (leaf == leaves.end()) throw InvalidArgumentError("key column '" + key + "' not found");
    ColumnState c(leaf->name, *leaf->type, options);
    if (!c.hashes_rows()) {
      throw UnsupportedTypeError("key column '" + key + "' of type " + leaf->type->to_string() +
                                 " has no value hash; choose other key columns");
    }
    c.consume(BatchColumn{leaf->array, leaf->type, len, leaf->offset, leaf->parent_valid},
              scratch.scratch_, hashes.data());
  }
  for (uint64_t& h : hashes) h = finish_row_hash(h);
  return hashes;
}

void PartialProfile::merge(const PartialProfile& other, MergeMode mode) {
  options_.check_mergeable(other.options_);
  if (&other == this) throw InvalidArgumentError("cannot merge a profile with itself");
  try {
    if (mode == MergeMode::kColumns) {
      for (const auto& c : other.columns_) {
        if (index_.count(c.name())) {
          throw SchemaError("column '" + c.name() + "' is in both column partitions");
        }
      }
      if (!columns_.empty() && !other.columns_.empty() && rows_ != other.rows_) {
        throw SchemaError("column partitions cover different rows (" + std::to_string(rows_) +
                          " and " + std::to_string(other.rows_) + ")");
      }
      for (const auto& c : other.columns_) {
        index_.emplace(c.name(), columns_.size());
        columns_.push_back(c);
        columns_.back().set_dense_slots(dense_slots_);
      }
      fit_tables();
      if (columns_.size() == other.columns_.size()) {
        rows_ = other.rows_;
        duplicates_ = other.duplicates_;
        duplicates_available_ = other.duplicates_available_;
      } else if (!other.columns_.empty()) {
        // the row hashes of either part miss the other part's columns
        duplicates_available_ = false;
      }
    } else {
      // Row hashes cover a partial's columns in its order: parts whose columns differ (schema
      // drift, a column one part lacks) hashed the same row differently, so the union's
      // duplicates cannot be counted from them.
      bool same_columns = columns_.size() == other.columns_.size();
      for (size_t i = 0; same_columns && i < columns_.size(); ++i) {
        same_columns = columns_[i].name() == other.columns_[i].name();
      }
      if (!same_columns && rows_ > 0 && other.rows_ > 0) duplicates_available_ = false;
      for (const auto& oc : other.columns_) {
        auto it = index_.find(oc.name());
        if (it == index_.end()) {
          index_.emplace(oc.name(), columns_.size());
          columns_.emplace_back(oc.name(), oc.type(), options_);
          columns_.back().set_dense_slots(dense_slots_);
          columns_.back().add_null_rows(rows_);
          columns_.back().merge(oc);
        } else {
          columns_[it->second].merge(oc);
        }
      }
      for (auto& c : columns_) {
        if (!other.index_.count(c.name())) c.add_null_rows(other.rows_);
      }
      rows_ += other.rows_;
      duplicates_.merge(other.duplicates_);
      duplicates_available_ = duplicates_available_ && other.duplicates_available_;
      fit_tables();
    }
    for (const auto& [k, v] : other.correlations_) correlations_[k].merge(v);
    for (const auto& s : other.sources_) add_source(s);
  } catch (const SchemaError& e) {
    throw SchemaError(std::string(e.what()) + " (sources: " + joined(sources_) + " | " +
                      joined(other.sources_) + ")");
  }
}

// Layout (little-endian):
//   offset  size  field
//   0       4     magic "THPP"
//   4       1     format version (5; see kFormatVersion)
//   5       3     reserved, zero
//   8       8     payload length L
//   16      L     payload: options | rows u64 | dup available u8 | DuplicateCounter |
//                 sources (u64 n, n strs) | columns (u64 n, n sections) |
//                 correlations (u64 n, n x (str a, str b, CoMoments))
//   16+L    8     checksum: hash_bytes(payload)
std::vector<uint8_t> PartialProfile::serialize() const {
  ByteWriter p;
  options_.serialize(p);
  p.u64(rows_);
  p.u8(duplicates_available_ ? 1 : 0);
  duplicates_.serialize(p);
  p.u64(sources_.size());
  for (const auto& s : sources_) p.str(s);
  p.u64(columns_.size());
  for (const auto& c : columns_) {
    const size_t at = p.begin_section();
    c.serialize(p);
    p.end_section(at);
  }
  p.u64(correlations_.size());
  for (const auto& [k, v] : correlations_) {
    p.str(k.first);
    p.str(k.second);
    v.serialize(p);
  }
  const auto& payload = p.buffer();
  ByteWriter out;
  out.raw(kMagic, 4);
  out.u8(kFormatVersion);
  out.raw("\0\0\0", 3);
  out.u64(payload.size());
  out.raw(payload.data(), payload.size());
  out.u64(hash_bytes(payload.data(), payload.size()));
  return out.take();
}

size_t PartialProfile::duplicate_counter_bytes() const {
  ByteWriter w;
  duplicates_.serialize(w);
  return w.size();
}

PartialProfile PartialProfile::deserialize(const void* data, size_t size) {
  ByteReader in(data, size, "partial profile");
  auto magic = in.raw(4);
  if (std::string_view(reinterpret_cast<const char*>(magic.data()), 4) !=
      std::string_view(kMagic, 4)) {
    in.corrupt("not a truthound partial profile (bad magic bytes)");
  }
  const uint8_t version = in.u8();
  if (version != kFormatVersion && version != kFormatVersionUnpacked &&
      version != kFormatVersionRawTimeHashes && version != kFormatVersionOldRowHashes) {
    in.corrupt("format version " + std::to_string(version) + " is not supported (expected " +
               std::to_string(kFormatVersion) + ")");
  }
  for (uint8_t r : in.raw(3)) {
    if (r != 0) in.corrupt("reserved header bytes are not zero");
  }
  const uint64_t len = in.u64();
  if (len > in.remaining() || in.remaining() - len != 8) {
    in.corrupt("payload length " + std::to_string(len) + " does not match the " +
               std::to_string(in.remaining()) + " bytes that follow");
  }
  auto payload = in.raw(static_cast<size_t>(len));
  const uint64_t checksum = in.u64();
  in.expect_end();
  if (hash_bytes(payload.data(), payload.size()) != checksum) in.corrupt("checksum mismatch");

  ByteReader p(payload.data(), payload.size(), "partial profile");
  PartialProfile out(ProfileOptions::deserialize(p, version >= kFormatVersion));
  out.rows_ = p.u64();
  out.duplicates_available_ = p.u8() != 0;
  out.duplicates_ = DuplicateCounter::deserialize(p, out.options_.duplicate_exact_limit,
                                                  version == kFormatVersion);
  // Version 2 hashed rows another way: its duplicate counter cannot merge with ours.
  if (version == kFormatVersionOldRowHashes) out.duplicates_available_ = false;
  const size_t n_sources = p.count(8);
  for (size_t i = 0; i < n_sources; ++i) out.sources_.emplace_back(p.str());
  const size_t n_columns = p.count(8);
  for (size_t i = 0; i < n_columns; ++i) {
    ByteReader section = p.section("partial profile column");
    ColumnState c = ColumnState::deserialize(section, out.options_);
    section.expect_end();
    if (out.index_.count(c.name())) p.corrupt("column '" + c.name() + "' appears twice");
    if (c.row_count() != out.rows_)
      p.corrupt("column '" + c.name() + "' row count differs from the table's");
    const DataType& t = c.type().id == TypeId::kDictionary && !c.type().children.empty()
                            ? c.type().children[0].type
                            : c.type();
    if (version < kFormatVersionUnpacked && has_time_unit(t) && t.unit != TimeUnit::kSecond) {
      p.corrupt("column '" + c.name() + "' (" + c.type().to_string() + ") was hashed by format " +
                std::to_string(version) +
                ", which cannot merge with the timestamp hashes of format " +
                std::to_string(kFormatVersionUnpacked) + " and later; profile the data again");
    }
    out.index_.emplace(c.name(), out.columns_.size());
    out.columns_.push_back(std::move(c));
  }
  out.fit_tables();
  const size_t n_corr = p.count(16);
  for (size_t i = 0; i < n_corr; ++i) {
    std::string a(p.str()), b(p.str());
    out.correlations_[{a, b}] = CoMoments::deserialize(p);
  }
  p.expect_end();
  return out;
}

// A shipped column's top values take at most about this many bytes where the bound allows:
// with its distinct-count registers (at most about 23 KiB at the default precision) and its
// quantile items (up to about 8 KiB), a column in the sketch regime ships in 48 KiB.
constexpr size_t kShippedTopValueBytes = 12 * 1024;

void PartialProfile::compact_for_transport() {
  const size_t max_items = std::max<size_t>(64, options_.frequent_items_capacity / 16);
  for (auto& c : columns_) c.compact_for_transport(max_items, kShippedTopValueBytes);
}

std::vector<Alert> PartialProfile::alerts() const {
  std::vector<Alert> out;
  (void)finalize_json(&out);
  return out;
}

std::string PartialProfile::finalize_json() const {
  return finalize_json(nullptr);
}

std::string PartialProfile::finalize_json(std::vector<Alert>* alerts_out) const {
  JsonWriter w;
  w.begin_object();
  w.field("row_count", rows_);
  w.field("column_count", static_cast<uint64_t>(columns_.size()));
  uint64_t mem = 0;
  for (const auto& c : columns_) mem += c.memory_bytes();
  w.field("estimated_memory_bytes", mem);
  // duplicate rows, when this profile's row hashes cover every row over every column
  std::optional<uint64_t> duplicates;
  if (duplicates_available_ && duplicates_.rows() == rows_) {
    duplicates = duplicates_.duplicate_rows();
  }
  if (duplicates) {
    const uint64_t d = *duplicates;
    w.field("duplicate_row_count", d);
    w.field("duplicate_row_ratio",
            rows_ ? static_cast<double>(d) / static_cast<double>(rows_) : 0.0);
    w.field("duplicate_rows_approximate", !duplicates_.is_exact());
  } else {
    w.field_null("duplicate_row_count");
    w.field_null("duplicate_row_ratio");
    w.field_null("duplicate_rows_approximate");
  }
  w.key("sources").begin_array();
  for (const auto& s : sources_) w.string(s);
  w.end_array();
  w.key("correlations").begin_array();
  for (const auto& [k, v] : correlations_) {
    w.begin_object();
    w.field_string("column_a", k.first);
    w.field_string("column_b", k.second);
    w.field("pearson", v.pearson());
    w.field("count", v.n);
    w.end_object();
  }
  w.end_array();
  // The columns first: their finalize works out the figures the alerts read. The alerts come
  // before the columns in the result.
  JsonWriter columns;
  std::vector<ColumnAlertFigures> figures(columns_.size());
  columns.begin_array();
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].finalize(columns, options_, &figures[i]);
  columns.end_array();
  const AlertThresholds& t = options_.alerts;
  std::vector<Alert> alerts;
  table_alerts(rows_, duplicates, !duplicates_.is_exact(), t, alerts);
  for (const auto& f : figures) column_alerts(f, t, alerts);
  for (const auto& [k, v] : correlations_) {
    correlation_alerts(k.first, k.second, v.pearson(), t, alerts);
  }
  w.key("alerts");
  write_alerts(w, alerts);
  w.key("columns").raw(columns.str());
  w.end_object();
  if (alerts_out != nullptr) *alerts_out = std::move(alerts);
  return w.take();
}

}  // namespace truthound
