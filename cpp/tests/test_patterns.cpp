#include "truthound/patterns/patterns.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "truthound/util/utf8.hpp"

namespace truthound {
namespace {

void expect_all(Pattern p, const std::vector<std::string>& cases, bool expected) {
  for (const auto& s : cases) {
    EXPECT_EQ(matches(p, s), expected) << pattern_name(p) << ": \"" << s << "\"";
    EXPECT_EQ((match_patterns(s) & pattern_bit(p)) != 0, expected)
        << "match_patterns, " << pattern_name(p) << ": \"" << s << "\"";
  }
}

// Negative cases every pattern must reject: empty, whitespace, padding.
void expect_padding_rejected(Pattern p, const std::vector<std::string>& positives) {
  expect_all(p, {"", " ", "\t", "\n"}, false);
  for (const auto& s : positives) {
    expect_all(p, {" " + s, s + " ", "\t" + s, s + "\n", s + '\0'}, false);
  }
}

void check(Pattern p, const std::vector<std::string>& good, const std::vector<std::string>& bad) {
  expect_all(p, good, true);
  expect_all(p, bad, false);
  expect_padding_rejected(p, good);
}

TEST(Patterns, NamesAreStable) {
  const char* names[] = {"email",
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
                         "korean_business_number"};
  ASSERT_EQ(std::size(names), kPatternCount);
  for (size_t i = 0; i < kPatternCount; ++i) {
    EXPECT_EQ(pattern_name(static_cast<Pattern>(i)), names[i]);
  }
  EXPECT_EQ(pattern_name(Pattern::kCount), "");
  EXPECT_FALSE(matches(Pattern::kCount, "x"));
}

TEST(Patterns, EmailAcceptsValid) {
  check(Pattern::kEmail,
        {"john.doe@example.com", "a@b.co", "user+tag@mail.example.org", "x_y-z@sub-domain.io",
         "o'brien@example.ie", "123@456.com", "first.last@a1.b2.museum", "!#$%&'*+-/=?^_`{|}~@x.de",
         std::string(64, 'a') + "@example.com"},
        {"plainaddress",
         "@example.com",
         "john@",
         "john@example",
         "john@example.c",
         "john@example.c0m",
         "john@example.123",
         ".john@example.com",
         "john.@example.com",
         "jo..hn@example.com",
         "john@@example.com",
         "john@exa mple.com",
         "john doe@example.com",
         "john@-example.com",
         "john@example-.com",
         "john@example..com",
         "john@.example.com",
         "john@example.com.",
         "jöhn@example.com",
         "\"john\"@example.com",
         "john@[1.2.3.4]",
         std::string(65, 'a') + "@example.com",
         "a@" + std::string(64, 'b') + ".com",
         "a@b.c",
         "john@example.com,x@y.com"});
}

// ---- email: the bit-mask fast path against the byte-at-a-time reference ----

// matches(kEmail) (SSE2 masks on x86-64), the portable masks, match_patterns() and the scalar
// reference all agree on s. The bytes are copied to an exact-size heap buffer so ASan catches any
// read past the end.
void expect_email_agrees(std::string_view value) {
  const std::vector<char> buf(value.begin(), value.end());
  const std::string_view s(buf.data(), buf.size());
  const bool expected = detail::match_email_scalar(s);
  ASSERT_EQ(matches(Pattern::kEmail, s), expected) << "'" << value << "' (" << value.size() << ")";
  ASSERT_EQ(detail::match_email_portable(s), expected)
      << "portable: '" << value << "' (" << value.size() << ")";
  ASSERT_EQ((match_patterns(s) & pattern_bit(Pattern::kEmail)) != 0, expected)
      << "match_patterns: '" << value << "'";
}

// Email-like strings: a local part, '@', labels and a TLD of lengths around every limit (the
// local part's 64, a label's 63, the 8/16/64-byte steps of the fast path, the 254 total), then a
// few random edits with bytes the matcher treats differently.
std::string make_email_like(std::mt19937_64& rng) {
  auto pick = [&](std::string_view set) { return set[rng() % set.size()]; };
  auto length = [&](size_t limit) -> size_t {
    switch (rng() % 4) {
      case 0:
        return limit - 2 + rng() % 5;  // limit-2 .. limit+2
      case 1:
        return rng() % (limit + 3);
      default:
        return 1 + rng() % 10;
    }
  };
  auto local_byte = [&] {
    return rng() % 16 ? pick("abcxyzABCXYZ0189.._+-") : pick("!#$%&'*/=?^`{|}~");
  };
  std::string domain;
  const size_t labels = 1 + rng() % 4;
  for (size_t l = 0; l < labels; ++l) {
    const size_t len = rng() % 8 ? 1 + rng() % 12 : length(63);
    for (size_t i = 0; i < len; ++i) domain += rng() % 12 ? pick("abcxyzABCXYZ0189") : '-';
    domain += '.';
  }
  const size_t tld = rng() % 6 ? 2 + rng() % 3 : rng() % 3;
  for (size_t i = 0; i < tld; ++i) domain += rng() % 10 ? pick("comCOMnetio") : pick("0-9_.");
  std::string local;
  if (rng() % 3 == 0) {  // pad the local part to an exact total length
    constexpr size_t kTotals[] = {6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 254, 255};
    const size_t total = kTotals[rng() % std::size(kTotals)];
    local.resize(total > domain.size() + 1 ? total - domain.size() - 1 : 1 + rng() % 3);
    for (auto& c : local) c = local_byte();
  } else {
    local.resize(length(64));
    for (auto& c : local) c = local_byte();
  }
  std::string s = local + '@' + domain;
  const std::string_view pool = "@@..--__++aZ09!#~ \"(),:;<>[\\]\x7f\x80\xc3\xff";
  for (size_t edits = rng() % 4; edits > 0; --edits) {
    const size_t pos = rng() % (s.size() + 1);
    const char c = pick(pool);
    switch (rng() % 3) {
      case 0:
        if (pos < s.size()) s[pos] = c;
        break;
      case 1:
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), c);
        break;
      default:
        if (pos < s.size()) s.erase(pos, 1);
        break;
    }
  }
  return s;
}

