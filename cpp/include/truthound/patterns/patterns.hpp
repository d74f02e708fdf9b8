// String pattern matchers: what does a string column hold, and what type could it be?
//
// Every matcher is hand written (no std::regex), allocation free, and rejects on the first byte
// that cannot fit. A string matches only as a whole: leading or trailing whitespace, or any
// surrounding text, never matches. Matchers are strict enough that free text rarely matches and
// lenient enough for the forms real data uses. Accepted forms, pattern by pattern:
//
// email                  local@domain.tld. The local part is an RFC 5322 dot-atom: letters, digits
//                        and !#$%&'*+-/=?^_`{|}~, dots neither first, last nor doubled, at most 64
//                        bytes. The domain is two or more labels of letters, digits and hyphens
//                        (no hyphen at either end, at most 63 bytes each); the last label (the TLD)
//                        is two or more letters. At most 254 bytes. ASCII only; quoted local parts
//                        and IP-literal domains are not accepted.
// url                    http://, https:// or ftp:// (scheme in either case), a host, an optional
//                        :port (1-5 digits, at most 65535), then an optional path, query or
//                        fragment starting with '/', '?' or '#'. The host is a domain name (labels
//                        as for email, one label such as "localhost" is enough), a dotted IPv4
//                        address (a host of digits and dots must be valid IPv4) or [IPv6]. The
//                        rest holds no space, control byte or any of "<>\^`{|}; bytes >= 0x80
//                        (IRIs) are accepted. user:pass@ before the host is not accepted.
// uuid                   8-4-4-4-12 hex digits with hyphens, either case, optionally in {braces}.
//                        Any version/variant. 32 hex digits without hyphens are not accepted (they
//                        are as likely a hash).
// ipv4                   four decimal octets 0-255 separated by dots; no leading zeros ("01").
// ipv6                   eight groups of 1-4 hex digits, or fewer with one "::"; the last two
//                        groups may be a dotted IPv4 address (::ffff:10.0.0.1). No zone (%eth0)
//                        and no /prefix.
// phone                  International: '+', a country code not starting with 0, then 8-15 digits
//                        in total, in groups separated by single spaces, hyphens or dots, one
//                        group may be in parentheses (+1 (555) 123-4567, +82-10-1234-5678,
//                        +15551234567). National: 7-15 digits in two or more groups, e.g.
//                        (555) 123-4567, 555-123-4567, 555.123.4567, 1-555-123-4567,
//                        020 7946 0958, 555-1234. A national number keeps dates, decimals, ranges
//                        and IDs out by shape: the first group has 1-5 digits (or sits in
//                        parentheses), every later group 3-8 digits and the last one 4-8; with
//                        two groups the first must start with 0 or have 3 digits (so "1990-2000"
//                        is not a phone); dots as separators need three or more groups. Hyphens
//                        and dots are not mixed (spaces mix with either). A plain digit string
//                        without '+' is not a phone. Extensions (x123) are not accepted.
// iso_date               YYYY-MM-DD, year 0000-9999, month 01-12, day valid for the month in the
//                        proleptic Gregorian calendar (2024-02-29 yes, 2023-02-29 and 1900-02-29
//                        no).
// iso_datetime           an iso_date, 'T', 't' or one space, HH:MM (00-23, 00-59), optional :SS
//                        (00-60, leap second) with an optional '.' and 1-9 fraction digits, then
//                        an optional zone: Z, z, or +/- HH, HH:MM or HHMM (hours 00-23).
// integer_string         optional '+' or '-', then one or more ASCII digits. Leading zeros and any
//                        length are accepted; thousands separators are not.
// float_string           optional sign, a mantissa with at least one digit and a '.' somewhere
//                        ("1.5", ".5", "5."), and/or an exponent e/E with optional sign and
//                        digits ("1e5", "2.5E-3"). An integer string is never a float string (the
//                        two are disjoint); inf, nan and hex floats are not float strings.
// boolean_string         true, false, yes, no, t, f, y, n in any case. "1" and "0" are not
//                        accepted: they would make every 0/1 integer column look boolean.
// json                   a syntactically valid JSON object or array (RFC 8259): starts with '{'
//                        or '[', ends at the matching bracket, whitespace only inside, nesting at
//                        most 64 deep. Bytes >= 0x80 inside strings are accepted unchecked.
// currency_string        a currency symbol ($, €, £, ¥, ₩, ₹) before the amount ("$1,234.56",
//                        "€ 5"), or a symbol or the Korean 원 after it ("5 €", "10,000원"), or an
//                        ISO 4217 code from the list of active codes before or after it
//                        ("USD 100", "100 KRW", "EUR5"), with at most one space between. The
//                        amount is digits with optional thousands groups of three and optional
//                        decimals: 1,234.56 or 1.234,56 or 1234.5 or 12,50. One optional sign,
//                        before the symbol/code or before the amount ("-$5", "$-5"). Accounting
//                        parentheses, space-grouped amounts and "US$"-style symbols are not
//                        accepted.
// percentage_string      optional sign, digits with optional decimals ("12", "12.5", ".5"), an
//                        optional single space, then '%'. No exponent, no thousands separators.
// credit_card            13-19 digits, either contiguous or in groups separated by single spaces or
//                        hyphens (one kind per number; every group but the last 4-6 digits),
//                        passing the Luhn check, with a known issuer prefix and length: Visa 4
//                        (13/16/19), Mastercard 51-55 and 2221-2720 (16), Amex 34/37 (15), Diners
//                        300-305/36/38/39 (14-19), JCB 3528-3589, Discover 6011/644-649/65,
//                        UnionPay 62 (16-19), Maestro 50/56-58/67 (13-19).
// korean_rrn             Korean resident registration number YYMMDD-GNNNNNN, hyphen optional.
//                        G is 1-4 (citizens) or 5-8 (foreigners); it gives the century (1,2,5,6:
//                        1900s; 3,4,7,8: 2000s), so the date is checked with the right leap
//                        years. The last digit is the check digit: weights 2,3,4,5,6,7,8,9,2,3,4,5
//                        over the first 12 digits, check = (11 - sum % 11) % 10.
// korean_phone           Korean numbers: mobile 010/011/016/017/018/019, Seoul 02, area codes
//                        031-033, 041-044, 051-055, 061-064, 070, 080 and 0502-0508, followed by
//                        a 3-4 digit and a 4 digit group, separated by hyphens, spaces or dots
//                        (one kind) or not at all: 010-1234-5678, 01012345678, 02-123-4567,
//                        031-123-4567. Also +82 with the leading 0 dropped: +82-10-1234-5678,
//                        +82 2 123 4567, +821012345678. And 8-digit representative numbers
//                        15xx/16xx/18xx: 1588-1234, 15881234.
// korean_business_number NNN-NN-NNNNN (10 digits, both hyphens or none) with a valid check
//                        digit: weights 1,3,7,1,3,7,1,3,5 over the first 9 digits, plus
//                        floor(digit9 * 5 / 10); check = (10 - sum % 10) % 10.
//
// Patterns are not exclusive: "+821012345678" is a phone, a korean_phone and an integer_string.
// The only guaranteed disjoint pair is integer_string / float_string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace truthound {

