// traceparent / tracestate parsing by the W3C Trace Context rules, grouped like the W3C
// test suite (test/test.py in w3c/trace-context): version, trace-id, parent-id, flags,
// format, tracestate keys/values/members/duplicates.
#include "telemetry/trace_context.h"

#include <gtest/gtest.h>

#include <string>

namespace lantern::telemetry {
namespace {

constexpr const char* kTraceId = "0af7651916cd43dd8448eb211c80319c";
constexpr const char* kSpanId = "b7ad6b7169203331";

std::string Header(const std::string& version, const std::string& trace_id,
                   const std::string& span_id, const std::string& flags) {
  return version + "-" + trace_id + "-" + span_id + "-" + flags;
}

TEST(TraceParent, ParsesTheSpecExample) {
  auto context = ParseTraceParent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(ToHex(context->trace_id), kTraceId);
  EXPECT_EQ(ToHex(context->span_id), kSpanId);
  EXPECT_TRUE(context->IsSampled());
  EXPECT_TRUE(context->is_remote);
  EXPECT_EQ(FormatTraceParent(*context), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
}

TEST(TraceParent, NotSampledFlag) {
  auto context = ParseTraceParent(Header("00", kTraceId, kSpanId, "00"));
  ASSERT_TRUE(context.has_value());
  EXPECT_FALSE(context->IsSampled());
  EXPECT_EQ(FormatTraceParent(*context).substr(53), "00");
}

TEST(TraceParent, UnknownFlagsAreNotPropagated) {
  auto context = ParseTraceParent(Header("00", kTraceId, kSpanId, "ff"));
  ASSERT_TRUE(context.has_value());
  EXPECT_TRUE(context->IsSampled());
  EXPECT_EQ(FormatTraceParent(*context).substr(53), "01");
  context = ParseTraceParent(Header("00", kTraceId, kSpanId, "02"));
  ASSERT_TRUE(context.has_value());
  EXPECT_FALSE(context->IsSampled());
}

TEST(TraceParent, Version) {
  EXPECT_FALSE(ParseTraceParent(Header("ff", kTraceId, kSpanId, "01")));  // forbidden
  EXPECT_FALSE(ParseTraceParent(Header("0", kTraceId, kSpanId, "01")));
  EXPECT_FALSE(ParseTraceParent(Header("000", kTraceId, kSpanId, "01")));
  EXPECT_FALSE(ParseTraceParent(Header("0x", kTraceId, kSpanId, "01")));
  EXPECT_FALSE(ParseTraceParent(Header("0A", kTraceId, kSpanId, "01")));  // upper case
  // Higher versions are parsed by position.
  EXPECT_TRUE(ParseTraceParent(Header("01", kTraceId, kSpanId, "01")));
  EXPECT_TRUE(ParseTraceParent(Header("cc", kTraceId, kSpanId, "01")));
  EXPECT_TRUE(ParseTraceParent(Header("cc", kTraceId, kSpanId, "01") + "-what-the-future-will-be"));
  EXPECT_FALSE(ParseTraceParent(Header("cc", kTraceId, kSpanId, "01") + "what-the-future"));
  // Version 00 with anything after the flags is invalid.
  EXPECT_FALSE(ParseTraceParent(Header("00", kTraceId, kSpanId, "01") + "-"));
  EXPECT_FALSE(ParseTraceParent(Header("00", kTraceId, kSpanId, "01") + "-extra"));
}

TEST(TraceParent, TraceId) {
  EXPECT_FALSE(ParseTraceParent(Header("00", std::string(32, '0'), kSpanId, "01")));
  EXPECT_FALSE(ParseTraceParent(Header("00", "0AF7651916CD43DD8448EB211C80319C", kSpanId, "01")));
  EXPECT_FALSE(ParseTraceParent(Header("00", "0af7651916cd43dd8448eb211c80319", kSpanId, "01")));
  EXPECT_FALSE(ParseTraceParent(Header("00", "0af7651916cd43dd8448eb211c80319cc", kSpanId, "01")));
  EXPECT_FALSE(ParseTraceParent(Header("00", "0af7651916cd43dd8448eb211c80319g", kSpanId, "01")));
  EXPECT_FALSE(ParseTraceParent(Header("00", "0af7651916cd43dd8448eb211c8031-c", kSpanId, "01")));
}

TEST(TraceParent, ParentId) {
  EXPECT_FALSE(ParseTraceParent(Header("00", kTraceId, std::string(16, '0'), "01")));
  EXPECT_FALSE(ParseTraceParent(Header("00", kTraceId, "B7AD6B7169203331", "01")));
  EXPECT_FALSE(ParseTraceParent(Header("00", kTraceId, "b7ad6b716920333", "01")));
  EXPECT_FALSE(ParseTraceParent(Header("00", kTraceId, "b7ad6b71692033311", "01")));
  EXPECT_FALSE(ParseTraceParent(Header("00", kTraceId, "b7ad6b716920333.", "01")));
}

TEST(TraceParent, Flags) {
  EXPECT_FALSE(ParseTraceParent(Header("00", kTraceId, kSpanId, "0")));
  EXPECT_FALSE(ParseTraceParent(Header("00", kTraceId, kSpanId, "001")));
  EXPECT_FALSE(ParseTraceParent(Header("00", kTraceId, kSpanId, "0g")));
  EXPECT_FALSE(ParseTraceParent(Header("00", kTraceId, kSpanId, "0A")));
}

TEST(TraceParent, Format) {
  EXPECT_FALSE(ParseTraceParent(""));
  EXPECT_FALSE(ParseTraceParent("garbage"));
  EXPECT_FALSE(ParseTraceParent("00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01"));
  EXPECT_FALSE(ParseTraceParent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331_01"));
  EXPECT_FALSE(ParseTraceParent("00-0af7651916cd43dd8448eb211c80319cb-7ad6b7169203331-01"));
  // Optional whitespace around the value (HTTP OWS) is ignored.
  EXPECT_TRUE(ParseTraceParent(" 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\t"));
}

TEST(TraceState, KeysAndValues) {
  EXPECT_TRUE(IsValidTraceStateKey("foo"));
  EXPECT_TRUE(IsValidTraceStateKey("foo_bar-baz*qux/1"));
  EXPECT_TRUE(IsValidTraceStateKey(std::string(256, 'a')));
  EXPECT_FALSE(IsValidTraceStateKey(std::string(257, 'a')));
  EXPECT_FALSE(IsValidTraceStateKey(""));
  EXPECT_FALSE(IsValidTraceStateKey("1foo"));  // simple keys start with a letter
  EXPECT_FALSE(IsValidTraceStateKey("Foo"));   // lower case only
  EXPECT_FALSE(IsValidTraceStateKey("foo.bar"));
  // Multi-tenant keys: tenant (may start with a digit, <= 241) @ system (<= 14).
  EXPECT_TRUE(IsValidTraceStateKey("1tenant@vendor"));
  EXPECT_TRUE(IsValidTraceStateKey(std::string(241, 't') + "@" + std::string(14, 's')));
  EXPECT_FALSE(IsValidTraceStateKey(std::string(242, 't') + "@vendor"));
  EXPECT_FALSE(IsValidTraceStateKey("tenant@" + std::string(15, 's')));
  EXPECT_FALSE(IsValidTraceStateKey("tenant@1vendor"));
  EXPECT_FALSE(IsValidTraceStateKey("@vendor"));
  EXPECT_FALSE(IsValidTraceStateKey("tenant@"));
  EXPECT_FALSE(IsValidTraceStateKey("a@b@c"));

  EXPECT_TRUE(IsValidTraceStateValue("value"));
  EXPECT_TRUE(IsValidTraceStateValue("a b!~"));
  EXPECT_TRUE(IsValidTraceStateValue(std::string(256, 'v')));
  EXPECT_FALSE(IsValidTraceStateValue(std::string(257, 'v')));
  EXPECT_FALSE(IsValidTraceStateValue(""));
  EXPECT_FALSE(IsValidTraceStateValue("a,b"));
  EXPECT_FALSE(IsValidTraceStateValue("a=b"));
  EXPECT_FALSE(IsValidTraceStateValue("a\x01"));
  EXPECT_FALSE(IsValidTraceStateValue("caf\xc3\xa9"));  // non-ASCII
}

TEST(TraceState, ParsesMembersAndSkipsEmptyOnes) {
  auto members = ParseTraceState("rojo=00f067aa0ba902b7, congo=t61rcWkgMzE,,\t");
  ASSERT_TRUE(members.has_value());
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].first, "rojo");
  EXPECT_EQ((*members)[1].second, "t61rcWkgMzE");
  EXPECT_EQ(FormatTraceState(*members), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  EXPECT_EQ(NormalizeTraceState(""), "");
}

TEST(TraceState, AnInvalidMemberDiscardsTheWholeHeader) {
  EXPECT_FALSE(ParseTraceState("foo=1,bar"));
  EXPECT_FALSE(ParseTraceState("foo=1,Bar=2"));
  EXPECT_FALSE(ParseTraceState("foo=1,bar=a,b"));  // ',' splits: "b" has no '='
  EXPECT_FALSE(ParseTraceState("foo=1,bar=x=y"));
  EXPECT_FALSE(ParseTraceState("foo=1,bar="));
  EXPECT_EQ(NormalizeTraceState("foo=1,=2"), "");
}

TEST(TraceState, DuplicateKeysAreInvalid) {
  EXPECT_FALSE(ParseTraceState("foo=1,foo=2"));
  EXPECT_FALSE(ParseTraceState("a@b=1,c=2,a@b=3"));
}

TEST(TraceState, AtMost32Members) {
  std::string header;
  for (int i = 0; i < 32; ++i) {
    if (i > 0) header += ',';
    header.append("k").append(std::to_string(i)).append("=v");
  }
  auto members = ParseTraceState(header);
  ASSERT_TRUE(members.has_value());
  EXPECT_EQ(members->size(), 32u);
  EXPECT_FALSE(ParseTraceState(header + ",k32=v"));
  // Empty members do not count.
  EXPECT_TRUE(ParseTraceState(header + ",,,"));
}

}  // namespace
}  // namespace lantern::telemetry
