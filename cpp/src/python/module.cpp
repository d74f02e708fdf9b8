// truthound._core: the engine's binding. Lambdas only convert bytes and Arrow capsules; every
// heavy call releases the GIL. Engine exceptions become the classes of truthound.errors.
#include <nanobind/nanobind.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <tuple>

#include "truthound/arrow/c_abi.hpp"
#include "truthound/arrow/stream.hpp"
#include "truthound/parquet/footer.hpp"
#include "truthound/parquet/page_check.hpp"
#include "truthound/parquet/reader.hpp"
#include "truthound/profile/diff.hpp"
#include "truthound/profile/partial.hpp"
#include "truthound/util/error.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace truthound {
namespace {

// A partial profile shared with Python: Python threads may call into it while the GIL is
// released, so every engine call takes the lock. Lock order: the GIL is never awaited while the
// lock is held (nothing under the lock calls Python: a stream's get_next and a batch's release
// run outside it), and the lock is never awaited while the GIL is held (every method releases
// the GIL first). So a thread reading row_count cannot deadlock with one consuming a stream
// whose get_next takes the GIL, and the stream's own Python code may read the profile too.
struct PyPartialProfile {
  PartialProfile profile;
  std::mutex mutex;
  explicit PyPartialProfile(PartialProfile p) : profile(std::move(p)) {}
};

void raise_as(const char* name, const char* message) {
  try {
    nb::object cls = nb::module_::import_("truthound.errors").attr(name);
    PyErr_SetString(cls.ptr(), message);
  } catch (...) {
    PyErr_Clear();
    PyErr_SetString(PyExc_RuntimeError, message);
  }
}

void translate(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const CorruptProfileError& e) {
    raise_as("CorruptProfileError", e.what());
  } catch (const SchemaError& e) {
    raise_as("SchemaError", e.what());
  } catch (const UnsupportedTypeError& e) {
    raise_as("UnsupportedTypeError", e.what());
  } catch (const InvalidArgumentError& e) {
    raise_as("ConfigurationError", e.what());
  } catch (const SourceReadError& e) {
    raise_as("SourceReadError", e.what());
  } catch (const ArrowImportError& e) {
    raise_as("ArrowImportError", e.what());
  } catch (const Error& e) {
    raise_as("TruthoundError", e.what());
  } catch (const std::bad_alloc&) {
    PyErr_SetString(PyExc_MemoryError, "truthound engine: out of memory");
  }
}

void* capsule_pointer(nb::handle capsule, const char* expected) {
  if (!PyCapsule_CheckExact(capsule.ptr())) {
    throw nb::type_error((std::string("expected a PyCapsule named '") + expected + "'").c_str());
  }
  const char* name = PyCapsule_GetName(capsule.ptr());
  if (name == nullptr || std::string(name) != expected) {
    PyErr_Clear();
    throw nb::type_error((std::string("expected a PyCapsule named '") + expected + "', got '" +
                          (name ? name : "(unnamed)") + "'")
                             .c_str());
  }
  void* ptr = PyCapsule_GetPointer(capsule.ptr(), expected);
  if (ptr == nullptr) throw nb::python_error();
  return ptr;
}

void consume_stream(PyPartialProfile& self, nb::handle source) {
  nb::object capsule;
  if (nb::hasattr(source, "__arrow_c_stream__")) {
    capsule = source.attr("__arrow_c_stream__")();
  } else {
    capsule = nb::borrow(source);
  }
  auto* raw = static_cast<ArrowArrayStream*>(capsule_pointer(capsule, "arrow_array_stream"));
  if (raw->release == nullptr) throw nb::value_error("the Arrow stream was already consumed");
  OwnedStream stream(raw);  // moved out: the capsule's destructor sees it released
  nb::gil_scoped_release release;
  StreamReader reader(*stream.get());
  // get_next may take the GIL (streams implemented in Python) and a batch's release may too
  // (buffers owned by Python objects): both run outside the lock.
  for (OwnedArray batch = reader.next(); !batch.is_released(); batch = reader.next()) {
    std::lock_guard<std::mutex> lock(self.mutex);
    self.profile.consume_batch(reader.schema(), *batch.get());
  }
}

