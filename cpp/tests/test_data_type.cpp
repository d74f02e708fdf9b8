// Specification of truthound::DataType (cpp/include/truthound/arrow/data_type.hpp): the C Data
// Interface's format strings parse, render exactly as pyarrow's str(type) (checked against
// pyarrow 26), serialize and deserialize, and reject what is malformed.
#include "truthound/arrow/data_type.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "arrow_builders.hpp"
#include "truthound/util/error.hpp"

namespace truthound {
namespace {

using namespace truthound::testing;

Field parse(const SchemaSpec& spec) {
  ScopedSchema s(spec);
  return parse_field(*s);
}

std::string render(const SchemaSpec& spec) {
  return parse(spec).type.to_string();
}

struct Expect {
  SchemaSpec spec;
  std::string text;  // pyarrow's str(type)
};

std::vector<Expect> every_type() {
  const SchemaSpec i64 = field("item", "l");
  return {
      {field("", "n"), "null"},
      {field("", "b"), "bool"},
      {field("", "c"), "int8"},
      {field("", "C"), "uint8"},
      {field("", "s"), "int16"},
      {field("", "S"), "uint16"},
      {field("", "i"), "int32"},
      {field("", "I"), "uint32"},
      {field("", "l"), "int64"},
      {field("", "L"), "uint64"},
      {field("", "e"), "halffloat"},
      {field("", "f"), "float"},
      {field("", "g"), "double"},
      {field("", "u"), "string"},
      {field("", "U"), "large_string"},
      {field("", "vu"), "string_view"},
      {field("", "z"), "binary"},
      {field("", "Z"), "large_binary"},
      {field("", "vz"), "binary_view"},
      {field("", "w:5"), "fixed_size_binary[5]"},
      {field("", "tdD"), "date32[day]"},
      {field("", "tdm"), "date64[ms]"},
      {field("", "tss:"), "timestamp[s]"},
      {field("", "tsm:"), "timestamp[ms]"},
      {field("", "tsu:UTC"), "timestamp[us, tz=UTC]"},
      {field("", "tsn:America/New_York"), "timestamp[ns, tz=America/New_York]"},
      {field("", "tsu:+05:30"), "timestamp[us, tz=+05:30]"},
      {field("", "tts"), "time32[s]"},
      {field("", "ttm"), "time32[ms]"},
      {field("", "ttu"), "time64[us]"},
      {field("", "ttn"), "time64[ns]"},
      {field("", "tDs"), "duration[s]"},
      {field("", "tDm"), "duration[ms]"},
      {field("", "tDu"), "duration[us]"},
      {field("", "tDn"), "duration[ns]"},
      {field("", "d:10,2"), "decimal128(10, 2)"},
      {field("", "d:10,2,128"), "decimal128(10, 2)"},
      {field("", "d:40,5,256"), "decimal256(40, 5)"},
      {field("", "d:7,3,32"), "decimal32(7, 3)"},
      {field("", "d:12,3,64"), "decimal64(12, 3)"},
      {field("", "d:5,-2"), "decimal128(5, -2)"},
      {field("", "+l", {i64}), "list<item: int64>"},
      {field("", "+L", {field("item", "u")}), "large_list<item: string>"},
      {field("", "+w:3", {i64}), "fixed_size_list<item: int64>[3]"},
      {field("", "+l", {field("item", "+s", {field("x", "g")})}), "list<item: struct<x: double>>"},
      {field("", "+s", {field("a", "l"), field("b", "u")}), "struct<a: int64, b: string>"},
      {field("", "+s"), "struct<>"},
      {field("", "+m", {field("entries", "+s", {field("key", "u"), field("value", "l")})}),
       "map<string, int64>"},
      {field("", "+m",
             {field("entries", "+s",
                    {field("key", "u"), field("value", "+l", {field("item", "c")})})}),
       "map<string, list<item: int8>>"},
      {dict_field("", "i", field("", "u")), "dictionary<values=string, indices=int32, ordered=0>"},
      {dict_field("", "c", field("", "l"), /*ordered=*/true),
       "dictionary<values=int64, indices=int8, ordered=1>"},
      {dict_field("", "L", field("", "tsu:UTC")),
       "dictionary<values=timestamp[us, tz=UTC], indices=uint64, ordered=0>"},
      {field("", "tiM"), "month_interval"},
      {field("", "tiD"), "day_time_interval"},
      {field("", "tin"), "month_day_nano_interval"},
      {field("", "+vl", {field("item", "i")}), "list_view<item: int32>"},
      {field("", "+vL", {field("item", "u")}), "large_list_view<item: string>"},
      {field("", "+r", {field("run_ends", "i"), field("values", "u")}),
       "run_end_encoded<run_ends: int32, values: string>"},
      {field("", "+ud:0,1", {field("a", "i"), field("b", "u")}),
       "dense_union<a: int32=0, b: string=1>"},
      {field("", "+us:0", {field("a", "i")}), "sparse_union<a: int32=0>"},
  };
}

TEST(DataType, EveryFormatStringRendersLikePyarrow) {
  for (const auto& e : every_type()) {
    SCOPED_TRACE(e.spec.format);
    EXPECT_EQ(render(e.spec), e.text);
  }
}

TEST(DataType, ParsedIdsAndParameters) {
  EXPECT_EQ(parse(field("", "l")).type.id, TypeId::kInt64);
  EXPECT_EQ(parse(field("", "vu")).type.id, TypeId::kUtf8View);
  const DataType ts = parse(field("", "tsn:Europe/Paris")).type;
  EXPECT_EQ(ts.id, TypeId::kTimestamp);
  EXPECT_EQ(ts.unit, TimeUnit::kNano);
  EXPECT_EQ(ts.timezone, "Europe/Paris");
  const DataType dec = parse(field("", "d:38,9,256")).type;
  EXPECT_EQ(dec.id, TypeId::kDecimal);
  EXPECT_EQ(dec.precision, 38);
  EXPECT_EQ(dec.scale, 9);
  EXPECT_EQ(dec.width, 256);
  const DataType dict = parse(dict_field("", "s", field("", "u"), true)).type;
  EXPECT_EQ(dict.id, TypeId::kDictionary);
  EXPECT_EQ(dict.index_id, TypeId::kInt16);
  EXPECT_TRUE(dict.ordered);
  ASSERT_EQ(dict.children.size(), 1u);
  EXPECT_EQ(dict.children[0].type.id, TypeId::kUtf8);
  EXPECT_EQ(parse(field("t", "ttm")).type.id, TypeId::kTime32);
  EXPECT_EQ(parse(field("t", "ttu")).type.id, TypeId::kTime64);
  EXPECT_EQ(parse(field("col", "l")).name, "col");
  const DataType st = parse(field("", "+s", {field("a", "l"), field("b", "u")})).type;
  ASSERT_EQ(st.children.size(), 2u);
  EXPECT_EQ(st.children[1].name, "b");
  EXPECT_TRUE(parse(field("", "w:4")).type.is_string_like());
  EXPECT_TRUE(parse(field("", "tdD")).type.is_temporal());
  EXPECT_TRUE(
      parse(field("", "+m", {field("entries", "+s", {field("key", "u"), field("value", "l")})}))
          .type.is_list_like());
}

TEST(DataType, EqualityDistinguishesParameters) {
  EXPECT_EQ(parse(field("", "tsu:UTC")).type, parse(field("", "tsu:UTC")).type);
  EXPECT_FALSE(parse(field("", "tsu:UTC")).type == parse(field("", "tsu:")).type);
  EXPECT_FALSE(parse(field("", "tsu:")).type == parse(field("", "tsn:")).type);
  EXPECT_FALSE(parse(field("", "d:10,2")).type == parse(field("", "d:10,3")).type);
  EXPECT_FALSE(parse(field("", "+l", {field("item", "l")})).type ==
               parse(field("", "+l", {field("item", "i")})).type);
  EXPECT_FALSE(parse(field("", "tiM")).type == parse(field("", "tiD")).type);
  EXPECT_FALSE(parse(dict_field("", "i", field("", "u"))).type ==
               parse(dict_field("", "l", field("", "u"))).type);
}

TEST(DataType, MalformedFormatStringsThrowArrowImportError) {
  const std::vector<SchemaSpec> bad = {
      field("", ""),
      field("", "Q"),
      field("", "ll"),
      field("", "w:"),
      field("", "w:abc"),
      field("", "w:-1"),
      field("", "d:"),
      field("", "d:10"),
      field("", "d:,2"),
      field("", "d:10,"),
      field("", "d:10,2,100"),
      field("", "d:10,2,128,5"),
      field("", "d:x,2"),
      field("", "ts"),
      field("", "tsu"),
      field("", "tsx:"),
      field("", "tt"),
      field("", "ttx"),
      field("", "ttss"),
      field("", "td"),
      field("", "tdx"),
      field("", "tD"),
      field("", "tDx"),
      field("", "+l"),                                      // list without child
      field("", "+l", {field("a", "l"), field("b", "l")}),  // list with two
      field("", "+w:", {field("item", "l")}),
      field("", "+w:-3", {field("item", "l")}),
      field("", "+m"),                                              // map without entries
      field("", "+s", {field("a", "Q")}),                           // bad child
      field("", "+l", {field("item", "+s", {field("x", "d:1")})}),  // bad grandchild
      dict_field("", "g", field("", "u")),                          // float indices
      dict_field("", "u", field("", "u")),                          // string indices
      dict_field("", "i", field("", "?")),                          // bad value type
      field("", "tiX"),                                             // unknown interval unit
      field("", "ti"),
      field("", "+ux:0", {field("a", "i")}),      // unknown union mode
      field("", "+r", {field("run_ends", "i")}),  // run-end encoded needs two
      field("", "+vx", {field("item", "i")}),     // unknown view layout
      field("", "d:-1,2"),                        // negative precision
  };
  for (const auto& spec : bad) {
    SCOPED_TRACE("format '" + spec.format + "'");
    EXPECT_THROW(parse(spec), ArrowImportError);
  }
}

TEST(DataType, MalformedSchemaStructsThrowArrowImportError) {
  {
    ScopedSchema s(field("", "+s", {field("a", "l")}));
    s.s.children = nullptr;
    EXPECT_THROW(parse_field(*s), ArrowImportError);
    s.s.children = static_cast<SchemaPrivate*>(s.s.private_data)->children.data();
  }
  {
    ScopedSchema s(field("", "+s", {field("a", "l")}));
    s.s.n_children = -1;
    EXPECT_THROW(parse_field(*s), ArrowImportError);
  }
  {
    ScopedSchema s(field("", "+s", {field("a", "l")}));
    ArrowSchema* nulls[1] = {nullptr};
    s.s.children = nulls;
    EXPECT_THROW(parse_field(*s), ArrowImportError);
    s.s.children = static_cast<SchemaPrivate*>(s.s.private_data)->children.data();
  }
  {
    ScopedSchema s(field("", "l"));
    s.s.format = nullptr;
    EXPECT_THROW(parse_field(*s), ArrowImportError);
  }
  {
    // nesting deeper than the engine accepts is an error, not a stack overflow
    SchemaSpec deep = field("x", "l");
    for (int i = 0; i < 200; ++i) deep = field("x", "+l", {deep});
    EXPECT_THROW(parse(deep), ArrowImportError);
  }
}

TEST(DataType, ErrorMessageQuotesTheFormatString) {
  expect_throws<ArrowImportError>([] { parse(field("", "d:10,2,100")); }, {"d:10,2,100"});
}

std::vector<uint8_t> bytes_of(const DataType& t) {
  ByteWriter w;
  t.serialize(w);
  return w.take();
}

TEST(DataType, SerializeDeserializeRoundTripsEveryType) {
  for (const auto& e : every_type()) {
    SCOPED_TRACE(e.text);
    const DataType t = parse(e.spec).type;
    const auto bytes = bytes_of(t);
    ByteReader r(bytes.data(), bytes.size(), "data type");
    const DataType back = DataType::deserialize(r);
    r.expect_end();
    EXPECT_EQ(back, t);
    EXPECT_EQ(back.to_string(), e.text);
    EXPECT_EQ(back.ordered, t.ordered);
    EXPECT_EQ(back.format, t.format);
    EXPECT_EQ(bytes_of(back), bytes);
  }
}

TEST(DataType, EveryTruncationThrowsCorruptProfileError) {
  for (const auto& e : every_type()) {
    SCOPED_TRACE(e.text);
    const auto bytes = bytes_of(parse(e.spec).type);
    for (size_t k = 0; k < bytes.size(); ++k) {
      ByteReader r(bytes.data(), k, "data type");
      EXPECT_THROW(DataType::deserialize(r), CorruptProfileError)
          << "truncated to " << k << " bytes";
    }
  }
}

TEST(DataType, CorruptIdsAndCountsThrowCorruptProfileError) {
  const auto good = bytes_of(parse(field("", "+s", {field("a", "l"), field("b", "u")})).type);
  auto expect_corrupt = [](std::vector<uint8_t> b) {
    ByteReader r(b.data(), b.size(), "data type");
    EXPECT_THROW(DataType::deserialize(r), CorruptProfileError);
  };
  {
    auto b = good;
    b[0] = static_cast<uint8_t>(TypeId::kCount_);  // unknown type id
    expect_corrupt(b);
  }
  {
    auto b = good;
    b[1] = 9;  // unknown time unit
    expect_corrupt(b);
  }
  {
    // children count far beyond what the bytes can hold must not allocate or read past the end
    auto b = good;
    // layout: id u8 | unit u8 | tz str (8+0) | width, precision, scale i32 | index u8 | ordered u8
    // |
    //         format str (8+2 "+s") | children u64
    const size_t at = 1 + 1 + 8 + 12 + 1 + 1 + 8 + 2;
    ASSERT_GE(b.size(), at + 8);
    const uint64_t huge = UINT64_MAX;
    std::memcpy(b.data() + at, &huge, 8);
    expect_corrupt(b);
  }
  {
    // a type nested deeper than any parser would produce
    ByteWriter w;
    for (int i = 0; i < 100; ++i) {
      w.u8(static_cast<uint8_t>(TypeId::kList));
      w.u8(0);
      w.str("");
      w.put<int32_t>(0);
      w.put<int32_t>(0);
      w.put<int32_t>(0);
      w.u8(0);
      w.u8(0);
      w.str("+l");
      w.u64(1);
      w.str("item");
    }
    auto b = w.take();
    expect_corrupt(b);
  }
}

// ---- validate(): one check of a type's parameters for parsing and deserializing ----

TEST(DataType, DecimalScaleOutsideTheSupportedRangeIsUnsupported) {
  for (const char* ok : {"d:10,2", "d:10,127", "d:10,-128", "d:76,127,256", "d:9,-128,32"}) {
    SCOPED_TRACE(ok);
    EXPECT_NO_THROW(parse(field("", ok)));
  }
  for (const char* bad :
       {"d:10,128", "d:10,-129", "d:10,2147483647", "d:10,-2147483648", "d:76,-2147483648,256"}) {
    SCOPED_TRACE(bad);
    expect_throws<UnsupportedTypeError>([&] { parse(field("", bad)); }, {"scale", "-128", "127"});
  }
  for (const char* bad : {"d:0,2", "d:39,2", "d:10,2,48", "d:10,2,0", "d:19,2,64", "d:77,2,256"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(parse(field("", bad)), ArrowImportError);
  }
}

// The bytes of `t` with one field changed after serialization, read back.
DataType forged(const DataType& t) {
  const auto bytes = bytes_of(t);
  ByteReader r(bytes.data(), bytes.size(), "data type");
  DataType back = DataType::deserialize(r);
  r.expect_end();
  return back;
}

TEST(DataType, DeserializeRejectsWhatParsingRejects) {
  const DataType decimal = parse(field("", "d:10,2,64")).type;
  ASSERT_NO_THROW(forged(decimal));
  std::vector<std::pair<std::string, DataType>> bad;
  auto add = [&](std::string what, DataType base, auto&& edit) {
    edit(base);
    bad.emplace_back(std::move(what), std::move(base));
  };
  // A scale of INT32_MIN reached `-scale` (undefined behaviour); INT32_MAX looped 2^31 times.
  add("scale INT32_MIN", decimal, [](DataType& t) { t.scale = INT32_MIN; });
  add("scale INT32_MAX", decimal, [](DataType& t) { t.scale = INT32_MAX; });
  add("scale 128", decimal, [](DataType& t) { t.scale = 128; });
  add("width 48", decimal, [](DataType& t) { t.width = 48; });
  add("precision 0", decimal, [](DataType& t) { t.precision = 0; });
  add("precision 19 in 64 bits", decimal, [](DataType& t) { t.precision = 19; });
  add("decimal with a child", decimal, [](DataType& t) {
    t.children.push_back(Field{"x", DataType{}});
  });
  const DataType i64 = parse(field("", "l")).type;
  add("scale on an int64", i64, [](DataType& t) { t.scale = -5; });
  add("width on an int64", i64, [](DataType& t) { t.width = 8; });
  add("time zone on an int64", i64, [](DataType& t) { t.timezone = "UTC"; });
  add("index type on an int64", i64, [](DataType& t) { t.index_id = TypeId::kInt32; });
  add("int64 with a child", i64, [](DataType& t) { t.children.push_back(Field{"x", DataType{}}); });
  const DataType list = parse(field("", "+l", {field("item", "l")})).type;
  add("list without child", list, [](DataType& t) { t.children.clear(); });
  add("list of a bad decimal", list, [&](DataType& t) {
    t.children[0].type = decimal;
    t.children[0].type.scale = INT32_MIN;
  });
  add("fixed-size list of -1", parse(field("", "+w:3", {field("item", "l")})).type,
      [](DataType& t) { t.width = -1; });
  add("fixed_size_binary of -1", parse(field("", "w:3")).type, [](DataType& t) { t.width = -1; });
  add("map without entries", parse(field("", "+m", {field("entries", "+s")})).type,
      [](DataType& t) { t.children.clear(); });
  const DataType dict = parse(dict_field("", "i", field("", "d:10,2,64"))).type;
  add("dictionary with float indices", dict, [](DataType& t) { t.index_id = TypeId::kFloat64; });
  add("dictionary without values", dict, [](DataType& t) { t.children.clear(); });
  add("dictionary of a bad decimal", dict,
      [](DataType& t) { t.children[0].type.scale = INT32_MAX; });
  add("time32 in ns", parse(field("", "tts")).type, [](DataType& t) { t.unit = TimeUnit::kNano; });
  add("time64 in s", parse(field("", "ttn")).type, [](DataType& t) { t.unit = TimeUnit::kSecond; });
  for (const auto& [what, t] : bad) {
    SCOPED_TRACE(what);
    EXPECT_THROW(t.validate(), Error);
    expect_throws<CorruptProfileError>([&] { forged(t); }, {"invalid data type"});
  }
}

TEST(DataType, EveryParsedTypeValidates) {
  for (const auto& e : every_type()) {
    SCOPED_TRACE(e.text);
    EXPECT_NO_THROW(parse(e.spec).type.validate());
  }
}

}  // namespace
}  // namespace truthound
