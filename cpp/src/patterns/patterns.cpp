// Hand-written pattern matchers; see patterns.hpp for the accepted forms.
//
// Every matcher takes (s, n) as unsigned bytes, checks the length first where the form fixes it,
// and walks forward returning false at the first byte that cannot fit. match_patterns() first
// narrows the candidate set with one table-driven pass over the bytes, then runs only the
// remaining matchers; the candidate filter is a superset of the true matches by construction, so
// match_patterns(s) == OR of matches(p, s) (the tests check this on a large corpus).
#include "truthound/patterns/patterns.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace truthound {
namespace {

using uchar = unsigned char;

constexpr bool is_digit(uchar c) {
  return static_cast<unsigned>(c - '0') < 10u;
}
constexpr bool is_alpha(uchar c) {
  return static_cast<unsigned>((c | 0x20u) - 'a') < 26u;
}
constexpr bool is_upper(uchar c) {
  return static_cast<unsigned>(c - 'A') < 26u;
}
constexpr bool is_alnum(uchar c) {
  return is_digit(c) || is_alpha(c);
}
constexpr bool is_hex(uchar c) {
  return is_digit(c) || static_cast<unsigned>((c | 0x20u) - 'a') < 6u;
}
constexpr int digit_value(uchar c) {
  return c - '0';
}

// Index of the first non-digit at or after i.
inline size_t skip_digits(const uchar* s, size_t i, size_t n) {
  while (i < n && is_digit(s[i])) ++i;
  return i;
}

// Two digits at s[i], s[i+1] as a number, or -1.
inline int two_digits(const uchar* s, size_t i) {
  if (!is_digit(s[i]) || !is_digit(s[i + 1])) return -1;
  return digit_value(s[i]) * 10 + digit_value(s[i + 1]);
}

constexpr bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr int days_in_month(int y, int m) {
  constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

constexpr bool valid_date(int y, int m, int d) {
  return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

// RFC 5322 atext: letters, digits and !#$%&'*+-/=?^_`{|}~.
constexpr bool is_atext(uchar c) {
  if (is_alnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

// Bytes allowed in a URL's path, query and fragment.
constexpr bool is_url_char(uchar c) {
  if (c >= 0x80) return true;
  if (c <= 0x20 || c == 0x7F) return false;
  switch (c) {
    case '"':
    case '<':
    case '>':
    case '\\':
    case '^':
    case '`':
    case '{':
    case '|':
    case '}':
      return false;
    default:
      return true;
  }
}

// Byte classes for the scanning loops, one table load per byte instead of a chain of compares.
enum : uint8_t {
  kClsAtext = 1u << 0,  // RFC 5322 atext
  kClsLabel = 1u << 1,  // domain label byte: letter, digit, '-'
  kClsAlpha = 1u << 2,  // ASCII letter
  kClsDigit = 1u << 3,  // ASCII digit
  kClsUrl = 1u << 4,    // allowed in a URL path, query or fragment
};

constexpr std::array<uint8_t, 256> kByteClass = [] {
  std::array<uint8_t, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    const auto c = static_cast<uchar>(i);
    t[i] = static_cast<uint8_t>((is_atext(c) ? kClsAtext : 0) |
                                (is_alnum(c) || c == '-' ? kClsLabel : 0) |
                                (is_alpha(c) ? kClsAlpha : 0) | (is_digit(c) ? kClsDigit : 0) |
                                (is_url_char(c) ? kClsUrl : 0));
  }
  return t;
}();

inline bool has_class(uchar c, uint8_t cls) {
  return (kByteClass[c] & cls) != 0;
}

// ---------------------------------------------------------------------------------------------
// Network

bool match_ipv4(const uchar* s, size_t n) {
  if (n < 7 || n > 15) return false;
  size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (i >= n || s[i] != '.') return false;
      ++i;
    }
    const size_t start = i;
    int value = 0;
    while (i < n && i - start < 3 && is_digit(s[i])) value = value * 10 + digit_value(s[i++]);
    const size_t len = i - start;
    if (len == 0 || value > 255 || (len > 1 && s[start] == '0')) return false;
  }
  return i == n;
}

bool match_ipv6(const uchar* s, size_t n) {
  if (n < 2 || n > 45) return false;
  size_t i = 0;
  int groups = 0;
  bool compressed = false;
  if (s[0] == ':') {
    if (s[1] != ':') return false;
    compressed = true;
    i = 2;
    if (i == n) return true;
  }
  for (;;) {
    const size_t start = i;
    while (i < n && i - start < 4 && is_hex(s[i])) ++i;
    if (i == start) return false;
    if (i < n && s[i] == '.') {  // dotted IPv4 tail: two groups, and the end
      if (groups > 6 || !match_ipv4(s + start, n - start)) return false;
      groups += 2;
      break;
    }
    ++groups;
    if (i == n) break;
    if (s[i] != ':') return false;
    if (++i == n) return false;  // a single trailing ':'
    if (s[i] == ':') {
      if (compressed) return false;
      compressed = true;
      if (++i == n) break;
    }
    if (groups >= 8) return false;
  }
  return compressed ? groups <= 7 : groups == 8;
}

// Domain labels from s[i]: letters, digits, hyphens, not starting or ending with a hyphen, at most
// 63 bytes, separated by single dots. Stops at the first byte that is neither a label byte nor a
// dot followed by a label. Returns the end index, or 0 on a malformed label; reports the number of
// labels, whether the last label is all letters and its length, and whether every byte is a digit
// or dot.
struct DomainScan {
  size_t end = 0;
  int labels = 0;
  size_t last_len = 0;
  bool last_alpha = false;
  bool numeric = true;
};

DomainScan scan_domain(const uchar* s, size_t i, size_t n) {
  DomainScan r;
  for (;;) {
    const size_t start = i;
    uint8_t seen_and = 0xFF;  // classes shared by every byte of the label
    while (i < n && has_class(s[i], kClsLabel)) seen_and &= kByteClass[s[i++]];
    const bool alpha = (seen_and & kClsAlpha) != 0;
    r.numeric = r.numeric && (seen_and & kClsDigit) != 0;
    const size_t len = i - start;
    if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-') return DomainScan{};
    ++r.labels;
    r.last_len = len;
    r.last_alpha = alpha;
    if (i == n || s[i] != '.') break;
    ++i;
  }
  r.end = i;
  return r;
}

// The byte-at-a-time email matcher: the reference for the fast path below, and its fallback.
bool match_email_scalar(const uchar* s, size_t n) {
  if (n < 6 || n > 254) return false;  // a@b.cc
  size_t i = 0;
  size_t atom_start = 0;
  for (;; ++i) {
    if (i == n) return false;
    const uchar c = s[i];
    if (c == '@') break;
    if (c == '.') {
      if (i == atom_start) return false;  // leading or doubled dot
      atom_start = i + 1;
    } else if (!has_class(c, kClsAtext)) {
      return false;
    }
  }
  if (i == atom_start || i > 64) return false;  // empty local part or trailing dot
  const DomainScan d = scan_domain(s, i + 1, n);
  return d.end == n && d.labels >= 2 && d.last_alpha && d.last_len >= 2;
}

// Fast email path for 8..64 bytes: classify all bytes at once into 64-bit masks (bit i describes
// s[i]), then decide every rule with bit operations on the masks. Only "simple" bytes are handled:
// letters, digits and . @ - _ +; any other byte (the rarer atext symbols, spaces, non-ASCII) sends
// the string to match_email_scalar(), so the fast path never has to decide on them.
struct EmailMasks {
  uint64_t at = 0;      // '@'
  uint64_t dot = 0;     // '.'
  uint64_t hyphen = 0;  // '-'
  uint64_t alpha = 0;   // ASCII letter
  uint64_t label = 0;   // letter, digit or '-': a domain label byte
  uint64_t simple = 0;  // label bytes and . @ _ +
};

// The email rules on the masks of an n-byte string (8 <= n <= 64) whose bytes are all simple.
// Without the length limits, which a string of at most 64 bytes cannot break: a local part before
// the first '@' has at most 63 bytes, a domain label at most 62.
inline bool email_from_masks(const EmailMasks& m, size_t n) {
  const uint64_t all = n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
  if (m.at == 0) return false;
  const auto at = static_cast<unsigned>(std::countr_zero(m.at));  // the first '@'
  if (at == 0 || at + 1 >= n) return false;  // empty local part or empty domain
  const uint64_t local = (uint64_t{1} << at) - 1;
  const uint64_t domain = all & (~uint64_t{0} << (at + 1));
  const uint64_t first = uint64_t{1} << (at + 1);  // first domain byte
  // Local part: no dot at either end (bits 0 and at-1) and no dot followed by a dot (x & x >> 1
  // keeps the dots whose next byte is a dot; s[at] is '@', so a pair never leaves the part).
  const uint64_t ldot = m.dot & local;
  const uint64_t local_bad = ldot & ((ldot >> 1) | 1u | (uint64_t{1} << (at - 1)));
  // Domain: only label bytes and dots, no dot first or doubled (no empty label), and no label
  // starting or ending with '-' (no hyphen first or next to a dot). The last byte needs no test
  // here: the TLD test below wants it to be a letter.
  const uint64_t ddot = m.dot & domain;
  const uint64_t domain_bad = (domain & ~(m.label | m.dot)) | (ddot & ((ddot >> 1) | first)) |
                              (m.hyphen & (first | (ddot << 1) | (ddot >> 1)));
  if ((local_bad | domain_bad) != 0 || ddot == 0) return false;  // ddot == 0: a single label
  // The TLD: the bytes after the last dot, at least two, all letters.
  const auto last_dot = static_cast<unsigned>(63 - std::countl_zero(ddot));
  const uint64_t tld = all & (~uint64_t{0} << last_dot << 1);
  return last_dot + 3 <= n && (tld & ~m.alpha) == 0;
}

// Portable classifier, 8 bytes per step with one table load per byte, no branches. A table entry
// holds the byte's classes one per 8-bit lane (lane 0 '@', 1 '.', 2 '-', 3 letter, 4 label byte,
// 5 simple). Shifting the entry of byte i of the step left by i and or-ing the 8 entries transposes
// them: bit i of lane k then says whether byte i is in class k, so each lane is 8 mask bits.
constexpr std::array<uint64_t, 256> kEmailLanes = [] {
  std::array<uint64_t, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    const auto c = static_cast<uchar>(i);
    const bool label = is_alnum(c) || c == '-';
    const bool simple = label || c == '@' || c == '.' || c == '_' || c == '+';
    t[i] = uint64_t{c == '@'} | uint64_t{c == '.'} << 8 | uint64_t{c == '-'} << 16 |
           uint64_t{is_alpha(c)} << 24 | uint64_t{label} << 32 | uint64_t{simple} << 40;
  }
  return t;
}();

// Adds the classes of p[0..8) to m as mask bits o..o+7.
inline void email_masks_step(const uchar* p, unsigned o, EmailMasks& m) {
  const uint64_t a =
      kEmailLanes[p[0]] | kEmailLanes[p[1]] << 1 | kEmailLanes[p[2]] << 2 | kEmailLanes[p[3]] << 3;
  const uint64_t b = kEmailLanes[p[4]] << 4 | kEmailLanes[p[5]] << 5 | kEmailLanes[p[6]] << 6 |
                     kEmailLanes[p[7]] << 7;
  const uint64_t lanes = a | b;
  m.at |= (lanes & 0xFF) << o;
  m.dot |= (lanes >> 8 & 0xFF) << o;
  m.hyphen |= (lanes >> 16 & 0xFF) << o;
  m.alpha |= (lanes >> 24 & 0xFF) << o;
  m.label |= (lanes >> 32 & 0xFF) << o;
  m.simple |= (lanes >> 40 & 0xFF) << o;
}

// 8 <= n <= 64. Steps of 8 bytes, the last one ending at n and overlapping the one before (the
// overlapped bytes set the same bits twice), so nothing past s + n is read.
inline EmailMasks email_masks_portable(const uchar* s, size_t n) {
  EmailMasks m;
  size_t o = 0;
  for (; o + 8 < n; o += 8) email_masks_step(s + o, static_cast<unsigned>(o), m);
  email_masks_step(s + n - 8, static_cast<unsigned>(n - 8), m);
  return m;
}

// match_email with a given classifier: the masks for 8..64 bytes, the scalar matcher for other
// lengths (6 and 7 bytes, or longer than 64) and for strings with a byte outside the simple set.
template <EmailMasks (*Classify)(const uchar*, size_t)>
bool match_email_with(const uchar* s, size_t n) {
  if (n < 8 || n > 64) return match_email_scalar(s, n);
  const EmailMasks m = Classify(s, n);
  const uint64_t all = n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
  if (m.simple != all) return match_email_scalar(s, n);
  return email_from_masks(m, n);
}

#if defined(__SSE2__)
inline uint64_t load8(const uchar* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// The same classes, 16 bytes per SSE2 step (SSE2 is baseline on x86-64). SSE2 compares only signed
// bytes: the unsigned range test (c - lo) < k becomes (c - lo - 128) < -128 + k, signed.
inline void email_masks_vec(__m128i v, EmailMasks& m, auto place) {
  const __m128i at = _mm_cmpeq_epi8(v, _mm_set1_epi8('@'));
  const __m128i dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
  const __m128i hyphen = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
  const __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
  const __m128i alpha = _mm_cmplt_epi8(_mm_sub_epi8(lower, _mm_set1_epi8('a' + 0x80 - 256)),
                                       _mm_set1_epi8(-128 + 26));
  const __m128i digit =
      _mm_cmplt_epi8(_mm_sub_epi8(v, _mm_set1_epi8('0' + 0x80 - 256)), _mm_set1_epi8(-128 + 10));
  const __m128i label = _mm_or_si128(_mm_or_si128(alpha, digit), hyphen);
  const __m128i other =
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('_')), _mm_cmpeq_epi8(v, _mm_set1_epi8('+')));
  const __m128i simple = _mm_or_si128(_mm_or_si128(label, other), _mm_or_si128(at, dot));
  m.at |= place(_mm_movemask_epi8(at));
  m.dot |= place(_mm_movemask_epi8(dot));
  m.hyphen |= place(_mm_movemask_epi8(hyphen));
  m.alpha |= place(_mm_movemask_epi8(alpha));
  m.label |= place(_mm_movemask_epi8(label));
  m.simple |= place(_mm_movemask_epi8(simple));
}