TEST(Patterns, EmailFastPathAgreesOnMutatedEmails) {
  size_t matched = 0, short_matched = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    for (int k = 0; k < 20000; ++k) {
      const std::string s = make_email_like(rng);
      expect_email_agrees(s);
      if (HasFatalFailure()) return;
      const bool m = matches(Pattern::kEmail, s);
      matched += m;
      short_matched += m && s.size() <= 64;
    }
  }
  EXPECT_GT(matched, 40000u);  // the generator does make valid emails, long and short
  EXPECT_GT(short_matched, 20000u);
}

TEST(Patterns, EmailFastPathAgreesOnRandomStrings) {
  // Short strings over a small alphabet rich in the bytes the email rules look at.
  const std::string_view alphabet = "@@@...---__+aaZ09!~ \x80\xff";
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    std::mt19937_64 rng(seed * 977);
    for (int k = 0; k < 20000; ++k) {
      std::string s(rng() % 81, '\0');
      for (auto& c : s) c = alphabet[rng() % alphabet.size()];
      expect_email_agrees(s);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(Patterns, EmailFastPathAgreesOnEveryShortString) {
  // Every string of 6..8 bytes over a..1.-@_ (the 8-byte one is the shortest fast-path case).
  const std::string_view alphabet = "a1.-@_";
  size_t matched = 0;
  for (size_t n = 6; n <= 8; ++n) {
    std::string s(n, 'a');
    size_t count = 1;
    for (size_t i = 0; i < n; ++i) count *= alphabet.size();
    for (size_t code = 0; code < count; ++code) {
      size_t c = code;
      for (size_t i = 0; i < n; ++i, c /= alphabet.size()) s[i] = alphabet[c % alphabet.size()];
      expect_email_agrees(s);
      if (HasFatalFailure()) return;
      matched += matches(Pattern::kEmail, s);
    }
  }
  EXPECT_GT(matched, 100u);
}

TEST(Patterns, EmailFastPathAgreesOnPrefixesAndSuffixes) {
  const std::string local64 = "abcdefghij.klmnopqrst_uvwxyz+ABCDEFGHIJ-KLMNOPQRSTUVWXYZ.0123456";
  ASSERT_EQ(local64.size(), 64u);
  const std::vector<std::string> emails = {
      "first.last+tag@mail-1.sub.example.com",
      "x@a-b.c-d.e-f.g-h.i-j.k-l.m-n.o-p.q-r.s-t.u-v.w-x.y-z.abcdefghij",  // 64 bytes
      "user_name-01.x@" + std::string(63, 'd') + ".example.org",
      local64 + "@" + std::string(63, 'a') + "." + std::string(63, 'b') + "." +
          std::string(57, 'c') + ".com",  // 254 bytes
      "o'brien.{x}@example.ie",
  };
  for (const auto& email : emails) {
    ASSERT_TRUE(detail::match_email_scalar(email)) << email;
    for (size_t k = 0; k <= email.size(); ++k) {
      expect_email_agrees(std::string_view(email).substr(0, k));
      expect_email_agrees(std::string_view(email).substr(k));
      if (HasFatalFailure()) return;
    }
  }
  ASSERT_EQ(emails[1].size(), 64u);
  ASSERT_EQ(emails[3].size(), 254u);
  EXPECT_FALSE(matches(Pattern::kEmail, emails[3] + "m"));
}

TEST(Patterns, UrlAcceptsValid) {
  check(Pattern::kUrl,
        {"http://example.com", "https://www.example.com/path/to?q=1&r=2#frag",
         "HTTPS://EXAMPLE.COM", "ftp://files.example.org/pub/file.tar.gz", "http://localhost:8080",
         "http://127.0.0.1/", "http://[::1]:8080/x", "http://[2001:db8::1]", "https://a.b/ü?x=é",
         "http://example.com:65535", "https://example.com?x", "https://example.com#top",
         "https://example.com/a%20b"},
        {"example.com",
         "www.example.com",
         "http://",
         "http:/example.com",
         "http//example.com",
         "mailto:john@example.com",
         "gopher://example.com",
         "http://exa mple.com",
         "http://example.com/a b",
         "http://-example.com",
         "http://example.com:",
         "http://example.com:65536",
         "http://example.com:123456",
         "http://999.1.1.1",
         "http://1.2.3",
         "http://[::1",
         "http://[zz::1]",
         "http://user@example.com",
         "http://example.com/<script>",
         "http://example.com/\"",
         "http://example..com",
         "http://example.com.",
         "https://example.com\\path"});
}

TEST(Patterns, UuidAcceptsValid) {
  check(Pattern::kUuid,
        {"123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000",
         "00000000-0000-0000-0000-000000000000", "{123e4567-e89b-12d3-a456-426614174000}"},
        {"123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
         "123e4567-e89b-12d3-a456-4266141740000", "123e4567-e89b-12d3-a456_426614174000",
         "g23e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-42661417400g",
         "{123e4567-e89b-12d3-a456-426614174000", "(123e4567-e89b-12d3-a456-426614174000)",
         "123e456-7e89b-12d3-a456-426614174000"});
}

TEST(Patterns, Ipv4AcceptsValid) {
  check(Pattern::kIpv4, {"0.0.0.0", "127.0.0.1", "255.255.255.255", "192.168.1.10", "8.8.8.8"},
        {"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1..2.3", "1.2.3.", ".1.2.3",
         "1.2.3.4a", "1.2.3.-4", "1234.1.1.1", "1.2.3.1000", "a.b.c.d", "1,2,3,4"});
}

TEST(Patterns, Ipv6AcceptsValid) {
  check(Pattern::kIpv6,
        {"2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:db8:85a3::8a2e:370:7334", "::1",
         "::", "fe80::", "FE80::1", "1:2:3:4:5:6:7::", "::ffff:192.168.1.1", "64:ff9b::10.0.0.1",
         "1:2:3:4:5:6:1.2.3.4", "1::2:3:4:5:6:7"},
        {"2001:db8::85a3::1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::1", ":1", "1:", "1:::2",
         "g::1", "::ffff:256.1.1.1", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5",
         "1:2:3:4:5:6:7:8::", "fe80::1%eth0", "2001:db8::/32", "1.2.3.4"});
}

TEST(Patterns, PhoneAcceptsValid) {
  check(
      Pattern::kPhone,
      {"+15551234567", "+1 555 123 4567", "+1-555-123-4567", "+1 (555) 123-4567",
       "+44 20 7946 0958", "+82-10-1234-5678", "+49.30.1234567", "(555) 123-4567", "(555)123-4567",
       "555-123-4567", "555.123.4567", "555 123 4567", "1-555-123-4567", "020 7946 0958",
       "02-123-4567", "555-1234", "030 1234567", "07700 900123", "(02) 1234 5678"},
      {"5551234567",
       "+1234567",
       "+0123456789",
       "+1234567890123456",
       "2023-01-15",
       "15.01.2023",
       "1990-2000",
       "3.14159265",
       "+3.14159265",
       "1.234.567",
       "12 345 678",
       "555-123-45",
       "555-123.4567",
       "555--123-4567",
       "555-123-4567-",
       "(555 123-4567",
       "((555)) 123-4567",
       "555-123-4567 x12",
       "123-45-67890",
       "01 23 45 67 89",
       "+",
       "+1 555 123 4567 8888 9999",
       "phone"});
}

TEST(Patterns, IsoDateAcceptsValid) {
  check(Pattern::kIsoDate,
        {"2023-01-15", "2024-02-29", "2000-02-29", "1999-12-31", "0001-01-01", "2023-04-30"},
        {"2023-02-29", "1900-02-29", "2023-13-01", "2023-00-10", "2023-01-00", "2023-04-31",
         "2023-1-15", "23-01-15", "2023/01/15", "20230115", "2023-01-15T00:00", "2023-01-1a",
         "+2023-01-15", "2023-01-150"});
}

TEST(Patterns, IsoDatetimeAcceptsValid) {
  check(
      Pattern::kIsoDatetime,
      {"2023-01-15T10:30", "2023-01-15 10:30:45", "2023-01-15T10:30:45Z", "2023-01-15T10:30:45.123",
       "2023-01-15T10:30:45.123456789+09:00", "2023-01-15T23:59:60-0500", "2023-01-15t00:00:00z",
       "2024-02-29T12:00:00+05", "2023-01-15T10:30+09:00"},
      {"2023-01-15", "2023-01-15T24:00", "2023-01-15T10:60", "2023-01-15T10:30:61",
       "2023-02-29T10:30:00", "2023-01-15T10:30:45.", "2023-01-15T10:30:45.1234567890",
       "2023-01-15T10:30:45+24:00", "2023-01-15T10:30:45+09:60", "2023-01-15T10:30:45+9",
       "2023-01-15T10:30:45+09:0", "2023-01-15T10:30:45ZZ", "2023-01-15X10:30", "2023-01-15  10:30",
       "2023-01-15T10:3", "2023-01-15T10:30:4", "2023-01-15T1030"});
}

TEST(Patterns, IntegerStringAcceptsValid) {
  check(Pattern::kIntegerString, {"0", "7", "-12", "+12", "007", "123456789012345678901234567890"},
        {"-", "+", "1.0", "1e5", "1,000", "1 000", "0x1F", "--1", "+-1", "1-", "١٢٣", "12a"});
}

TEST(Patterns, FloatStringAcceptsValid) {
  check(Pattern::kFloatString,
        {"1.5", "-1.5", "+0.25", ".5", "5.", "1e5", "1E5", "1e-5", "2.5E+3", "-.5e10", "0.0"},
        {"1", "-7", ".", "e5", "1e", "1e+", "1.5.2", "1,5", "inf", "nan", "NaN", "-inf", "0x1p3",
         "1.5f", "1..5", "+.e1", "1e5.5"});
}

TEST(Patterns, BooleanStringAcceptsValid) {
  check(Pattern::kBooleanString,
        {"true", "false", "TRUE", "False", "yes", "No", "Y", "n", "t", "F", "YeS"},
        {"1", "0", "on", "off", "tru", "truee", "yess", "nope", "x", "ja", "falsy"});
}

TEST(Patterns, JsonAcceptsValid) {
  std::string deep_ok = std::string(64, '[') + std::string(64, ']');
  std::string deep_bad = std::string(65, '[') + std::string(65, ']');
  check(Pattern::kJson,
        {"{}", "[]", "{\"a\":1}", "[1,2,3]", "{ \"a\" : [ true, false, null ], \"b\" : {} }",
         "[\"x\\n\\\"\\u00e9\\/\", -0.5e-3, 0, 1E+2]", "{\"k\":\"한글\"}", "[\n  1,\n  2\n]",
         deep_ok},
        {"{",        "[",     "{]",      "[}",         "{\"a\"}",       "{\"a\":}",   "{a:1}",
         "{'a':1}",  "[1,]",  "[,1]",    "{\"a\":1,}", "[01]",          "[1.]",       "[.5]",
         "[+1]",     "[tru]", "[nul]",   "[\"\\x\"]",  "[\"\\u12g4\"]", "[\"a\tb\"]", "[\"abc]",
         "[] []",    "[]x",   "\"str\"", "42",         "null",          deep_bad,     "[1 2]",
         "{\"a\" 1}"});
}

TEST(Patterns, CurrencyStringAcceptsValid) {
  check(Pattern::kCurrencyString,
        {"$5",         "$1,234.56", "-$5.00",  "$-5.00",  "$ 5",     "€1.234,56",
         "1.234,56 €", "5€",        "£3.50",   "¥1000",   "₩10,000", "₹ 500",
         "10,000원",   "5 원",      "USD 100", "100 USD", "EUR5",    "KRW 1,000,000",
         "-12.5 JPY",  "+$3",       "$0.99",   "12,50 €"},
        {"$",         "USD",     "5",         "5.00",      "$$5",     "$5$",      "$1,2,3",
         "$1,234,56", "$.99",    "ABC 100",   "usd 100",   "100 usd", "USD  100", "100 US",
         "($5.00)",   "--$5",    "-$-5",      "$5 USD",    "€",       "5 ",       "1 000 €",
         "US$5",      "$1,234.", "€\xE2\x82", "5 \xEC\x9B"});
}

TEST(Patterns, PercentageStringAcceptsValid) {
  check(Pattern::kPercentageString, {"5%", "12.5%", "-3%", "+0.1 %", ".5%", "100%", "0 %"},
        {"%", "5", "5%%", "5 %%", "%5", "5.%", "5  %", "1e3%", "1,000%", "-%", "five%", ". %"});
}

TEST(Patterns, CreditCardAcceptsValid) {
  check(Pattern::kCreditCard,
        {"4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "5555555555554444",
         "5105105105105100", "378282246310005", "3782 822463 10005", "371449635398431",
         "6011111111111117", "6011000990139424", "3530111333300000", "3566002020360505",
         "30569309025904", "38520000023237", "2223003122003222", "6200000000000005",
         "4222222222222", "5018000000000009"},
        {"4111111111111112", "4111 1111 1111 1112", "4111-1111 1111-1111", "4111  1111 1111 1111",
         "1234567812345670", "9111111111111111", "411111111111", "41111111111111111111",
         "4111111111111", "37828224631000", "55555555555544440", "4111 111 111 111 111",
         "4111-1111-1111-1111-", "-4111111111111111", "411111111111111a"});
}

TEST(Patterns, KoreanRrnAcceptsValid) {
  check(Pattern::kKoreanRrn,
        {"900101-1234568", "9001011234568", "000229-3123454", "040229-4123456", "850615-5123454",
         "990101-2345675", "010101-7123459"},
        {"900101-1234567", "000229-1123459", "901301-1234568", "900132-1234568", "900101-9234568",
         "900101-0234568", "900101--234568", "90010-11234568", "900101 1234568", "900101-123456",
         "900101-12345688", "9001011234568a"});
}

TEST(Patterns, KoreanPhoneAcceptsValid) {
  check(Pattern::kKoreanPhone,
        {"010-1234-5678", "01012345678", "010 1234 5678", "010.1234.5678", "011-123-4567",
         "02-123-4567", "02-1234-5678", "0212345678", "031-123-4567", "064-1234-5678",
         "070-1234-5678", "0505-123-4567", "+82-10-1234-5678", "+82 10 1234 5678", "+821012345678",
         "+82 2 123 4567", "1588-1234", "15881234"},
        {"010-123-45678", "010-12345-678", "012-1234-5678", "020-1234-5678", "035-123-4567",
         "010-1234-567", "010-1234 5678", "010-12345678", "+82-010-1234-5678", "+83-10-1234-5678",
         "1234-5678", "1588-12345", "010-1234-5678-9", "0101234567890", "+82-"});
}

TEST(Patterns, KoreanBusinessNumberAcceptsValid) {
  check(Pattern::kKoreanBusinessNumber,
        {"123-45-67891", "1234567891", "220-81-12341", "104-81-23454", "0000000015"},
        {"123-45-67890", "1234567890", "123-4567891", "12345-67891", "123-45-6789", "123 45 67891",
         "123-45-678911", "12a-45-67891"});
}

// Independent reference for utf8_length.
size_t naive_utf8_length(std::string_view s) {
  size_t count = 0;
  for (const char c : s) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

TEST(Utf8, LengthCountsCodePoints) {
  EXPECT_EQ(utf8_length("", 0), 0u);
  EXPECT_EQ(utf8_length(std::string_view("abc")), 3u);
  EXPECT_EQ(utf8_length(std::string_view("한글 텍스트")), 6u);
  EXPECT_EQ(utf8_length(std::string_view("€5 and £3 — ok 😀")), 16u);
  EXPECT_EQ(utf8_length(std::string_view("\x80\x80\x80")), 0u);  // stray continuations
  EXPECT_EQ(utf8_length(std::string_view("\xE2\x82")), 1u);      // truncated sequence
}

TEST(Utf8, LengthMatchesNaiveOnRandomBytes) {
  std::mt19937_64 rng(42);
  const std::string_view alphabet = "a\x80\xBF\xC2\xE2\xF0\xFF\x7F";
  for (int iter = 0; iter < 20000; ++iter) {
    const size_t n = rng() % 101;
    std::string s(n, '\0');
    const bool biased = iter % 2 == 0;
    for (auto& c : s) {
      c = biased ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng());
    }
    ASSERT_EQ(utf8_length(s.data(), s.size()), naive_utf8_length(s)) << "n=" << n;
    // Unaligned starts.
    if (n > 3) {
      ASSERT_EQ(utf8_length(s.data() + 3, n - 3), naive_utf8_length(s.substr(3)));
    }
  }
}

TEST(Utf8, IsAsciiSeesAHighByteAtEveryPosition) {
  for (size_t n = 0; n <= 20; ++n) {
    std::string s(n, 'a');
    ASSERT_TRUE(is_ascii(s.data(), n)) << n;
    for (size_t i = 0; i < n; ++i) {
      s[i] = '\x80';
      ASSERT_FALSE(is_ascii(s.data(), n)) << n << " " << i;
      s[i] = '\x7f';
      ASSERT_TRUE(is_ascii(s.data(), n)) << n << " " << i;
      s[i] = 'a';
    }
  }
}

TEST(Utf8, LengthMatchesNaiveOnLongStrings) {
  // Long enough to flush the per-lane counters (255 words) several times.
  std::mt19937_64 rng(9);
  for (const size_t n : {2039u, 2040u, 2041u, 4096u, 10007u}) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 2 ? 0x80 | (rng() & 0x3F) : rng());
    ASSERT_EQ(utf8_length(s), naive_utf8_length(s)) << n;
    std::string cont(n, '\x80');
    ASSERT_EQ(utf8_length(cont), 0u);
  }
}

