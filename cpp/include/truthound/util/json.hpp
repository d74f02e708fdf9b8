// A small JSON writer for the finalized result model, and a reader for flat option objects.
// Doubles are written in their shortest round-trip form; NaN and infinities become null.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace truthound {

class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  JsonWriter& key(std::string_view k) {
    separator();
    write_string(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter& null() { return raw("null"); }
  JsonWriter& boolean(bool v) { return raw(v ? "true" : "false"); }
  JsonWriter& number(int64_t v) { return raw(std::to_string(v)); }
  JsonWriter& number(uint64_t v) { return raw(std::to_string(v)); }
  JsonWriter& number(double v) {
    if (!std::isfinite(v)) return null();
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    std::string_view s(buf, static_cast<size_t>(p - buf));
    // keep floats recognisable as floats for readers that care (1.0, not 1)
    if (s.find_first_of(".eE") == std::string_view::npos) return raw(std::string(s) + ".0");
    return raw(s);
  }
  JsonWriter& string(std::string_view v) {
    separator();
    write_string(v);
    return *this;
  }
  // A pre-rendered JSON fragment.
  JsonWriter& raw(std::string_view text) {
    separator();
    out_ += text;
    return *this;
  }
  template <typename T>
  JsonWriter& field(std::string_view k, T v) {
    key(k);
    if constexpr (std::is_same_v<T, bool>) {
      return boolean(v);
    } else if constexpr (std::is_floating_point_v<T>) {
      return number(static_cast<double>(v));
    } else if constexpr (std::is_signed_v<T>) {
      return number(static_cast<int64_t>(v));
    } else {
      return number(static_cast<uint64_t>(v));
    }
  }
  JsonWriter& field_null(std::string_view k) { return key(k).null(); }
  JsonWriter& field_string(std::string_view k, std::string_view v) { return key(k).string(v); }
  std::string take() { return std::move(out_); }
  const std::string& str() const { return out_; }

 private:
  JsonWriter& open(char c) {
    separator();
    out_ += c;
    first_ = true;
    return *this;
  }
  JsonWriter& close(char c) {
    out_ += c;
    first_ = false;
    return *this;
  }
  void separator() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_) out_ += ',';
    first_ = false;
  }
  void write_string(std::string_view s);

  std::string out_;
  bool first_ = true;
  bool after_key_ = false;
};

// A flat JSON object of scalars: {"top_n": 10, "patterns": true, "name": "x", "cols": null}.
using JsonScalar = std::variant<std::nullptr_t, bool, double, std::string>;
// Throws InvalidArgumentError with the position on malformed input.
std::map<std::string, JsonScalar> parse_flat_json_object(std::string_view text);

}  // namespace truthound