// 8 <= n <= 64. Steps of 16 bytes, the last one ending at n (overlapping as in the portable
// version); below 16 bytes, one step holds bytes 0..7 and n-8..n-1.
inline EmailMasks email_masks_sse2(const uchar* s, size_t n) {
  EmailMasks m;
  if (n < 16) {
    const __m128i v =
        _mm_set_epi64x(static_cast<long long>(load8(s + n - 8)), static_cast<long long>(load8(s)));
    email_masks_vec(v, m, [n](int bits) {
      const auto b = static_cast<uint64_t>(bits);
      return (b & 0xFF) | (b >> 8 << (n - 8));
    });
    return m;
  }
  size_t o = 0;
  for (; o + 16 < n; o += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + o));
    email_masks_vec(v, m, [o](int bits) { return static_cast<uint64_t>(bits) << o; });
  }
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + n - 16));
  email_masks_vec(v, m, [n](int bits) { return static_cast<uint64_t>(bits) << (n - 16); });
  return m;
}

constexpr auto match_email = match_email_with<email_masks_sse2>;
#else
constexpr auto match_email = match_email_with<email_masks_portable>;
#endif

// Case-insensitive prefix test against a lowercase literal.
inline bool starts_with_ci(const uchar* s, size_t n, std::string_view lit) {
  if (n < lit.size()) return false;
  for (size_t i = 0; i < lit.size(); ++i) {
    const uchar c = s[i];
    const uchar l = static_cast<uchar>(lit[i]);
    if (c != l && !(is_alpha(l) && (c | 0x20u) == l)) return false;
  }
  return true;
}

