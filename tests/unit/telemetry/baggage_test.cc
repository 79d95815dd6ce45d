// W3C Baggage: grammar, percent-encoding, properties, and the 64-member / 8192-byte limits.
#include "telemetry/baggage.h"

#include <gtest/gtest.h>

#include <string>

namespace lantern::telemetry {
namespace {

TEST(Baggage, ParsesTheSpecExample) {
  Baggage b = Baggage::Parse(
      "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue");
  ASSERT_EQ(b.entries().size(), 3u);
  EXPECT_EQ(b.entries()[0].key, "key1");
  EXPECT_EQ(b.entries()[0].value, "value1");
  EXPECT_EQ(b.entries()[0].metadata, "property1;property2");
  EXPECT_EQ(b.Get("key2"), "value2");
  EXPECT_EQ(b.entries()[2].metadata, "propertyKey=propertyValue");
}

TEST(Baggage, PercentDecodesValues) {
  Baggage b =
      Baggage::Parse("userId=alice,serverNode=DF%2028,isProduction=false,emoji=%F0%9F%98%80");
  EXPECT_EQ(b.Get("serverNode"), "DF 28");
  EXPECT_EQ(b.Get("emoji"), "\xF0\x9F\x98\x80");
}

TEST(Baggage, SkipsInvalidMembers) {
  Baggage b = Baggage::Parse("good=1,no_equals,bad key=2,=3,bad%=%zz,quote=\"x\",ok=2");
  ASSERT_EQ(b.entries().size(), 2u);
  EXPECT_EQ(b.Get("good"), "1");
  EXPECT_EQ(b.Get("ok"), "2");
}

TEST(Baggage, EncodesValuesOnInject) {
  Baggage b;
  ASSERT_TRUE(b.Set("k", "a b,c;d=e%\"\\\xc3\xa9"));
  EXPECT_FALSE(b.Set("bad key", "v"));
  EXPECT_EQ(b.ToHeader(), "k=a%20b%2Cc%3Bd=e%25%22%5C%C3%A9");
  // And decoding gives the value back.
  EXPECT_EQ(Baggage::Parse(b.ToHeader()).Get("k"), "a b,c;d=e%\"\\\xc3\xa9");
}

TEST(Baggage, MetadataIsKeptOnInject) {
  Baggage b = Baggage::Parse("k=v;ttl=10");
  EXPECT_EQ(b.ToHeader(), "k=v;ttl=10");
}

TEST(Baggage, SetReplacesAndRemoveRemoves) {
  Baggage b;
  b.Set("k", "1");
  b.Set("k", "2");
  EXPECT_EQ(b.entries().size(), 1u);
  EXPECT_EQ(b.Get("k"), "2");
  EXPECT_TRUE(b.Remove("k"));
  EXPECT_TRUE(b.empty());
}

TEST(Baggage, AtMost64Members) {
  std::string header;
  for (int i = 0; i < 70; ++i) {
    if (i > 0) header += ',';
    header.append("k").append(std::to_string(i)).append("=v");
  }
  Baggage b = Baggage::Parse(header);
  EXPECT_EQ(b.entries().size(), 64u);
  EXPECT_TRUE(b.Get("k63").has_value());
  EXPECT_FALSE(b.Get("k64").has_value());
}

TEST(Baggage, HeaderOver8192BytesIsDiscarded) {
  std::string big = "k=" + std::string(8191, 'v');
  EXPECT_TRUE(Baggage::Parse(big).empty());
  std::string fits = "k=" + std::string(8190, 'v');
  EXPECT_EQ(Baggage::Parse(fits).entries().size(), 1u);
}

TEST(Baggage, InjectStaysWithin8192Bytes) {
  Baggage b;
  b.Set("a", std::string(5000, 'x'));
  b.Set("b", std::string(5000, 'y'));  // would exceed: dropped
  b.Set("c", "small");
  std::string header = b.ToHeader();
  EXPECT_LE(header.size(), 8192u);
  Baggage back = Baggage::Parse(header);
  EXPECT_TRUE(back.Get("a").has_value());
  EXPECT_FALSE(back.Get("b").has_value());
  EXPECT_EQ(back.Get("c"), "small");
}

TEST(PercentDecode, RejectsMalformedEscapes) {
  EXPECT_EQ(PercentDecode("%41%42"), "AB");
  EXPECT_FALSE(PercentDecode("%4"));
  EXPECT_FALSE(PercentDecode("%"));
  EXPECT_FALSE(PercentDecode("%G1"));
}

}  // namespace
}  // namespace lantern::telemetry