// A corpus of realistic values of every pattern, near misses made by mutating them, and random
// strings over alphabets that hit the matchers' interesting bytes.
std::vector<std::string> make_corpus() {
  std::vector<std::string> seeds = {"john.doe@example.com",
                                    "a@b.co",
                                    "https://www.example.com/a?b=c#d",
                                    "http://[::1]:80/",
                                    "http://10.0.0.1:8080",
                                    "123e4567-e89b-12d3-a456-426614174000",
                                    "192.168.0.1",
                                    "2001:db8::ff00:42:8329",
                                    "::ffff:10.0.0.1",
                                    "+1 (555) 123-4567",
                                    "555-123-4567",
                                    "020 7946 0958",
                                    "2023-01-15",
                                    "2024-02-29T10:30:45.123+09:00",
                                    "2023-01-15 10:30",
                                    "-12345",
                                    "3.14159",
                                    "1e-5",
                                    ".5",
                                    "true",
                                    "No",
                                    "y",
                                    "{\"a\":[1,2,{\"b\":null}]}",
                                    "[]",
                                    "$1,234.56",
                                    "1.234,56 €",
                                    "10,000원",
                                    "USD 100",
                                    "12.5%",
                                    "4111 1111 1111 1111",
                                    "378282246310005",
                                    "900101-1234568",
                                    "010-1234-5678",
                                    "+82-10-1234-5678",
                                    "1588-1234",
                                    "123-45-67891",
                                    "hello",
                                    "Hello world",
                                    "N/A",
                                    "-",
                                    "",
                                    " ",
                                    "null",
                                    "0",
                                    "1",
                                    "{123e4567-e89b-12d3-a456-426614174000}",
                                    "2023-02-29",
                                    "0212345678",
                                    "+821012345678"};
  const std::string_view alphabet = "0123456789-.:+ ()@/%$,eEtTZx[]{}\"aAfF\xE2\x82\xAC\xC2\xEC";
  std::mt19937_64 rng(7);
  std::vector<std::string> corpus = seeds;
  for (const auto& seed : seeds) {
    for (int k = 0; k < 300; ++k) {
      std::string s = seed;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        const size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
        const char c = alphabet[rng() % alphabet.size()];
        switch (rng() % 4) {
          case 0:
            if (pos < s.size()) s[pos] = c;
            break;
          case 1:
            s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), c);
            break;
          case 2:
            if (pos < s.size()) s.erase(pos, 1);
            break;
          default:
            s.resize(pos);  // truncate
            break;
        }
      }
      corpus.push_back(std::move(s));
    }
  }
  for (int k = 0; k < 30000; ++k) {
    std::string s(rng() % 25, '\0');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    corpus.push_back(std::move(s));
  }
  return corpus;
}

