// Test helpers: Arrow C Data Interface arrays, schemas and streams built in C++, and a minimal
// JSON reader for the finalized result model.
//
// Every exported struct owns its memory (std::vectors behind `private_data`). Its release
// callback releases the children and dictionary it owns, frees its private data, marks itself
// released and increments a ReleaseCounter, so tests can assert that each struct handed over
// is released exactly once (released == created) and never twice (ASan would see the double
// free; the counter would exceed `created`).
//
// Slices: `Col` values describe the logical rows of a batch. `lead` garbage elements (with
// garbage validity bits) are placed before them physically, so tests exercise array offsets
// (including ones that are not multiples of 8) and parent offsets of enclosing structs.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include "truthound/arrow/c_abi.hpp"

namespace truthound::testing {

struct ReleaseCounter {
  int created = 0;
  int released = 0;
  bool balanced() const { return created == released; }
};

using Bytes = std::vector<uint8_t>;

// ---------------------------------------------------------------- arrays

struct ArrayPrivate {
  std::vector<std::optional<Bytes>> storage;
  std::vector<const void*> buffer_ptrs;
  std::vector<ArrowArray*> children;  // owned; released and deleted by the release callback
  ArrowArray* dictionary = nullptr;   // owned
  ReleaseCounter* counter = nullptr;
};

inline void release_array(ArrowArray* a) {
  if (a == nullptr || a->release == nullptr) return;
  auto* p = static_cast<ArrayPrivate*>(a->private_data);
  for (ArrowArray* c : p->children) {
    if (c->release != nullptr) c->release(c);
    delete c;
  }
  if (p->dictionary != nullptr) {
    if (p->dictionary->release != nullptr) p->dictionary->release(p->dictionary);
    delete p->dictionary;
  }
  if (p->counter != nullptr) ++p->counter->released;
  delete p;
  a->private_data = nullptr;
  a->release = nullptr;
}

// Takes over `children` and `dictionary` (their structs are moved: the caller's copies are
// marked released). Buffers given as nullopt are exported as null pointers.
inline ArrowArray make_array(ReleaseCounter* counter, int64_t length, int64_t offset,
                             int64_t null_count, std::vector<std::optional<Bytes>> buffers,
                             std::vector<ArrowArray> children = {},
                             std::optional<ArrowArray> dictionary = std::nullopt) {
  auto* p = new ArrayPrivate;
  p->counter = counter;
  p->storage = std::move(buffers);
  for (auto& b : p->storage) {
    // never hand out a null pointer for a present but empty buffer
    if (b && b->empty()) b->resize(8, 0);
    p->buffer_ptrs.push_back(b ? static_cast<const void*>(b->data()) : nullptr);
  }
  for (auto& c : children) {
    auto* heap = new ArrowArray(c);
    c.release = nullptr;
    p->children.push_back(heap);
  }
  if (dictionary) {
    p->dictionary = new ArrowArray(*dictionary);
    dictionary->release = nullptr;
  }
  if (counter != nullptr) ++counter->created;
  ArrowArray a{};
  a.length = length;
  a.null_count = null_count;
  a.offset = offset;
  a.n_buffers = static_cast<int64_t>(p->buffer_ptrs.size());
  a.n_children = static_cast<int64_t>(p->children.size());
  a.buffers = p->buffer_ptrs.empty() ? nullptr : p->buffer_ptrs.data();
  a.children = p->children.empty() ? nullptr : p->children.data();
  a.dictionary = p->dictionary;
  a.release = &release_array;
  a.private_data = p;
  return a;
}

// `indices` with `dict` as its dictionary (taken over: released with `indices`).
inline ArrowArray with_dictionary(ArrowArray indices, ArrowArray dict) {
  auto* p = static_cast<ArrayPrivate*>(indices.private_data);
  p->dictionary = new ArrowArray(dict);
  indices.dictionary = p->dictionary;
  return indices;
}

// Values of a test column; nullopt is a null.
template <typename T>
using Opt = std::vector<std::optional<T>>;

// ---------------------------------------------------------------- schemas

struct SchemaPrivate {
  std::string format, name;
  std::vector<ArrowSchema*> children;
  ArrowSchema* dictionary = nullptr;
  ReleaseCounter* counter = nullptr;
};

inline void release_schema(ArrowSchema* s) {
  if (s == nullptr || s->release == nullptr) return;
  auto* p = static_cast<SchemaPrivate*>(s->private_data);
  for (ArrowSchema* c : p->children) {
    if (c->release != nullptr) c->release(c);
    delete c;
  }
  if (p->dictionary != nullptr) {
    if (p->dictionary->release != nullptr) p->dictionary->release(p->dictionary);
    delete p->dictionary;
  }
  if (p->counter != nullptr) ++p->counter->released;
  delete p;
  s->private_data = nullptr;
  s->release = nullptr;
}

// A schema tree node; `export_schema` turns it into an owned ArrowSchema.
struct SchemaSpec {
  std::string format;
  std::string name;
  int64_t flags = ARROW_FLAG_NULLABLE;
  std::vector<SchemaSpec> children;
  std::shared_ptr<SchemaSpec> dictionary;
};

inline SchemaSpec field(std::string name, std::string format,
                        std::vector<SchemaSpec> children = {}) {
  return SchemaSpec{std::move(format), std::move(name), ARROW_FLAG_NULLABLE, std::move(children),
                    nullptr};
}
inline SchemaSpec dict_field(std::string name, std::string index_format, SchemaSpec values,
                             bool ordered = false) {
  SchemaSpec s{std::move(index_format), std::move(name), ARROW_FLAG_NULLABLE, {}, nullptr};
  if (ordered) s.flags |= ARROW_FLAG_DICTIONARY_ORDERED;
  s.dictionary = std::make_shared<SchemaSpec>(std::move(values));
  return s;
}
inline SchemaSpec struct_schema(std::vector<SchemaSpec> children, std::string name = "") {
  return SchemaSpec{"+s", std::move(name), 0, std::move(children), nullptr};
}

inline ArrowSchema export_schema(const SchemaSpec& spec, ReleaseCounter* counter = nullptr) {
  auto* p = new SchemaPrivate;
  p->format = spec.format;
  p->name = spec.name;
  p->counter = counter;
  for (const auto& c : spec.children)
    p->children.push_back(new ArrowSchema(export_schema(c, counter)));
  if (spec.dictionary) p->dictionary = new ArrowSchema(export_schema(*spec.dictionary, counter));
  if (counter != nullptr) ++counter->created;
  ArrowSchema s{};
  s.format = p->format.c_str();
  s.name = p->name.c_str();
  s.metadata = nullptr;
  s.flags = spec.flags;
  s.n_children = static_cast<int64_t>(p->children.size());
  s.children = p->children.empty() ? nullptr : p->children.data();
  s.dictionary = p->dictionary;
  s.release = &release_schema;
  s.private_data = p;
  return s;
}

// A schema owned by the test (released on scope exit).
struct ScopedSchema {
  ArrowSchema s;
  explicit ScopedSchema(const SchemaSpec& spec, ReleaseCounter* counter = nullptr)
      : s(export_schema(spec, counter)) {}
  ScopedSchema(const ScopedSchema&) = delete;
  ScopedSchema& operator=(const ScopedSchema&) = delete;
  ~ScopedSchema() { release_schema(&s); }
  const ArrowSchema& operator*() const { return s; }
};

// An array owned by the test (released on scope exit).
struct ScopedArray {
  ArrowArray a;
  explicit ScopedArray(ArrowArray arr) : a(arr) {}
  ScopedArray(const ScopedArray&) = delete;
  ScopedArray& operator=(const ScopedArray&) = delete;
  ~ScopedArray() { release_array(&a); }
  const ArrowArray& operator*() const { return a; }
  ArrowArray* operator->() { return &a; }
};

// ---------------------------------------------------------------- columns with slices

// A deterministic garbage generator for the physical elements before a slice.
inline uint64_t garbage(uint64_t i) {
  uint64_t x = i * 0x9e3779b97f4a7c15ULL + 0x1234567;
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ULL;
  return x ^ (x >> 29);
}

// Validity of `lead` garbage bits followed by `valid`. Returns nullopt when `force` is false and
// every row is valid (no bitmap).
inline Bytes validity_bitmap(int64_t lead, const std::vector<bool>& valid) {
  const int64_t n = lead + static_cast<int64_t>(valid.size());
  Bytes bits(static_cast<size_t>((n + 7) / 8 + 8), 0);
  for (int64_t i = 0; i < n; ++i) {
    const bool v =
        i < lead ? (garbage(static_cast<uint64_t>(i)) & 1) : valid[static_cast<size_t>(i - lead)];
    if (v) bits[static_cast<size_t>(i >> 3)] |= static_cast<uint8_t>(1u << (i & 7));
  }
  // garbage past the end too
  for (size_t b = static_cast<size_t>(n >> 3) + 1; b < bits.size(); ++b) bits[b] = 0xA5;
  if (n & 7) bits[static_cast<size_t>(n >> 3)] |= static_cast<uint8_t>(0xFFu << (n & 7));
  return bits;
}

template <typename T>
inline int64_t count_nulls(const std::vector<std::optional<T>>& v) {
  int64_t n = 0;
  for (const auto& x : v) n += !x.has_value();
  return n;
}

template <typename T>
inline std::vector<bool> validity_of(const std::vector<std::optional<T>>& v) {
  std::vector<bool> out;
  for (const auto& x : v) out.push_back(x.has_value());
  return out;
}

// How a column is laid out physically.
struct Layout {
  int64_t offset = 0;        // the array's own offset
  int64_t parent_shift = 0;  // logical elements before row 0 due to enclosing structs' offsets
  bool bitmap = true;        // export a validity bitmap (forced when there are nulls)
  bool unknown_null_count = false;  // null_count = -1
  int64_t lead() const { return offset + parent_shift; }
};

// Fixed-width primitive (int8..int64, uint*, float, double, date32, timestamps...).
template <typename T>
ArrowArray primitive_array(ReleaseCounter* counter, const std::vector<std::optional<T>>& values,
                           Layout l = {}, T null_filler = T{}) {
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t lead = l.lead();
  Bytes data(static_cast<size_t>(lead + n) * sizeof(T) + 8);
  for (int64_t i = 0; i < lead + n; ++i) {
    T v;
    if (i < lead) {
      const uint64_t g = garbage(static_cast<uint64_t>(i) + 77);
      std::memcpy(&v, &g, sizeof(T));
      if constexpr (std::is_floating_point_v<T>)
        v = static_cast<T>(1e300);  // far outside test data
    } else {
      const auto& x = values[static_cast<size_t>(i - lead)];
      v = x ? *x : null_filler;
    }
    std::memcpy(data.data() + static_cast<size_t>(i) * sizeof(T), &v, sizeof(T));
  }
  const int64_t nulls = count_nulls(values);
  std::optional<Bytes> bitmap;
  if (l.bitmap || nulls > 0) bitmap = validity_bitmap(lead, validity_of(values));
  return make_array(counter, l.parent_shift + n, l.offset,
                    l.unknown_null_count ? -1 : (bitmap ? nulls : 0),
                    {std::move(bitmap), std::move(data)});
}

// Booleans, bit-packed.
inline ArrowArray bool_array(ReleaseCounter* counter,
                             const std::vector<std::optional<bool>>& values, Layout l = {}) {
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t lead = l.lead();
  std::vector<bool> bits;
  for (int64_t i = 0; i < lead; ++i) bits.push_back(true);     // garbage trues before the slice
  for (const auto& v : values) bits.push_back(v ? *v : true);  // nulls carry a "true" payload
  Bytes data(static_cast<size_t>((lead + n + 7) / 8 + 8), 0xFF);
  for (int64_t i = 0; i < lead + n; ++i) {
    if (!bits[static_cast<size_t>(i)])
      data[static_cast<size_t>(i >> 3)] &= static_cast<uint8_t>(~(1u << (i & 7)));
  }
  const int64_t nulls = count_nulls(values);
  std::optional<Bytes> bitmap;
  if (l.bitmap || nulls > 0) bitmap = validity_bitmap(lead, validity_of(values));
  return make_array(counter, l.parent_shift + n, l.offset,
                    l.unknown_null_count ? -1 : (bitmap ? nulls : 0),
                    {std::move(bitmap), std::move(data)});
}

// utf8 ("u") or binary ("z") with int32 offsets; large ("U"/"Z") with int64 offsets.
template <typename O = int32_t>
ArrowArray string_array(ReleaseCounter* counter,
                        const std::vector<std::optional<std::string>>& values, Layout l = {}) {
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t lead = l.lead();
  std::string chars;
  std::vector<O> offsets;
  // a non-zero first offset, as in a sliced array
  chars = "#junk#";
  offsets.push_back(static_cast<O>(chars.size()));
  for (int64_t i = 0; i < lead + n; ++i) {
    if (i < lead) {
      chars += "zzzz-garbage-" + std::to_string(i);  // sorts after every test string
    } else {
      const auto& v = values[static_cast<size_t>(i - lead)];
      if (v) {
        chars += *v;
      } else if (i % 2) {
        chars += "NULLPAYLOAD";  // a null may carry bytes
      }
    }
    offsets.push_back(static_cast<O>(chars.size()));
  }
  Bytes off(offsets.size() * sizeof(O));
  std::memcpy(off.data(), offsets.data(), off.size());
  Bytes data(chars.begin(), chars.end());
  const int64_t nulls = count_nulls(values);
  std::optional<Bytes> bitmap;
  if (l.bitmap || nulls > 0) bitmap = validity_bitmap(lead, validity_of(values));
  return make_array(counter, l.parent_shift + n, l.offset,
                    l.unknown_null_count ? -1 : (bitmap ? nulls : 0),
                    {std::move(bitmap), std::move(off), std::move(data)});
}

// A struct array with the given children (already laid out for this struct's offset).
inline ArrowArray struct_array(ReleaseCounter* counter, int64_t n, std::vector<ArrowArray> children,
                               const std::vector<bool>* valid = nullptr, Layout l = {}) {
  std::optional<Bytes> bitmap;
  int64_t nulls = 0;
  if (valid != nullptr) {
    bitmap = validity_bitmap(l.lead(), *valid);
    for (bool v : *valid) nulls += !v;
  }
  return make_array(counter, l.parent_shift + n, l.offset, l.unknown_null_count ? -1 : nulls,
                    {std::move(bitmap)}, std::move(children));
}

// ---------------------------------------------------------------- streams

struct StreamPrivate {
  std::function<ArrowSchema()> schema;
  std::vector<ArrowArray> batches;  // handed out in order (moved to the consumer)
  size_t next = 0;
  int64_t fail_at = -1;  // get_next returns an error at this batch index
  int schema_error = 0;
  std::string error;
  ReleaseCounter* counter = nullptr;
};

inline int stream_get_schema(ArrowArrayStream* s, ArrowSchema* out) {
  auto* p = static_cast<StreamPrivate*>(s->private_data);
  if (p->schema_error != 0) {
    p->error = "schema unavailable: the producer is closed";
    return p->schema_error;
  }
  *out = p->schema();
  return 0;
}

inline int stream_get_next(ArrowArrayStream* s, ArrowArray* out) {
  auto* p = static_cast<StreamPrivate*>(s->private_data);
  if (p->fail_at >= 0 && p->next == static_cast<size_t>(p->fail_at)) {
    p->error = "disk on fire while reading batch " + std::to_string(p->next);
    return 5;  // EIO
  }
  if (p->next >= p->batches.size()) {
    std::memset(out, 0, sizeof(*out));
    out->release = nullptr;
    return 0;
  }
  *out = p->batches[p->next];
  p->batches[p->next].release = nullptr;
  ++p->next;
  return 0;
}

inline const char* stream_last_error(ArrowArrayStream* s) {
  auto* p = static_cast<StreamPrivate*>(s->private_data);
  return p->error.empty() ? nullptr : p->error.c_str();
}

inline void stream_release(ArrowArrayStream* s) {
  if (s == nullptr || s->release == nullptr) return;
  auto* p = static_cast<StreamPrivate*>(s->private_data);
  for (auto& b : p->batches) release_array(&b);  // batches never handed out
  if (p->counter != nullptr) ++p->counter->released;
  delete p;
  s->private_data = nullptr;
  s->release = nullptr;
}

// Takes over `batches`.
inline ArrowArrayStream make_stream(ReleaseCounter* counter, std::function<ArrowSchema()> schema,
                                    std::vector<ArrowArray> batches, int64_t fail_at = -1,
                                    int schema_error = 0) {
  auto* p = new StreamPrivate;
  p->schema = std::move(schema);
  for (auto& b : batches) {
    p->batches.push_back(b);
    b.release = nullptr;
  }
  p->fail_at = fail_at;
  p->schema_error = schema_error;
  p->counter = counter;
  if (counter != nullptr) ++counter->created;
  ArrowArrayStream s{};
  s.get_schema = &stream_get_schema;
  s.get_next = &stream_get_next;
  s.get_last_error = &stream_last_error;
  s.release = &stream_release;
  s.private_data = p;
  return s;
}

// ---------------------------------------------------------------- expected exceptions

// Runs `fn`, which must throw E whose message contains each of `needles`; failures are non-fatal
// and reported at the caller's line. Returns the message (empty if nothing, or something other
// than E, was thrown) so callers can check more.
template <typename E, typename Fn>
std::string expect_throws(Fn&& fn, std::initializer_list<std::string_view> needles = {},
                          std::source_location loc = std::source_location::current()) {
  const std::string expected = "expected " + ::testing::internal::GetTypeName<E>();
  std::string msg;
  try {
    std::forward<Fn>(fn)();
    ADD_FAILURE_AT(loc.file_name(), loc.line()) << expected << ", nothing was thrown";
    return msg;
  } catch (const E& e) {
    msg = e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE_AT(loc.file_name(), loc.line())
        << expected << ", got " << ::testing::internal::GetTypeName(typeid(e)) << ": " << e.what();
    return msg;
  } catch (...) {
    ADD_FAILURE_AT(loc.file_name(), loc.line()) << expected << ", got an unknown exception";
    return msg;
  }
  for (std::string_view needle : needles) {
    if (msg.find(needle) == std::string::npos) {
      ADD_FAILURE_AT(loc.file_name(), loc.line())
          << "the message lacks \"" << needle << "\": " << msg;
    }
  }
  return msg;
}

}  // namespace truthound::testing

