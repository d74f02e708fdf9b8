#include "truthound/util/json.hpp"

#include <cstdio>

#include "truthound/util/error.hpp"

namespace truthound {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

// Strings are escaped for JSON; bytes that are not valid UTF-8 become U+FFFD, so any reader
// (and Python's str) accepts the output.
void JsonWriter::write_string(std::string_view s) {
  out_ += '"';
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = utf8_sequence(s, i);
      if (n == 0) {
        out_ += "\ufffd";
        ++i;
      } else {
        out_.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      case '\b':
        out_ += "\\b";
        break;
      case '\f':
        out_ += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out_ += buf;
        } else {
          out_ += static_cast<char>(c);
        }
    }
    ++i;
  }
  out_ += '"';
}

namespace {

class FlatParser {
 public:
  explicit FlatParser(std::string_view t) : t_(t) {}

  std::map<std::string, JsonScalar> parse() {
    std::map<std::string, JsonScalar> out;
    ws();
    expect('{');
    ws();
    if (peek() == '}') {
      ++i_;
    } else {
      for (;;) {
        ws();
        std::string k = string();
        ws();
        expect(':');
        ws();
        out[k] = value();
        ws();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect('}');
        break;
      }
    }
    ws();
    if (i_ != t_.size()) fail("trailing characters");
    return out;
  }

 private:
  char peek() const { return i_ < t_.size() ? t_[i_] : '\0'; }
  void ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\t' || t_[i_] == '\r'))
      ++i_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw InvalidArgumentError("invalid options JSON at position " + std::to_string(i_) + ": " +
                               why);
  }
  std::string string() {
    expect('"');
    std::string s;
    while (i_ < t_.size() && t_[i_] != '"') {
      if (t_[i_] == '\\') {
        ++i_;
        if (i_ >= t_.size()) break;
        char e = t_[i_];
        s += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        s += t_[i_];
      }
      ++i_;
    }
    expect('"');
    return s;
  }
  JsonScalar value() {
    char c = peek();
    if (c == '"') return string();
    if (t_.substr(i_, 4) == "true") {
      i_ += 4;
      return true;
    }
    if (t_.substr(i_, 5) == "false") {
      i_ += 5;
      return false;
    }
    if (t_.substr(i_, 4) == "null") {
      i_ += 4;
      return nullptr;
    }
    double v = 0;
    auto [p, ec] = std::from_chars(t_.data() + i_, t_.data() + t_.size(), v);
    if (ec != std::errc()) fail("expected a number, string, boolean or null");
    i_ = static_cast<size_t>(p - t_.data());
    return v;
  }

  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

std::map<std::string, JsonScalar> parse_flat_json_object(std::string_view text) {
  return FlatParser(text).parse();
}

}  // namespace truthound