TEST(Patterns, MatchPatternsAgreesWithMatches) {
  size_t matched = 0;
  for (const auto& s : make_corpus()) {
    uint32_t expected = 0;
    for (size_t i = 0; i < kPatternCount; ++i) {
      if (matches(static_cast<Pattern>(i), s)) expected |= 1u << i;
    }
    ASSERT_EQ(match_patterns(s), expected) << "\"" << s << "\"";
    matched += expected != 0;
  }
  EXPECT_GT(matched, 1000u);  // the corpus does exercise the matchers
}

TEST(Patterns, PatternsThatMatchAloneDo) {
  size_t alone = 0;
  for (const auto& s : make_corpus()) {
    const uint32_t m = match_patterns(s);
    if (m & kMatchesAlone) {
      EXPECT_TRUE(std::has_single_bit(m)) << "'" << s << "' matches " << m;
      ++alone;
    }
  }
  EXPECT_GT(alone, 100u);
}

TEST(Patterns, PatternsThatMatchAloneOnHandPickedNeighbours) {
  // Strings that look like a UUID or an email and like something else.
  for (const std::string s :
       {"12345678-1234-1234-1234-123456789012", "{12345678-1234-1234-1234-123456789012}",
        "00000000-0000-0000-0000-000000000000", "http://a.com/x@y.org", "ftp://u.io/a@b.cc",
        "a@b.cc", "{\"a\":\"x@y.org\"}", "[\"x@y.org\"]", "1@2.cc", "+1@b.cc"}) {
    const uint32_t m = match_patterns(s);
    if (m & kMatchesAlone) {
      EXPECT_TRUE(std::has_single_bit(m)) << "'" << s << "' matches " << m;
    }
    uint32_t alone = m & kMatchesAlone;  // as if the previous value had matched the same
    EXPECT_EQ(match_patterns_next(s, alone), m) << s;
    uint32_t uuid = pattern_bit(Pattern::kUuid), email = pattern_bit(Pattern::kEmail);
    EXPECT_EQ(match_patterns_next(s, uuid), m) << s;
    EXPECT_EQ(match_patterns_next(s, email), m) << s;
  }
  EXPECT_EQ(match_patterns("12345678-1234-1234-1234-123456789012"), pattern_bit(Pattern::kUuid));
  EXPECT_EQ(match_patterns("http://a.com/x@y.org"), pattern_bit(Pattern::kUrl));
}