bool match_url(const uchar* s, size_t n) {
  size_t i;
  if (starts_with_ci(s, n, "http://")) {
    i = 7;
  } else if (starts_with_ci(s, n, "https://")) {
    i = 8;
  } else if (starts_with_ci(s, n, "ftp://")) {
    i = 6;
  } else {
    return false;
  }
  if (i == n) return false;
  if (s[i] == '[') {
    const size_t start = ++i;
    while (i < n && (is_hex(s[i]) || s[i] == ':' || s[i] == '.')) ++i;
    if (i == n || s[i] != ']' || !match_ipv6(s + start, i - start)) return false;
    ++i;
  } else {
    const size_t start = i;
    const DomainScan d = scan_domain(s, i, n);
    if (d.end == 0) return false;
    if (d.numeric && !match_ipv4(s + start, d.end - start)) return false;
    i = d.end;
  }
  if (i < n && s[i] == ':') {
    const size_t start = ++i;
    unsigned port = 0;
    while (i < n && i - start < 5 && is_digit(s[i])) port = port * 10 + digit_value(s[i++]);
    if (i == start || port > 65535) return false;
  }
  if (i == n) return true;
  if (s[i] != '/' && s[i] != '?' && s[i] != '#') return false;
  for (; i < n; ++i) {
    if (!has_class(s[i], kClsUrl)) return false;
  }
  return true;
}

// Per byte of the 8 bytes at p: 0x80 if it is a hex digit, 0x80 in `dashes` if it is '-'.
// SWAR: with every byte below 0x80, adding (0x80 - lo) sets a byte's high bit iff it is >= lo,
// without carrying into the next byte.
inline uint64_t hex_flags(const uchar* p, uint64_t& dashes) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big)
    w = __builtin_bswap64(w);         // byte i: bits 8i..
  const uint64_t ascii = ~w & kHigh;  // bytes >= 0x80 are neither
  const uint64_t x = w & ~kHigh;
  auto at_least = [&](uint64_t v, unsigned lo) { return (v + (0x80 - lo) * kOnes) & kHigh; };
  const uint64_t lower = x | (0x20 * kOnes);  // 'A'-'F' -> 'a'-'f'; digits already have 0x20
  const uint64_t digit = at_least(x, '0') & ~at_least(x, '9' + 1);
  const uint64_t alpha = at_least(lower, 'a') & ~at_least(lower, 'f' + 1);
  const uint64_t eq = x ^ ('-' * kOnes);  // zero bytes where '-'
  dashes = ~at_least(eq, 1) & ascii;
  return (digit | alpha) & ascii;
}