enum class Pattern : uint8_t {
  kEmail,
  kUrl,
  kUuid,
  kIpv4,
  kIpv6,
  kPhone,
  kIsoDate,
  kIsoDatetime,
  kIntegerString,
  kFloatString,
  kBooleanString,
  kJson,
  kCurrencyString,
  kPercentageString,
  kCreditCard,
  kKoreanRrn,
  kKoreanPhone,
  kKoreanBusinessNumber,
  kCount
};

inline constexpr size_t kPatternCount = static_cast<size_t>(Pattern::kCount);

// The bit of pattern p in a match_patterns() mask.
constexpr uint32_t pattern_bit(Pattern p) {
  return 1u << static_cast<unsigned>(p);
}

// Stable snake_case name, as used in profile results: "email", "url", "uuid", "ipv4", "ipv6",
// "phone", "iso_date", "iso_datetime", "integer_string", "float_string", "boolean_string",
// "json", "currency_string", "percentage_string", "credit_card", "korean_rrn", "korean_phone",
// "korean_business_number". Pattern::kCount (or any other value) gives "".
std::string_view pattern_name(Pattern p);

// Does the whole of s have the form of pattern p (see above)? Pattern::kCount gives false.
bool matches(Pattern p, std::string_view s);

// Bitmask of every pattern s matches (bit pattern_bit(p)); equal to OR-ing matches() over all
// patterns, only faster. This is the hot path, called once per non-null string: one pass over the
// bytes narrows the candidates (by the first byte, the bytes each pattern may contain and the
// bytes it must contain), then only the remaining matchers run: about one table lookup per byte
// plus the few matchers that survive.
uint32_t match_patterns(std::string_view s);

// Patterns that never match together with another (the tests check it on a corpus). A UUID
// (8-4-4-4-12 hex digits and hyphens) has no '@', ':', '.', '%', '+' or space, which the other
// patterns that take hex letters need; its 32 digits in those groups fit no phone, card or
// registration number; "{uuid}" is not JSON. An email has an '@', which only a URL (after "://",
// and an email has no ':') and JSON (which ends in '}' or ']', not in the letters of a TLD) may
// also contain.
inline constexpr uint32_t kMatchesAlone =
    pattern_bit(Pattern::kUuid) | pattern_bit(Pattern::kEmail);

// match_patterns(s) for the values of a column in turn, where values tend to share a form.
// `alone` (start at 0) remembers the pattern the previous value matched if that is one of
// kMatchesAlone; that pattern is tried first, and a match skips the candidate scan.
uint32_t match_patterns_next(std::string_view s, uint32_t& alone);

// Test hooks. matches(Pattern::kEmail, s) decides strings of 8-64 bytes on per-byte class bit
// masks (built with SSE2 on x86-64, with a portable table transpose elsewhere). These give the
// byte-at-a-time reference matcher and the portable fast path, which must agree with it.
namespace detail {
bool match_email_scalar(std::string_view s);
bool match_email_portable(std::string_view s);
}  // namespace detail

}  // namespace truthound