TEST(Patterns, MatchPatternsNextAgreesWithMatchPatterns) {
  // In corpus order and in runs of one form (where the remembered pattern is used), then shuffled.
  std::vector<std::string> corpus = make_corpus();
  std::vector<std::string> runs;
  for (const auto& s : corpus) {
    for (int k = 0; k < 3; ++k) runs.push_back(s);
  }
  std::mt19937_64 rng(7);
  std::vector<std::string> shuffled = corpus;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  for (const auto* values : {&corpus, &runs, &shuffled}) {
    uint32_t alone = 0;
    for (const auto& s : *values) {
      ASSERT_EQ(match_patterns_next(s, alone), match_patterns(s)) << "'" << s << "'";
    }
  }
}

TEST(Patterns, UuidNearMissesAreRejected) {
  const std::string good = "123e4567-e89b-12d3-a456-426614174000";
  ASSERT_TRUE(matches(Pattern::kUuid, good));
  ASSERT_TRUE(matches(Pattern::kUuid, "{" + good + "}"));
  // every byte replaced by each of a few bytes: only hex for hex, only '-' for '-' still matches
  for (size_t i = 0; i < good.size(); ++i) {
    for (const char c :
         {'0', '9', 'a', 'F', 'g', 'G', '-', '/', ':', '@', ' ', '\x80', '\xb0', '\xc1', '\0'}) {
      std::string s = good;
      s[i] = c;
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      const bool hex = std::isxdigit(static_cast<unsigned char>(c)) != 0;
      EXPECT_EQ(matches(Pattern::kUuid, s), dash ? c == '-' : hex) << i << " " << int(c);
    }
  }
}