bool match_uuid(const uchar* s, size_t n) {
  if (n == 38) {
    if (s[0] != '{' || s[37] != '}') return false;
    ++s;
    n = 36;
  }
  if (n != 36) return false;
  // Five overlapping words cover the 36 bytes; hyphens at 8, 13, 18 and 23, hex digits elsewhere.
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  constexpr uint64_t kDash8 = 0x0000800000000080ULL;   // bytes 8 and 13 of the word at 8
  constexpr uint64_t kDash16 = 0x8000000000800000ULL;  // bytes 18 and 23 of the word at 16
  constexpr size_t kAt[5] = {0, 8, 16, 24, 28};
  constexpr uint64_t kDashes[5] = {0, kDash8, kDash16, 0, 0};
  bool ok = true;
  for (size_t k = 0; k < 5; ++k) {
    uint64_t dashes;
    const uint64_t hex = hex_flags(s + kAt[k], dashes);
    ok &= (dashes == kDashes[k]) & ((hex | dashes) == kHigh);
  }
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Phone numbers

bool match_phone(const uchar* s, size_t n) {
  if (n < 7 || n > 26) return false;
  size_t i = 0;
  const bool plus = s[0] == '+';
  if (plus) {
    i = 1;
    if (s[1] < '1' || s[1] > '9') return false;
  }
  // National group limits, checked as each group ends: first 1-5 digits, later ones 3-8.
  const size_t max_first = plus ? 15 : 5;
  const size_t min_later = plus ? 1 : 3;
  const size_t max_later = plus ? 15 : 8;
  size_t digits = 0;
  int groups = 0;
  uchar sep = 0;  // the one non-space separator in use ('-' or '.')
  bool paren_used = false;
  size_t first_len = 0;
  size_t last_len = 0;
  bool first_zero = false;
  bool first_paren = false;
  for (;;) {
    bool paren = false;
    if (s[i] == '(') {
      if (paren_used || groups > 1) return false;
      paren = paren_used = true;
      if (++i == n) return false;
    }
    const size_t start = i;
    i = skip_digits(s, i, n);
    const size_t len = i - start;
    if (groups == 0) {
      if (len == 0 || len > max_first) return false;
      first_len = len;
      first_zero = s[start] == '0';
      first_paren = paren;
    } else if (len < min_later || len > max_later) {
      return false;
    }
    digits += len;
    if (paren) {
      if (i == n || s[i] != ')') return false;
      ++i;
    }
    last_len = len;
    ++groups;
    if (i == n) break;
    const uchar c = s[i];
    if (c == ' ' || c == '-' || c == '.') {
      if (c != ' ') {
        if (sep != 0 && sep != c) return false;
        sep = c;
      }
      if (++i == n) return false;
    } else if (!(paren && is_digit(c)) && c != '(') {
      return false;
    }
  }
  if (sep == '.' && groups < 3) return false;
  if (plus) return digits >= 8 && digits <= 15;
  if (digits < 7 || digits > 15 || groups < 2 || last_len < 4) return false;
  return groups > 2 || first_paren || first_zero || first_len == 3;
}

// Korean subscriber prefix of the national number d[0, len) (leading 0 included): returns the
// prefix length (2-4), or 0 if d does not start with a known prefix.
size_t korean_prefix(const uchar* d, size_t len) {
  if (len < 2 || d[0] != '0') return 0;
  const uchar a = d[1];
  if (a == '2') return 2;  // Seoul
  if (len < 3) return 0;
  const uchar b = d[2];
  switch (a) {
    case '1':  // mobile 010, 011, 016-019
      return (b == '0' || b == '1' || (b >= '6' && b <= '9')) ? 3 : 0;
    case '3':
      return (b >= '1' && b <= '3') ? 3 : 0;
    case '4':
      return (b >= '1' && b <= '4') ? 3 : 0;
    case '5':
      if (b >= '1' && b <= '5') return 3;
      if (b == '0' && len >= 4 && d[3] >= '2' && d[3] <= '8') return 4;  // 0502-0508
      return 0;
    case '6':
      return (b >= '1' && b <= '4') ? 3 : 0;
    case '7':
    case '8':
      return b == '0' ? 3 : 0;  // 070, 080
    default:
      return 0;
  }
}

bool match_korean_phone(const uchar* s, size_t n) {
  if (n < 8 || n > 17) return false;
  uchar d[13];
  size_t nd = 0;
  size_t i = 0;
  const bool intl = s[0] == '+';
  if (intl) {
    if (s[1] != '8' || s[2] != '2') return false;
    i = 3;
    if (s[i] == ' ' || s[i] == '-') ++i;
    if (i == n || s[i] == '0') return false;
    d[nd++] = '0';
  }
  size_t group_len[3] = {0, 0, 0};
  int groups = 0;
  uchar sep = 0;
  for (;;) {
    const size_t start = i;
    while (i < n && is_digit(s[i])) {
      if (nd == sizeof d) return false;
      d[nd++] = s[i++];
    }
    if (i == start || groups == 3) return false;
    group_len[groups++] = i - start;
    if (i == n) break;
    const uchar c = s[i];
    if (c != '-' && c != ' ' && c != '.') return false;
    if (sep != 0 && sep != c) return false;
    sep = c;
    if (++i == n) return false;
  }
  if (!intl && d[0] == '1') {  // representative numbers 15xx/16xx/18xx-xxxx
    if (d[1] != '5' && d[1] != '6' && d[1] != '8') return false;
    return nd == 8 && (groups == 1 || (groups == 2 && group_len[0] == 4));
  }
  const size_t prefix = korean_prefix(d, nd);
  if (prefix == 0) return false;
  const size_t rest = nd - prefix;
  if (rest != 7 && rest != 8) return false;
  if (groups == 1) return true;
  const size_t first = group_len[0] + (intl ? 1 : 0);
  return groups == 3 && first == prefix && group_len[2] == 4;
}

// ---------------------------------------------------------------------------------------------
// Dates and times

// YYYY-MM-DD at s[0, 10).
bool date_at(const uchar* s) {
  if (s[4] != '-' || s[7] != '-') return false;
  const int hi = two_digits(s, 0);
  const int lo = two_digits(s, 2);
  const int m = two_digits(s, 5);
  const int d = two_digits(s, 8);
  if (hi < 0 || lo < 0 || m < 0 || d < 0) return false;
  return valid_date(hi * 100 + lo, m, d);
}

bool match_iso_date(const uchar* s, size_t n) {
  return n == 10 && date_at(s);
}

bool match_iso_datetime(const uchar* s, size_t n) {
  if (n < 16 || n > 35) return false;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return false;
  if (!date_at(s)) return false;
  const int hh = two_digits(s, 11);
  const int mm = two_digits(s, 14);
  if (hh < 0 || hh > 23 || s[13] != ':' || mm < 0 || mm > 59) return false;
  size_t i = 16;
  if (i < n && s[i] == ':') {
    if (i + 3 > n) return false;
    const int ss = two_digits(s, i + 1);
    if (ss < 0 || ss > 60) return false;
    i += 3;
    if (i < n && s[i] == '.') {
      const size_t start = ++i;
      i = skip_digits(s, i, n);
      if (i == start || i - start > 9) return false;
    }
  }
  if (i == n) return true;
  if (s[i] == 'Z' || s[i] == 'z') return i + 1 == n;
  if (s[i] != '+' && s[i] != '-') return false;
  ++i;
  if (i + 2 > n) return false;
  const int oh = two_digits(s, i);
  if (oh < 0 || oh > 23) return false;
  i += 2;
  if (i == n) return true;
  if (s[i] == ':') ++i;
  if (i + 2 != n) return false;
  const int om = two_digits(s, i);
  return om >= 0 && om <= 59;
}

// ---------------------------------------------------------------------------------------------
// Numbers and words

bool match_integer(const uchar* s, size_t n) {
  size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i == n) return false;
  return skip_digits(s, i, n) == n;
}

bool match_float(const uchar* s, size_t n) {
  size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  const size_t int_start = i;
  i = skip_digits(s, i, n);
  size_t mantissa_digits = i - int_start;
  bool dot = false;
  if (i < n && s[i] == '.') {
    dot = true;
    const size_t frac_start = ++i;
    i = skip_digits(s, i, n);
    mantissa_digits += i - frac_start;
  }
  if (mantissa_digits == 0) return false;
  if (i == n) return dot;
  if (s[i] != 'e' && s[i] != 'E') return false;
  ++i;
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  const size_t exp_start = i;
  i = skip_digits(s, i, n);
  return i > exp_start && i == n;
}