// ---------------------------------------------------------------- a minimal JSON reader

namespace truthound::testing::json {

// A parsed JSON value. Numbers keep their text so exact comparisons compare what was written.
struct Value {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  bool b = false;
  std::string text;  // number text or string contents
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members;

  bool is_null() const { return kind == kNull; }
  double num() const {
    if (kind != kNumber) throw std::runtime_error("not a number: " + dump());
    return std::strtod(text.c_str(), nullptr);
  }
  const Value& operator[](const std::string& key) const {
    for (const auto& [k, v] : members) {
      if (k == key) return v;
    }
    throw std::runtime_error("no key '" + key + "' in " + dump().substr(0, 200));
  }
  bool has(const std::string& key) const {
    for (const auto& [k, v] : members) {
      if (k == key) return true;
    }
    return false;
  }
  const Value& operator[](size_t i) const { return items.at(i); }
  size_t size() const { return kind == kArray ? items.size() : members.size(); }
  const std::string& str() const {
    if (kind != kString) throw std::runtime_error("not a string: " + dump());
    return text;
  }
  std::string dump() const {
    switch (kind) {
      case kNull:
        return "null";
      case kBool:
        return b ? "true" : "false";
      case kNumber:
        return text;
      case kString:
        return "\"" + text + "\"";
      case kArray: {
        std::string out = "[";
        for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i].dump();
        return out + "]";
      }
      case kObject: {
        std::string out = "{";
        for (size_t i = 0; i < members.size(); ++i) {
          out += (i ? ",\"" : "\"") + members[i].first + "\":" + members[i].second.dump();
        }
        return out + "}";
      }
    }
    return "";
  }
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}
  Value parse() {
    Value v = value();
    ws();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const char* why) {
    throw std::runtime_error(std::string("bad JSON at ") + std::to_string(i_) + ": " + why);
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }
  bool eat(char c) {
    ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail("unexpected character");
  }
  std::string string_body() {
    expect('"');
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail("unterminated string");
      char c = s_[i_++];
      if (c == '"') break;
      if (c == '\\') {
        if (i_ >= s_.size()) fail("bad escape");
        char e = s_[i_++];
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'u': {
            if (i_ + 4 > s_.size()) fail("bad \\u escape");
            unsigned cp =
                static_cast<unsigned>(std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16));
            i_ += 4;
            if (cp < 0x80) {
              out += static_cast<char>(cp);
            } else if (cp < 0x800) {
              out += static_cast<char>(0xC0 | (cp >> 6));
              out += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
              out += static_cast<char>(0xE0 | (cp >> 12));
              out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
              out += static_cast<char>(0x80 | (cp & 0x3F));
            }
            break;
          }
          default:
            out += e;
        }
      } else {
        out += c;
      }
    }
    return out;
  }
  Value value() {
    ws();
    if (i_ >= s_.size()) fail("unexpected end");
    Value v;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      v.kind = Value::kObject;
      if (eat('}')) return v;
      do {
        ws();
        std::string k = string_body();
        expect(':');
        v.members.emplace_back(std::move(k), value());
      } while (eat(','));
      expect('}');
    } else if (c == '[') {
      ++i_;
      v.kind = Value::kArray;
      if (eat(']')) return v;
      do {
        v.items.push_back(value());
      } while (eat(','));
      expect(']');
    } else if (c == '"') {
      v.kind = Value::kString;
      v.text = string_body();
    } else if (s_.substr(i_, 4) == "null") {
      i_ += 4;
    } else if (s_.substr(i_, 4) == "true") {
      i_ += 4;
      v.kind = Value::kBool;
      v.b = true;
    } else if (s_.substr(i_, 5) == "false") {
      i_ += 5;
      v.kind = Value::kBool;
    } else {
      const size_t start = i_;
      while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                                s_[i_] == '+' || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
        ++i_;
      }
      if (i_ == start) fail("unexpected character");
      v.kind = Value::kNumber;
      v.text = std::string(s_.substr(start, i_ - start));
    }
    return v;
  }

  std::string_view s_;
  size_t i_ = 0;
};

inline Value parse(std::string_view s) {
  return Parser(s).parse();
}

// The column object named `name` of a finalized profile (a copy, so a temporary profile is fine).
inline Value column(const Value& profile, const std::string& name) {
  for (const auto& c : profile["columns"].items) {
    if (c["name"].str() == name) return c;
  }
  throw std::runtime_error("no column '" + name + "'");
}

}  // namespace truthound::testing::json
