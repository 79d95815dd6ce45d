// The two OTLP encodings, checked with protobuf's own parsers: our JSON (otlp_json.h, ids
// turned from hex into the base64 of protobuf's JSON mapping) through protobuf's JSON
// parser and our protobuf bytes (otlp_wire.h) through the generated classes must give
// exactly the same message.
#include "telemetry/otlp_json.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "telemetry/otlp_proto.h"
#include "telemetry/otlp_wire.h"

namespace lantern::telemetry {
namespace {

using nlohmann::json;

std::string Base64(const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

std::string HexToBytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// OTLP/JSON -> protobuf JSON mapping: hex ids become base64.
void HexIdsToBase64(json& value) {
  if (value.is_array()) {
    for (json& element : value) HexIdsToBase64(element);
  } else if (value.is_object()) {
    for (auto& [key, element] : value.items()) {
      if ((key == "traceId" || key == "spanId" || key == "parentSpanId") && element.is_string()) {
        element = Base64(HexToBytes(element.get<std::string>()));
      } else {
        HexIdsToBase64(element);
      }
    }
  }
}

std::vector<std::unique_ptr<SpanData>> SampleSpans() {
  auto resource = std::make_shared<Resource>();
  resource->attributes = {{"service.name", std::string("svc")}, {"pid", int64_t{42}}};
  auto other_resource = std::make_shared<Resource>();
  auto scope = std::make_shared<InstrumentationScope>(InstrumentationScope{"lib", "1.2"});
  auto other_scope = std::make_shared<InstrumentationScope>(InstrumentationScope{"other", ""});
  std::vector<std::unique_ptr<SpanData>> spans;
  for (int i = 0; i < 5; ++i) {
    auto span = std::make_unique<SpanData>();
    for (int b = 0; b < 16; ++b) span->trace_id[b] = static_cast<uint8_t>(i * 31 + b);
    for (int b = 0; b < 8; ++b) span->span_id[b] = static_cast<uint8_t>(i * 17 + b + 1);
    if (i % 2 == 1) span->parent_span_id = {1, 2, 3, 4, 5, 6, 7, static_cast<uint8_t>(i)};
    span->trace_state = i == 0 ? "a=b,c=d" : "";
    span->flags = i == 0 ? 0x301 : 1;
    span->name = "span \"" + std::to_string(i) + "\"\n\t\\";
    span->kind = static_cast<SpanKind>(i % 6);
    span->start_time_unix_nano = 1700000000000000000 + i;
    span->end_time_unix_nano = INT64_MAX - i;
    span->attributes = {
        {"s", std::string("x\x01y\x7f\xc3\xa9")},
        {"b", i % 2 == 0},
        {"i", int64_t{INT64_MIN} + i},
        {"d", 0.1 * i - 1e300},
        {"as", std::vector<std::string>{"", "z"}},
        {"ai", std::vector<int64_t>{-1, INT64_MAX}},
        {"ad", std::vector<double>{5e-324, -0.5}},
        {"ab", std::vector<bool>{true, false}},
    };
    span->dropped_attributes_count = i;
    span->events.push_back({1700000000000000100, "ev", {{"k", std::string("v")}}, 2});
    span->dropped_events_count = 3 * i;
    span->links.push_back({span->trace_id, span->span_id, "l=1", 1, {{"lk", 7.5}}, 1});
    span->dropped_links_count = i;
    span->status_code = static_cast<StatusCode>(i % 3);
    span->status_message = i % 3 == 2 ? "boom" : "";
    span->resource = i < 4 ? resource : other_resource;
    span->scope = i % 2 == 0 ? scope : other_scope;
    spans.push_back(std::move(span));
  }
  return spans;
}

std::vector<const SpanData*> Pointers(const std::vector<std::unique_ptr<SpanData>>& spans) {
  std::vector<const SpanData*> out;
  for (const auto& span : spans) out.push_back(span.get());
  return out;
}

ExportTraceServiceRequest ParseWire(std::span<const SpanData* const> spans) {
  std::string bytes;
  AppendOtlpProtobuf(spans, &bytes);
  ExportTraceServiceRequest message;
  EXPECT_TRUE(message.ParseFromString(bytes));  // proto3 parsing also verifies UTF-8
  std::string canonical;
  message.SerializeToString(&canonical);
  EXPECT_EQ(bytes, canonical);  // the bytes protobuf itself writes for this message
  return message;
}

TEST(OtlpJson, ParsesIntoTheSameMessageAsTheProtobufEncoding) {
  auto spans = SampleSpans();
  ExportTraceServiceRequest from_proto = ParseWire(Pointers(spans));
  std::string text;
  AppendOtlpJson(Pointers(spans), &text);
  EXPECT_EQ(text.find('\n'), std::string::npos);  // one line
  json parsed = json::parse(text);
  HexIdsToBase64(parsed);
  ExportTraceServiceRequest from_json;
  auto status = google::protobuf::util::JsonStringToMessage(parsed.dump(), &from_json);
  ASSERT_TRUE(status.ok()) << status.ToString();
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(from_proto, from_json)) << diff;
  // Grouping: two resources; the first holds both scopes.
  ASSERT_EQ(from_proto.resource_spans_size(), 2);
  EXPECT_EQ(from_proto.resource_spans(0).scope_spans_size(), 2);
  EXPECT_EQ(from_proto.resource_spans(1).scope_spans_size(), 1);
}

TEST(OtlpJson, FollowsTheOtlpJsonRules) {
  auto spans = SampleSpans();
  std::string text;
  AppendOtlpJson(Pointers(spans), &text);
  json parsed = json::parse(text);
  const json& span = parsed["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(span["traceId"], "000102030405060708090a0b0c0d0e0f");  // lowercase hex
  EXPECT_EQ(span["spanId"], "0102030405060708");
  EXPECT_FALSE(span.contains("parentSpanId"));                  // a root span has none
  EXPECT_EQ(span["kind"], 0);                                   // enums as integers
  EXPECT_EQ(span["startTimeUnixNano"], "1700000000000000000");  // 64-bit ints as strings
  EXPECT_EQ(span["endTimeUnixNano"], "9223372036854775807");
  EXPECT_EQ(span["flags"], 0x301);
  EXPECT_EQ(span["attributes"][2]["value"]["intValue"], "-9223372036854775808");
  EXPECT_EQ(span["attributes"][0]["value"]["stringValue"], "x\x01y\x7f\xc3\xa9");
  EXPECT_EQ(span["name"], "span \"0\"\n\t\\");
  EXPECT_FALSE(span.contains("droppedEventsCount"));  // zero counts are omitted
}

TEST(OtlpJson, NonFiniteDoublesUseTheProtobufJsonStrings) {
  auto span = std::make_unique<SpanData>();
  span->attributes = {{"nan", std::nan("")},
                      {"inf", HUGE_VAL},
                      {"ninf", -HUGE_VAL},
                      {"arr", std::vector<double>{-HUGE_VAL, 1.0}}};
  const SpanData* pointer = span.get();
  std::string text;
  AppendOtlpJson(std::span<const SpanData* const>(&pointer, 1), &text);
  EXPECT_NE(text.find("{\"doubleValue\":\"NaN\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("{\"doubleValue\":\"Infinity\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("{\"doubleValue\":\"-Infinity\"}"), std::string::npos) << text;
  ExportTraceServiceRequest message;
  json parsed = json::parse(text);
  HexIdsToBase64(parsed);
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(parsed.dump(), &message).ok());
  const auto& attributes = message.resource_spans(0).scope_spans(0).spans(0).attributes();
  EXPECT_TRUE(std::isnan(attributes[0].value().double_value()));
  EXPECT_EQ(attributes[1].value().double_value(), HUGE_VAL);
  EXPECT_EQ(attributes[3].value().array_value().values(0).double_value(), -HUGE_VAL);
}

TEST(OtlpJson, InvalidUtf8IsReplacedInBothEncodings) {
  auto span = std::make_unique<SpanData>();
  span->name = "ok\xff\xc3(\xed\xa0\x80\xf4\x90\x80\x80 end \xe2\x82\xac";
  const SpanData* pointer = span.get();
  const std::string expected =
      "ok\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
      "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end \xe2\x82\xac";
  std::string text;
  AppendOtlpJson(std::span<const SpanData* const>(&pointer, 1), &text);
  EXPECT_EQ(json::parse(text)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"], expected);
  ExportTraceServiceRequest message = ParseWire(std::span<const SpanData* const>(&pointer, 1));
  EXPECT_EQ(message.resource_spans(0).scope_spans(0).spans(0).name(), expected);
}

TEST(OtlpWire, LongLengthPrefixes) {
  // Nested lengths of 1, 2, 3 and 4 varint bytes.
  for (size_t size : {0u, 100u, 200u, 20000u, 3000000u}) {
    auto span = std::make_unique<SpanData>();
    std::string big;
    big.resize(size, 'q');
    span->attributes.resize(2);
    span->attributes[0].key = "big";
    span->attributes[0].value = std::move(big);
    span->attributes[1].key = "after";
    span->attributes[1].value = int64_t{-5};
    span->name.push_back('n');
    const SpanData* pointer = span.get();
    ExportTraceServiceRequest message = ParseWire(std::span<const SpanData* const>(&pointer, 1));
    const auto& parsed = message.resource_spans(0).scope_spans(0).spans(0);
    EXPECT_EQ(parsed.attributes(0).value().string_value().size(), size);
    EXPECT_EQ(parsed.attributes(1).value().int_value(), -5);
    EXPECT_EQ(parsed.name(), "n");
  }
}

}  // namespace
}  // namespace lantern::telemetry