bool match_boolean(const uchar* s, size_t n) {
  auto eq = [s](std::string_view lit) {  // lit is lowercase letters
    for (size_t i = 0; i < lit.size(); ++i) {
      if ((s[i] | 0x20u) != static_cast<uchar>(lit[i])) return false;
    }
    return true;
  };
  switch (n) {
    case 1: {
      const unsigned c = s[0] | 0x20u;
      return c == 't' || c == 'f' || c == 'y' || c == 'n';
    }
    case 2:
      return eq("no");
    case 3:
      return eq("yes");
    case 4:
      return eq("true");
    case 5:
      return eq("false");
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON: recursive descent over one object or array, no allocation.

constexpr int kJsonMaxDepth = 64;

class JsonScanner {
 public:
  JsonScanner(const uchar* s, size_t n) : p_(s), end_(s + n) {}

  bool document() {
    if (p_ == end_ || (*p_ != '{' && *p_ != '[')) return false;
    return value(0) && p_ == end_;
  }

 private:
  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool literal(std::string_view lit) {
    if (static_cast<size_t>(end_ - p_) < lit.size()) return false;
    for (const char c : lit) {
      if (*p_++ != static_cast<uchar>(c)) return false;
    }
    return true;
  }

  bool value(int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }

  bool object(int depth) {
    if (depth > kJsonMaxDepth) return false;
    ++p_;  // '{'
    skip_ws();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"' || !string()) return false;
      skip_ws();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skip_ws();
      if (!value(depth)) return false;
      skip_ws();
      if (p_ == end_) return false;
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      skip_ws();
    }
  }

  bool array(int depth) {
    if (depth > kJsonMaxDepth) return false;
    ++p_;  // '['
    skip_ws();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      if (!value(depth)) return false;
      skip_ws();
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      skip_ws();
    }
  }

  bool string() {
    ++p_;  // '"'
    while (p_ != end_) {
      const uchar c = *p_++;
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (p_ == end_) return false;
      switch (*p_++) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          break;
        case 'u':
          if (end_ - p_ < 4) return false;
          for (int k = 0; k < 4; ++k) {
            if (!is_hex(*p_++)) return false;
          }
          break;
        default:
          return false;
      }
    }
    return false;
  }

  size_t digits() {
    const uchar* start = p_;
    while (p_ != end_ && is_digit(*p_)) ++p_;
    return static_cast<size_t>(p_ - start);
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool number() {
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_ || !is_digit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      digits();
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (digits() == 0) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (digits() == 0) return false;
    }
    return true;
  }

  const uchar* p_;
  const uchar* end_;
};

bool match_json(const uchar* s, size_t n) {
  return n >= 2 && JsonScanner(s, n).document();
}

// ---------------------------------------------------------------------------------------------
// Currency and percentages

constexpr uint32_t pack3(const char* c) {
  return (static_cast<uint32_t>(static_cast<uchar>(c[0])) << 16) |
         (static_cast<uint32_t>(static_cast<uchar>(c[1])) << 8) |
         static_cast<uint32_t>(static_cast<uchar>(c[2]));
}

// Active ISO 4217 currency codes, sorted.
constexpr std::string_view kIsoCodes =
    "AEDAFNALLAMDANGAOAARSAUDAWGAZNBAMBBDBDTBGNBHDBIFBMDBNDBOBBRLBSDBTNBWPBYNBZDCADCDFCHFCLP"
    "CNYCOPCRCCUPCVECZKDJFDKKDOPDZDEGPERNETBEURFJDFKPGBPGELGHSGIPGMDGNFGTQGYDHKDHNLHTGHUFIDR"
    "ILSINRIQDIRRISKJMDJODJPYKESKGSKHRKMFKPWKRWKWDKYDKZTLAKLBPLKRLRDLSLLYDMADMDLMGAMKDMMKMNT"
    "MOPMRUMURMVRMWKMXNMYRMZNNADNGNNIONOKNPRNZDOMRPABPENPGKPHPPKRPLNPYGQARRONRSDRUBRWFSARSBD"
    "SCRSDGSEKSGDSHPSLESLLSOSSRDSSPSTNSVCSYPSZLTHBTJSTMTTNDTOPTRYTTDTWDTZSUAHUGXUSDUYUUZSVES"
    "VNDVUVWSTXAFXCDXOFXPFYERZARZMWZWL";
constexpr size_t kIsoCodeCount = kIsoCodes.size() / 3;

constexpr std::array<uint32_t, kIsoCodeCount> make_iso_codes() {
  std::array<uint32_t, kIsoCodeCount> codes{};
  for (size_t i = 0; i < kIsoCodeCount; ++i) codes[i] = pack3(kIsoCodes.data() + 3 * i);
  return codes;
}
constexpr std::array<uint32_t, kIsoCodeCount> kIsoCodeTable = make_iso_codes();
static_assert(kIsoCodes.size() % 3 == 0);
static_assert(std::is_sorted(kIsoCodeTable.begin(), kIsoCodeTable.end()));

// Is s[i, i+3) an ISO 4217 code?
bool iso_code_at(const uchar* s, size_t i, size_t n) {
  if (i + 3 > n || !is_upper(s[i]) || !is_upper(s[i + 1]) || !is_upper(s[i + 2])) return false;
  const uint32_t key = (static_cast<uint32_t>(s[i]) << 16) |
                       (static_cast<uint32_t>(s[i + 1]) << 8) | static_cast<uint32_t>(s[i + 2]);
  return std::binary_search(kIsoCodeTable.begin(), kIsoCodeTable.end(), key);
}

// Length of the currency symbol at s[i] ($ € £ ¥ ₩ ₹ in UTF-8), or 0.
size_t symbol_at(const uchar* s, size_t i, size_t n) {
  if (i >= n) return 0;
  if (s[i] == '$') return 1;
  if (s[i] == 0xC2 && i + 1 < n && (s[i + 1] == 0xA3 || s[i + 1] == 0xA5)) return 2;  // £ ¥
  if (s[i] == 0xE2 && i + 2 < n && s[i + 1] == 0x82 &&
      (s[i + 2] == 0xAC || s[i + 2] == 0xA9 || s[i + 2] == 0xB9)) {
    return 3;  // € ₩ ₹
  }
  return 0;
}

// Is s[i, i+3) the Korean currency word 원 (U+C6D0)?
bool won_at(const uchar* s, size_t i, size_t n) {
  return i + 3 <= n && s[i] == 0xEC && s[i + 1] == 0x9B && s[i + 2] == 0x90;
}

// Does s[i, i+3) hold exactly three digits not followed by a digit?
inline bool group3_at(const uchar* s, size_t i, size_t n) {
  return i + 3 <= n && is_digit(s[i]) && is_digit(s[i + 1]) && is_digit(s[i + 2]) &&
         (i + 3 == n || !is_digit(s[i + 3]));
}

// An unsigned amount at s[i]: digits with optional thousands groups (',' or '.') and optional
// decimals (the other of the two). Returns the end index, or 0 if no amount starts at i.
size_t scan_amount(const uchar* s, size_t i, size_t n) {
  const size_t start = i;
  i = skip_digits(s, i, n);
  const size_t lead = i - start;
  if (lead == 0) return 0;
  uchar decimal_marks[2] = {'.', ','};
  if (lead <= 3 && i < n && (s[i] == ',' || s[i] == '.') && group3_at(s, i + 1, n)) {
    const uchar group = s[i];
    while (i < n && s[i] == group && group3_at(s, i + 1, n)) i += 4;
    decimal_marks[0] = decimal_marks[1] = (group == ',') ? '.' : ',';
  }
  if (i + 1 < n && (s[i] == decimal_marks[0] || s[i] == decimal_marks[1]) && is_digit(s[i + 1])) {
    i = skip_digits(s, i + 1, n);
  }
  return i;
}