void consume_batch(PyPartialProfile& self, nb::handle batch) {
  if (!nb::hasattr(batch, "__arrow_c_array__")) {
    throw nb::type_error(
        "consume_batch() needs an object with __arrow_c_array__ (a pyarrow.RecordBatch)");
  }
  nb::object pair = batch.attr("__arrow_c_array__")();
  nb::object schema_capsule = pair[0];
  nb::object array_capsule = pair[1];
  auto* schema = static_cast<ArrowSchema*>(capsule_pointer(schema_capsule, "arrow_schema"));
  auto* raw = static_cast<ArrowArray*>(capsule_pointer(array_capsule, "arrow_array"));
  if (raw->release == nullptr) throw nb::value_error("the Arrow array was already consumed");
  OwnedArray array(raw);
  nb::gil_scoped_release release;
  {
    std::lock_guard<std::mutex> lock(self.mutex);
    self.profile.consume_batch(*schema, *array.get());
  }
  array.reset();  // may take the GIL: released outside the lock
}

// The engine's row hashes of a batch's key columns, as the bytes of little-endian uint64s.
nb::bytes row_hashes(nb::handle batch, const std::vector<std::string>& keys) {
  if (!nb::hasattr(batch, "__arrow_c_array__")) {
    throw nb::type_error(
        "row_hashes() needs an object with __arrow_c_array__ (a pyarrow.RecordBatch)");
  }
  nb::object pair = batch.attr("__arrow_c_array__")();
  nb::object schema_capsule = pair[0];
  nb::object array_capsule = pair[1];
  auto* schema = static_cast<ArrowSchema*>(capsule_pointer(schema_capsule, "arrow_schema"));
  auto* raw = static_cast<ArrowArray*>(capsule_pointer(array_capsule, "arrow_array"));
  if (raw->release == nullptr) throw nb::value_error("the Arrow array was already consumed");
  OwnedArray array(raw);
  std::vector<uint64_t> hashes;
  {
    nb::gil_scoped_release release;
    hashes = PartialProfile::row_hashes(*schema, *array.get(), keys);
  }
  array.reset();
  std::string out(hashes.size() * sizeof(uint64_t), '\0');
  for (size_t i = 0; i < hashes.size(); ++i) {
    for (size_t b = 0; b < 8; ++b) {
      out[i * 8 + b] = static_cast<char>((hashes[i] >> (8 * b)) & 0xff);
    }
  }
  return nb::bytes(out.data(), out.size());
}

// Runs `f(profile)` under the profile's lock with the GIL released, and returns its result
// (converted to Python after the GIL is taken back).
template <typename F>
auto with_profile(PyPartialProfile& self, F&& f) {
  nb::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(self.mutex);
  return f(self.profile);
}

// The engine's Parquet reader, one batch at a time (see parquet/reader.hpp).
struct PyParquetReader {
  std::unique_ptr<parquet::BatchReader> reader;
  std::mutex mutex;
};

// (offset, length, num_values, codec, padding) of each row group's chunk of a column
using ChunkTuple = std::tuple<int64_t, int64_t, int64_t, int32_t, int64_t>;
// (name, physical type, max definition level, chunks)
using ColumnTuple = std::tuple<std::string, int32_t, int32_t, std::vector<ChunkTuple>>;

void init_parquet_reader(PyParquetReader* self, const std::string& path, nb::handle schema,
                         const std::vector<ColumnTuple>& columns,
                         const std::vector<int64_t>& row_group_rows, int64_t batch_rows,
                         const std::vector<std::pair<int64_t, int64_t>>& row_ranges) {
  if (!nb::hasattr(schema, "__arrow_c_schema__")) {
    throw nb::type_error("ParquetReader() needs a schema with __arrow_c_schema__ (pyarrow.Schema)");
  }
  nb::object capsule = schema.attr("__arrow_c_schema__")();
  const auto* raw = static_cast<const ArrowSchema*>(capsule_pointer(capsule, "arrow_schema"));
  parquet::ReadPlan plan;
  plan.path = path;
  plan.row_group_rows = row_group_rows;
  plan.batch_rows = batch_rows;
  plan.row_ranges = row_ranges;
  for (const auto& [name, physical, max_def, chunks] : columns) {
    parquet::ColumnRead c;
    c.name = name;
    c.physical = static_cast<parquet::PhysicalType>(physical);
    c.max_definition_level = max_def;
    for (const auto& [offset, length, values, codec, padding] : chunks) {
      c.chunks.push_back({offset, length, values, static_cast<parquet::Codec>(codec), padding});
    }
    plan.columns.push_back(std::move(c));
  }
  new (self) PyParquetReader{std::make_unique<parquet::BatchReader>(std::move(plan), *raw), {}};
}