TEST(Patterns, PlainNumbersAgreeWithTheMatchers) {
  // match_patterns() recognizes [-]digits[.digits] without the candidate scan: check it against
  // every matcher on random numbers of every shape near that form.
  std::mt19937_64 rng(11);
  const std::string alphabet = "0123456789.-+ ";
  for (int trial = 0; trial < 200000; ++trial) {
    std::string s;
    const size_t n = 1 + rng() % 20;
    for (size_t i = 0; i < n; ++i) {
      s += rng() % 8 ? alphabet[rng() % 10] : alphabet[rng() % alphabet.size()];
    }
    uint32_t expected = 0;
    for (size_t p = 0; p < kPatternCount; ++p) {
      if (matches(static_cast<Pattern>(p), s)) expected |= 1u << p;
    }
    ASSERT_EQ(match_patterns(s), expected) << "'" << s << "'";
  }
}

TEST(Patterns, IntegerAndFloatAreDisjoint) {
  for (const auto& s : make_corpus()) {
    const uint32_t m = match_patterns(s);
    ASSERT_FALSE((m & pattern_bit(Pattern::kIntegerString)) &&
                 (m & pattern_bit(Pattern::kFloatString)))
        << s;
  }
}

TEST(Patterns, RandomBytesNeverCrash) {
  std::mt19937_64 rng(123);
  uint32_t sink = 0;
  for (int k = 0; k < 100000; ++k) {
    // Exact-size heap buffer so ASan catches any read past the end.
    const size_t n = rng() % 48;
    std::vector<char> buf(n);
    for (auto& c : buf) c = static_cast<char>(rng());
    if (n > 0 && k % 3 == 0) buf[0] = "{[+-$0123456789htf:("[rng() % 20];
    const std::string_view s(buf.data(), n);
    uint32_t expected = 0;
    for (size_t i = 0; i < kPatternCount; ++i) {
      if (matches(static_cast<Pattern>(i), s)) expected |= 1u << i;
    }
    const uint32_t got = match_patterns(s);
    ASSERT_EQ(got, expected);
    sink |= got;
  }
  (void)sink;
}

}  // namespace
}  // namespace truthound