bool match_currency(const uchar* s, size_t n) {
  if (n < 2) return false;
  size_t i = 0;
  bool signed_ = false;
  if (s[0] == '-' || s[0] == '+') {
    signed_ = true;
    i = 1;
  }
  size_t unit = symbol_at(s, i, n);
  if (unit == 0 && iso_code_at(s, i, n)) unit = 3;
  if (unit != 0) {  // prefix form: [sign] unit [space] [sign] amount
    i += unit;
    if (i < n && s[i] == ' ') ++i;
    if (!signed_ && i < n && (s[i] == '-' || s[i] == '+')) ++i;
    const size_t end = scan_amount(s, i, n);
    return end != 0 && end == n;
  }
  // suffix form: [sign] amount [space] unit
  i = scan_amount(s, i, n);
  if (i == 0 || i == n) return false;
  if (s[i] == ' ') ++i;
  if (i == n) return false;
  const size_t sym = symbol_at(s, i, n);
  if (sym != 0) return i + sym == n;
  if (won_at(s, i, n) || iso_code_at(s, i, n)) return i + 3 == n;
  return false;
}

bool match_percentage(const uchar* s, size_t n) {
  if (n < 2) return false;
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  const size_t int_start = i;
  i = skip_digits(s, i, n);
  const size_t int_digits = i - int_start;
  if (i < n && s[i] == '.') {
    const size_t frac_start = ++i;
    i = skip_digits(s, i, n);
    if (i == frac_start) return false;
  } else if (int_digits == 0) {
    return false;
  }
  if (i < n && s[i] == ' ') ++i;
  return i + 1 == n && s[i] == '%';
}

// ---------------------------------------------------------------------------------------------
// Identification numbers

bool luhn_valid(const uchar* d, size_t nd) {
  unsigned sum = 0;
  bool twice = false;
  for (size_t k = nd; k-- > 0;) {
    unsigned v = d[k];
    if (twice) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    twice = !twice;
  }
  return sum % 10 == 0;
}

// Known issuer prefix for a card number of nd digits d (values 0-9)?
bool card_issuer_valid(const uchar* d, size_t nd) {
  const unsigned p2 = d[0] * 10u + d[1];
  const unsigned p3 = p2 * 10u + d[2];
  const unsigned p4 = p3 * 10u + d[3];
  const bool len_16_19 = nd >= 16 && nd <= 19;
  switch (d[0]) {
    case 4:  // Visa
      return nd == 13 || nd == 16 || nd == 19;
    case 2:  // Mastercard 2-series
      return nd == 16 && p4 >= 2221 && p4 <= 2720;
    case 3:
      if (p2 == 34 || p2 == 37) return nd == 15;                                          // Amex
      if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) return nd >= 14;  // Diners
      if (p4 >= 3528 && p4 <= 3589) return len_16_19;                                     // JCB
      return false;
    case 5:
      if (p2 >= 51 && p2 <= 55) return nd == 16;            // Mastercard
      if (p2 == 50 || (p2 >= 56 && p2 <= 58)) return true;  // Maestro
      return false;
    case 6:
      if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65) return len_16_19;  // Discover
      if (p2 == 62) return len_16_19;                                            // UnionPay
      if (p2 == 67) return true;                                                 // Maestro
      return false;
    default:
      return false;
  }
}

bool match_credit_card(const uchar* s, size_t n) {
  if (n < 13 || n > 23) return false;
  uchar d[19];
  size_t nd = 0;
  size_t i = 0;
  uchar sep = 0;
  for (;;) {
    const size_t start = i;
    while (i < n && is_digit(s[i])) {
      if (nd == sizeof d) return false;
      d[nd++] = static_cast<uchar>(s[i++] - '0');
    }
    const size_t len = i - start;
    if (len == 0) return false;
    if (i == n) break;
    if (len < 4 || len > 6) return false;  // a group before a separator
    const uchar c = s[i];
    if ((c != ' ' && c != '-') || (sep != 0 && sep != c)) return false;
    sep = c;
    ++i;
  }
  return nd >= 13 && card_issuer_valid(d, nd) && luhn_valid(d, nd);
}

bool match_korean_rrn(const uchar* s, size_t n) {
  uchar d[13];
  if (n == 14) {
    if (s[6] != '-') return false;
  } else if (n != 13) {
    return false;
  }
  for (size_t i = 0, k = 0; i < n; ++i) {
    if (n == 14 && i == 6) continue;
    if (!is_digit(s[i])) return false;
    d[k++] = static_cast<uchar>(s[i] - '0');
  }
  const int g = d[6];
  if (g < 1 || g > 8) return false;
  const int century = (g == 1 || g == 2 || g == 5 || g == 6) ? 1900 : 2000;
  if (!valid_date(century + d[0] * 10 + d[1], d[2] * 10 + d[3], d[4] * 10 + d[5])) return false;
  constexpr int kWeights[12] = {2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5};
  int sum = 0;
  for (int k = 0; k < 12; ++k) sum += d[k] * kWeights[k];
  return (11 - sum % 11) % 10 == d[12];
}

bool match_korean_business_number(const uchar* s, size_t n) {
  uchar d[10];
  if (n == 12) {
    if (s[3] != '-' || s[6] != '-') return false;
  } else if (n != 10) {
    return false;
  }
  for (size_t i = 0, k = 0; i < n; ++i) {
    if (n == 12 && (i == 3 || i == 6)) continue;
    if (!is_digit(s[i])) return false;
    d[k++] = static_cast<uchar>(s[i] - '0');
  }
  constexpr int kWeights[9] = {1, 3, 7, 1, 3, 7, 1, 3, 5};
  int sum = 0;
  for (int k = 0; k < 9; ++k) sum += d[k] * kWeights[k];
  sum += d[8] * 5 / 10;
  return (10 - sum % 10) % 10 == d[9];
}

// ---------------------------------------------------------------------------------------------
// Dispatch

using Matcher = bool (*)(const uchar*, size_t);

constexpr std::array<Matcher, kPatternCount> kMatchers = {
    match_email,      match_url,          match_uuid,
    match_ipv4,       match_ipv6,         match_phone,
    match_iso_date,   match_iso_datetime, match_integer,
    match_float,      match_boolean,      match_json,
    match_currency,   match_percentage,   match_credit_card,
    match_korean_rrn, match_korean_phone, match_korean_business_number,
};

constexpr std::array<std::string_view, kPatternCount> kNames = {
    "email",
    "url",
    "uuid",
    "ipv4",
    "ipv6",
    "phone",
    "iso_date",
    "iso_datetime",
    "integer_string",
    "float_string",
    "boolean_string",
    "json",
    "currency_string",
    "percentage_string",
    "credit_card",
    "korean_rrn",
    "korean_phone",
    "korean_business_number",
};

constexpr uint32_t bit(Pattern p) {
  return pattern_bit(p);
}