void release_array_capsule(PyObject* capsule) noexcept {
  auto* a = static_cast<ArrowArray*>(PyCapsule_GetPointer(capsule, "arrow_array"));
  if (a == nullptr) {
    PyErr_Clear();
    return;
  }
  std::unique_ptr<ArrowArray> owned(a);
  if (owned->release != nullptr) owned->release(owned.get());
}

nb::object next_parquet_batch(PyParquetReader& self) {
  auto array = std::make_unique<ArrowArray>();
  array->release = nullptr;
  bool more = false;
  {
    nb::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(self.mutex);
    more = self.reader->next(array.get());
  }
  if (!more) return nb::none();
  PyObject* capsule = PyCapsule_New(array.get(), "arrow_array", release_array_capsule);
  if (capsule == nullptr) throw nb::python_error();  // `array` still owns (and releases) the batch
  array.release();
  return nb::steal(capsule);
}

}  // namespace

void bind_monitor(nb::module_& m);  // bind_monitor.cpp

}  // namespace truthound

NB_MODULE(_core, m) {
  using truthound::PartialProfile;
  using truthound::PyPartialProfile;
  m.doc() = "truthound engine (C++): partial profiles that consume Arrow data, merge and finalize.";
  m.attr("FORMAT_VERSION") = PartialProfile::kFormatVersion;
  nb::register_exception_translator(truthound::translate);

  m.def(
      "alert_options",
      [] {
        std::vector<std::tuple<std::string, double, double, std::string>> out;
        const truthound::AlertThresholds defaults;
        for (const auto& o : truthound::AlertThresholds::options()) {
          out.emplace_back(std::string("alert_") + o.name, defaults.*o.field, o.max, o.meaning);
        }
        return out;
      },
      "The alert threshold options: (option name, default, maximum (inf: unbounded), meaning); "
      "each ranges from 0 to its maximum and fires strictly above.");

  m.def("row_hashes", &truthound::row_hashes, "batch"_a, "keys"_a,
        "The engine's 64-bit hash of each row of a record batch over its columns `keys` (the "
        "value hash of distinct counts and duplicate rows), as little-endian uint64 bytes.");

  nb::class_<PyPartialProfile>(m, "PartialProfile",
                               "Mergeable profile state of a set of columns over a set of rows.")
      .def(
          "__init__",
          [](PyPartialProfile* self, const std::string& options) {
            new (self)
                PyPartialProfile(PartialProfile(truthound::ProfileOptions::from_json(options)));
          },
          "options"_a = "{}",
          "Create an empty profile; `options` is a JSON object of engine options.")
      .def("consume", &truthound::consume_stream, "stream"_a,
           "Profile every batch of an object with __arrow_c_stream__ (or an 'arrow_array_stream' "
           "capsule).")
      .def("consume_batch", &truthound::consume_batch, "batch"_a,
           "Profile one record batch (an object with __arrow_c_array__).")
      .def(
          "merge",
          [](PyPartialProfile& self, PyPartialProfile& other, bool columns) {
            if (&self == &other) throw nb::value_error("cannot merge a profile with itself");
            nb::gil_scoped_release release;
            std::scoped_lock lock(self.mutex, other.mutex);
            self.profile.merge(other.profile, columns ? truthound::MergeMode::kColumns
                                                      : truthound::MergeMode::kRows);
          },
          "other"_a, "columns"_a = false,
          "Merge another partial in place: other rows (default) or, with columns=True, other "
          "columns.")
      .def(
          "compact",
          [](PyPartialProfile& self) {
            nb::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(self.mutex);
            self.profile.compact_for_transport();
          },
          "Before the partial ships: columns past their exact top-value regime keep fewer "
          "counters where the error bound allows, and quantile sketches past their exact regime "
          "move their buffered items into their levels (every bound still holds).")
      .def(
          "serialized_sizes",
          [](PyPartialProfile& self) {
            std::vector<std::pair<std::string, truthound::ColumnState::SerializedSizes>> sizes;
            {
              nb::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(self.mutex);
              for (const auto& c : self.profile.columns())
                sizes.emplace_back(c.name(), c.serialized_sizes());
            }
            nb::dict columns;
            for (const auto& [name, s] : sizes) {
              nb::dict d;
              d["total"] = s.total;
              d["distinct"] = s.distinct;
              d["quantiles"] = s.quantiles;
              d["top_values"] = s.top_values;
              columns[nb::str(name.c_str(), name.size())] = d;
            }
            return columns;
          },
          "Bytes to_bytes() spends on each column: {name: {total, distinct, quantiles, "
          "top_values}} (its whole state and its three sketches), a size report.")
      .def_prop_ro(
          "duplicate_counter_bytes",
          [](PyPartialProfile& self) {
            return truthound::with_profile(
                self, [](PartialProfile& p) { return p.duplicate_counter_bytes(); });
          },
          "Bytes to_bytes() spends on the table-wide duplicate-row counter (a size report).")
      .def(
          "to_bytes",
          [](PyPartialProfile& self) {
            std::vector<uint8_t> bytes;
            {
              nb::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(self.mutex);
              bytes = self.profile.serialize();
            }
            return nb::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
          },
          "Serialize to versioned, checksummed bytes.")
      .def_static(
          "from_bytes",
          [](nb::bytes data) {
            const char* p = data.c_str();
            const size_t n = data.size();
            nb::gil_scoped_release release;
            return new PyPartialProfile(PartialProfile::deserialize(p, n));
          },
          "data"_a, nb::rv_policy::take_ownership,
          "Load serialized bytes; raises CorruptProfileError on truncated or corrupted input.")
      .def(
          "finalize",
          [](PyPartialProfile& self) {
            nb::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(self.mutex);
            return self.profile.finalize_json();
          },
          "The result model as JSON text (docs/engine-interface.md).")
      .def(
          "diff",
          [](PyPartialProfile& self, PyPartialProfile& current) {
            nb::gil_scoped_release release;
            if (&self == &current) {
              std::lock_guard<std::mutex> lock(self.mutex);
              return truthound::diff_profiles(self.profile, self.profile);
            }
            std::scoped_lock lock(self.mutex, current.mutex);
            return truthound::diff_profiles(self.profile, current.profile);
          },
          "current"_a,
          "What changed from this profile (the base) to `current`, as JSON text "
          "(cpp/include/truthound/profile/diff.hpp lists the fields).")
      .def(
          "add_source",
          [](PyPartialProfile& self, const std::string& source) {
            truthound::with_profile(self, [&](PartialProfile& p) { p.add_source(source); });
          },
          "source"_a, "Record the name of a source (file, table) this profile covers.")
      .def_prop_ro(
          "row_count",
          [](PyPartialProfile& self) {
            return truthound::with_profile(self, [](PartialProfile& p) { return p.row_count(); });
          },
          "Rows consumed so far (whole batches: a stream being consumed counts its batches as "
          "they are profiled).")
      .def_prop_ro(
          "column_names",
          [](PyPartialProfile& self) {
            return truthound::with_profile(self,
                                           [](PartialProfile& p) { return p.column_names(); });
          },
          "Profiled (leaf) column names, in order of first appearance.")
      .def_prop_ro(
          "sources",
          [](PyPartialProfile& self) {
            return truthound::with_profile(self, [](PartialProfile& p) { return p.sources(); });
          },
          "Names of the sources this profile covers.");

  nb::class_<truthound::PyParquetReader>(
      m, "ParquetReader",
      "The engine's reader of flat Parquet column chunks (plain and dictionary pages, v1/v2, "
      "uncompressed or snappy), one Arrow batch at a time.")
      .def("__init__", &truthound::init_parquet_reader, "path"_a, "schema"_a, "columns"_a,
           "row_group_rows"_a, "batch_rows"_a,
           "row_ranges"_a = std::vector<std::pair<int64_t, int64_t>>{},
           "columns: (name, physical type, max definition level, [(offset, length, values, "
           "codec, padding)] per row group); schema: the batches' struct schema; row_ranges: "
           "optional "
           "(first, count) rows to read of each row group.")
      .def("next", &truthound::next_parquet_batch,
           "The next batch as an 'arrow_array' capsule (struct array of `schema`), or None.");

  namespace pq = truthound::parquet;
  nb::class_<pq::ColumnChunkMeta>(m, "ParquetColumnChunk",
                                  "A column chunk of a Parquet footer (see parquet/footer.hpp).")
      .def_ro("physical_type", &pq::ColumnChunkMeta::physical_type)
      .def_ro("codec", &pq::ColumnChunkMeta::codec)
      .def_ro("encodings", &pq::ColumnChunkMeta::encodings)
      .def_ro("num_values", &pq::ColumnChunkMeta::num_values)
      .def_ro("data_page_offset", &pq::ColumnChunkMeta::data_page_offset)
      .def_ro("dictionary_page_offset", &pq::ColumnChunkMeta::dictionary_page_offset)
      .def_ro("total_compressed_size", &pq::ColumnChunkMeta::total_compressed_size)
      .def_ro("start", &pq::ColumnChunkMeta::start)
      .def_ro("length", &pq::ColumnChunkMeta::length)
      .def_ro("padding", &pq::ColumnChunkMeta::padding)
      .def_ro("external", &pq::ColumnChunkMeta::external);
  nb::class_<pq::RowGroupMeta>(m, "ParquetRowGroup", "A row group of a Parquet footer.")
      .def_ro("num_rows", &pq::RowGroupMeta::num_rows)
      .def_ro("columns", &pq::RowGroupMeta::columns);
  nb::class_<pq::FileMeta>(m, "ParquetFooter",
                           "A Parquet file's footer as the engine reads and checks it.")
      .def_ro("file_size", &pq::FileMeta::file_size)
      .def_ro("num_rows", &pq::FileMeta::num_rows)
      .def_ro("created_by", &pq::FileMeta::created_by)
      .def_ro("leaf_paths", &pq::FileMeta::leaf_paths)
      .def_ro("leaf_max_definition", &pq::FileMeta::leaf_max_definition)
      .def_ro("leaf_max_repetition", &pq::FileMeta::leaf_max_repetition)
      .def_ro("row_groups", &pq::FileMeta::row_groups);
  m.def("read_parquet_footer", &pq::read_file_meta, "path"_a,
        nb::call_guard<nb::gil_scoped_release>(),
        "The footer of the Parquet file at `path`, every count and byte range checked "
        "(SourceReadError when malformed).");
  m.def(
      "parse_parquet_footer",
      [](nb::bytes tail, int64_t file_size) {
        const std::span<const uint8_t> bytes(static_cast<const uint8_t*>(tail.data()), tail.size());
        nb::gil_scoped_release release;
        return pq::parse_file_tail(bytes, file_size);
      },
      "tail"_a, "file_size"_a,
      "The footer parsed from the last bytes of a Parquet file of file_size bytes (tail ends "
      "with the footer, its length and PAR1), every count and byte range checked.");

  truthound::bind_monitor(m);

  m.def(
      "check_parquet_pages",
      [](const pq::FileMeta& meta, const std::vector<size_t>& row_groups,
         const std::vector<size_t>& leaves, nb::callable read_at, const std::string& name) {
        // read_at calls Python: the GIL stays held (a few calls per column chunk)
        pq::check_page_sizes(
            meta, row_groups, leaves,
            [&](int64_t offset, std::span<uint8_t> dst) {
              nb::object got = read_at(offset, dst.size());
              if (!nb::isinstance<nb::bytes>(got)) {
                throw truthound::SourceReadError(name + ": read_at did not return bytes");
              }
              const auto bytes = nb::borrow<nb::bytes>(got);
              if (bytes.size() != dst.size()) {
                throw truthound::SourceReadError(
                    name + ": the file ends before byte " +
                    std::to_string(offset + static_cast<int64_t>(dst.size())) +
                    " (changed while read?)");
              }
              std::memcpy(dst.data(), bytes.data(), dst.size());
            },
            name);
      },
      "footer"_a, "row_groups"_a, "leaves"_a, "read_at"_a, "name"_a,
      "Walks the page headers of the column chunks of `leaves` in `row_groups` (read with "
      "read_at(offset, size) -> bytes); SourceReadError naming `name` when a page runs past its "
      "column chunk or claims more uncompressed bytes than its codec can expand to.");
}