// Presence classes: bytes some pattern cannot do without.
enum : uint32_t {
  kHasAt = 1u << 0,         // '@'
  kHasColon = 1u << 1,      // ':'
  kHasDash = 1u << 2,       // '-'
  kHasDot = 1u << 3,        // '.'
  kHasPercent = 1u << 4,    // '%'
  kHasFloatMark = 1u << 5,  // '.', 'e', 'E'
  kHasPhoneMark = 1u << 6,  // '+', '(', ' ', '-', '.'
  kHasUnit = 1u << 7,       // '$', A-Z, bytes >= 0x80
  kHasSlash = 1u << 8,      // '/'
};

// Which patterns may contain byte c anywhere (a superset).
constexpr uint32_t allowed_by(uchar c) {
  uint32_t m = bit(Pattern::kJson);
  if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') m = 0;
  const bool digit = is_digit(c);
  if (is_atext(c) || c == '.' || c == '@') m |= bit(Pattern::kEmail);
  if (is_url_char(c) || c == '[' || c == ']') m |= bit(Pattern::kUrl);
  if (is_hex(c) || c == '-' || c == '{' || c == '}') m |= bit(Pattern::kUuid);
  if (digit || c == '.') m |= bit(Pattern::kIpv4);
  if (is_hex(c) || c == ':' || c == '.') m |= bit(Pattern::kIpv6);
  if (digit || c == '+' || c == '(' || c == ')' || c == ' ' || c == '-' || c == '.') {
    m |= bit(Pattern::kPhone);
  }
  if (digit || c == '-') m |= bit(Pattern::kIsoDate);
  if (digit || c == '-' || c == ':' || c == 'T' || c == 't' || c == ' ' || c == '.' || c == 'Z' ||
      c == 'z' || c == '+') {
    m |= bit(Pattern::kIsoDatetime);
  }
  if (digit || c == '+' || c == '-') m |= bit(Pattern::kIntegerString);
  if (digit || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E') {
    m |= bit(Pattern::kFloatString);
  }
  for (const char b : std::string_view("truefalsyno")) {
    if ((c | 0x20u) == static_cast<uchar>(b)) m |= bit(Pattern::kBooleanString);
  }
  if (digit || c == ',' || c == '.' || c == ' ' || c == '-' || c == '+' || c == '$' ||
      is_upper(c) || c == 0x82 || c == 0x90 || c == 0x9B || c == 0xA3 || c == 0xA5 || c == 0xA9 ||
      c == 0xAC || c == 0xB9 || c == 0xC2 || c == 0xE2 || c == 0xEC) {
    m |= bit(Pattern::kCurrencyString);
  }
  if (digit || c == '+' || c == '-' || c == '.' || c == ' ' || c == '%') {
    m |= bit(Pattern::kPercentageString);
  }
  if (digit || c == ' ' || c == '-') m |= bit(Pattern::kCreditCard);
  if (digit || c == '-') m |= bit(Pattern::kKoreanRrn) | bit(Pattern::kKoreanBusinessNumber);
  if (digit || c == '+' || c == '-' || c == ' ' || c == '.') m |= bit(Pattern::kKoreanPhone);
  return m;
}

constexpr uint32_t present_class(uchar c) {
  uint32_t m = 0;
  if (c == '@') m |= kHasAt;
  if (c == ':') m |= kHasColon;
  if (c == '-') m |= kHasDash;
  if (c == '.') m |= kHasDot;
  if (c == '%') m |= kHasPercent;
  if (c == '.' || c == 'e' || c == 'E') m |= kHasFloatMark;
  if (c == '+' || c == '(' || c == ' ' || c == '-' || c == '.') m |= kHasPhoneMark;
  if (c == '$' || is_upper(c) || c >= 0x80) m |= kHasUnit;
  if (c == '/') m |= kHasSlash;
  return m;
}

// Which patterns may start with byte c.
constexpr uint32_t starts_with(uchar c) {
  uint32_t m = 0;
  const bool digit = is_digit(c);
  const uint32_t numeric = bit(Pattern::kIntegerString) | bit(Pattern::kFloatString) |
                           bit(Pattern::kPercentageString) | bit(Pattern::kCurrencyString);
  if (is_atext(c)) m |= bit(Pattern::kEmail);
  if ((c | 0x20u) == 'h' || (c | 0x20u) == 'f') m |= bit(Pattern::kUrl);
  if (is_hex(c) || c == '{') m |= bit(Pattern::kUuid);
  if (is_hex(c) || c == ':') m |= bit(Pattern::kIpv6);
  if (digit) {
    m |= numeric | bit(Pattern::kIpv4) | bit(Pattern::kPhone) | bit(Pattern::kIsoDate) |
         bit(Pattern::kIsoDatetime) | bit(Pattern::kKoreanRrn) |
         bit(Pattern::kKoreanBusinessNumber);
    if (c >= '2' && c <= '6') m |= bit(Pattern::kCreditCard);
    if (c == '0' || c == '1') m |= bit(Pattern::kKoreanPhone);
  }
  if (c == '+') m |= numeric | bit(Pattern::kPhone) | bit(Pattern::kKoreanPhone);
  if (c == '-') m |= numeric;
  if (c == '.') m |= bit(Pattern::kFloatString) | bit(Pattern::kPercentageString);
  if (c == '(') m |= bit(Pattern::kPhone);
  const unsigned lc = c | 0x20u;
  if (is_alpha(c) && (lc == 't' || lc == 'f' || lc == 'y' || lc == 'n')) {
    m |= bit(Pattern::kBooleanString);
  }
  if (c == '{' || c == '[') m |= bit(Pattern::kJson);
  if (c == '$' || c == 0xC2 || c == 0xE2 || is_upper(c)) m |= bit(Pattern::kCurrencyString);
  return m;
}

// One entry per byte: low 32 bits the patterns allowing the byte, high 32 its presence classes.
constexpr std::array<uint64_t, 256> make_byte_table() {
  std::array<uint64_t, 256> t{};
  for (unsigned c = 0; c < 256; ++c) {
    t[c] = allowed_by(static_cast<uchar>(c)) |
           (static_cast<uint64_t>(present_class(static_cast<uchar>(c))) << 32);
  }
  return t;
}

constexpr std::array<uint32_t, 256> make_start_table() {
  std::array<uint32_t, 256> t{};
  for (unsigned c = 0; c < 256; ++c) t[c] = starts_with(static_cast<uchar>(c));
  return t;
}

constexpr std::array<uint64_t, 256> kByteTable = make_byte_table();
constexpr std::array<uint32_t, 256> kStartTable = make_start_table();

// Patterns ruled out when a presence class is missing.
constexpr uint32_t kNeedsAt = bit(Pattern::kEmail);
constexpr uint32_t kNeedsColon =
    bit(Pattern::kUrl) | bit(Pattern::kIpv6) | bit(Pattern::kIsoDatetime);
constexpr uint32_t kNeedsDash =
    bit(Pattern::kUuid) | bit(Pattern::kIsoDate) | bit(Pattern::kIsoDatetime);
constexpr uint32_t kNeedsDot = bit(Pattern::kIpv4) | bit(Pattern::kEmail);
constexpr uint32_t kNeedsPercent = bit(Pattern::kPercentageString);
constexpr uint32_t kNeedsFloatMark = bit(Pattern::kFloatString);
constexpr uint32_t kNeedsPhoneMark = bit(Pattern::kPhone);
constexpr uint32_t kNeedsUnit = bit(Pattern::kCurrencyString);
constexpr uint32_t kNeedsSlash = bit(Pattern::kUrl);

// Shortest and longest match of each pattern (0 = unbounded); kLengthMask[n] holds the patterns a
// string of n bytes can match, for n < 64, and kLengthMask[64] those for every longer length.
struct LengthRange {
  Pattern pattern;
  size_t min, max;
};
constexpr LengthRange kLengths[] = {
    {Pattern::kEmail, 6, 254},        {Pattern::kUrl, 8, 0},
    {Pattern::kUuid, 36, 38},         {Pattern::kIpv4, 7, 15},
    {Pattern::kIpv6, 2, 45},          {Pattern::kPhone, 7, 26},
    {Pattern::kIsoDate, 10, 10},      {Pattern::kIsoDatetime, 16, 35},
    {Pattern::kIntegerString, 1, 0},  {Pattern::kFloatString, 2, 0},
    {Pattern::kBooleanString, 1, 5},  {Pattern::kJson, 2, 0},
    {Pattern::kCurrencyString, 2, 0}, {Pattern::kPercentageString, 2, 0},
    {Pattern::kCreditCard, 13, 23},   {Pattern::kKoreanRrn, 13, 14},
    {Pattern::kKoreanPhone, 8, 17},   {Pattern::kKoreanBusinessNumber, 10, 12},
};
constexpr std::array<uint32_t, 65> kLengthMask = [] {
  std::array<uint32_t, 65> t{};
  for (size_t n = 0; n <= 64; ++n) {
    for (const auto& r : kLengths) {
      if (n >= r.min && (r.max == 0 || n <= r.max || n == 64)) t[n] |= bit(r.pattern);
    }
  }
  return t;
}();

uint32_t candidates(const uchar* s, size_t n) {
  const uint32_t start = kStartTable[s[0]] & kLengthMask[std::min<size_t>(n, 64)];
  if (start == 0) return 0;
  // Two independent accumulator pairs halve the dependency chain per byte.
  uint64_t all0 = ~uint64_t{0}, all1 = ~uint64_t{0};
  uint64_t any0 = 0, any1 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint64_t a = kByteTable[s[i]], b = kByteTable[s[i + 1]];
    const uint64_t c = kByteTable[s[i + 2]], d = kByteTable[s[i + 3]];
    all0 &= a & b;
    all1 &= c & d;
    any0 |= a | b;
    any1 |= c | d;
    if ((i & 7) == 4 && ((all0 & all1 & start) == 0)) return 0;  // stop once none is left
  }
  for (; i < n; ++i) {
    const uint64_t v = kByteTable[s[i]];
    all0 &= v;
    any0 |= v;
  }
  const uint64_t all = all0 & all1;
  const uint64_t any = any0 | any1;
  uint32_t cand = static_cast<uint32_t>(all) & start;
  const uint32_t present = static_cast<uint32_t>(any >> 32);
  // Branch-free: subtract the patterns whose required class is missing.
  auto drop_unless = [&](uint32_t cls, uint32_t patterns) {
    cand &= ~(patterns & (0u - static_cast<uint32_t>((present & cls) == 0)));
  };
  drop_unless(kHasAt, kNeedsAt);
  drop_unless(kHasColon, kNeedsColon);
  drop_unless(kHasDash, kNeedsDash);
  drop_unless(kHasDot, kNeedsDot);
  drop_unless(kHasPercent, kNeedsPercent);
  drop_unless(kHasFloatMark, kNeedsFloatMark);
  drop_unless(kHasPhoneMark, kNeedsPhoneMark);
  drop_unless(kHasUnit, kNeedsUnit);
  drop_unless(kHasSlash, kNeedsSlash);
  return cand;
}

}  // namespace

std::string_view pattern_name(Pattern p) {
  const auto i = static_cast<size_t>(p);
  return i < kPatternCount ? kNames[i] : std::string_view{};
}

bool matches(Pattern p, std::string_view s) {
  const auto i = static_cast<size_t>(p);
  if (i >= kPatternCount) return false;
  return kMatchers[i](reinterpret_cast<const uchar*>(s.data()), s.size());
}

// Short plain decimal numbers, the commonest strings that match a pattern, without the candidate
// scan: an optional '-', at most 6 digits and at most one '.'. Without a dot that is an
// integer_string and nothing else, with one a float_string and nothing else: every other pattern
// that takes digits and at most one dot needs 7 digits or more (phones, card and registration
// numbers; "1588.1234" is a Korean phone). Anything else: kNotPlain.
constexpr uint32_t kNotPlain = ~0u;

inline uint32_t plain_number(const uchar* s, size_t n) {
  size_t i = s[0] == '-';
  size_t digits = 0, dots = 0;
  for (; i < n; ++i) {
    const uchar c = s[i];
    if (is_digit(c)) {
      ++digits;
    } else if (c == '.' && dots == 0) {
      dots = 1;
    } else {
      return kNotPlain;
    }
  }
  if (digits == 0 || digits > 6) return kNotPlain;
  return pattern_bit(dots ? Pattern::kFloatString : Pattern::kIntegerString);
}

uint32_t match_patterns(std::string_view s) {
  if (s.empty()) return 0;
  const auto* p = reinterpret_cast<const uchar*>(s.data());
  const size_t n = s.size();
  if (n <= 8 && (is_digit(p[0]) || p[0] == '-' || p[0] == '.')) {
    if (const uint32_t plain = plain_number(p, n); plain != kNotPlain) return plain;
  }
  uint32_t cand = candidates(p, n);
  uint32_t result = 0;
  while (cand != 0) {
    const int i = std::countr_zero(cand);
    cand &= cand - 1;
    if (kMatchers[static_cast<size_t>(i)](p, n)) result |= 1u << i;
  }
  return result;
}

namespace detail {

bool match_email_scalar(std::string_view s) {
  return truthound::match_email_scalar(reinterpret_cast<const uchar*>(s.data()), s.size());
}

bool match_email_portable(std::string_view s) {
  return match_email_with<email_masks_portable>(reinterpret_cast<const uchar*>(s.data()), s.size());
}

}  // namespace detail

uint32_t match_patterns_next(std::string_view s, uint32_t& alone) {
  if (alone != 0 && !s.empty()) {
    const auto i = static_cast<size_t>(std::countr_zero(alone));
    if (kMatchers[i](reinterpret_cast<const uchar*>(s.data()), s.size())) return alone;
  }
  const uint32_t mask = match_patterns(s);
  alone = (mask & kMatchesAlone) == mask && std::has_single_bit(mask) ? mask : 0;
  return mask;
}

}  // namespace truthound
