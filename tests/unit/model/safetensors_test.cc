// The safetensors reader against hand-built files: every check of the reference reader,
// the sharded index, and truncation at every length.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "loader_test_util.h"
#include "model/weights.h"

namespace lantern::model {
namespace {

using testing::AsBytes;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::WriteFile;

// A safetensors image: 8-byte little-endian header length, header, data.
std::string Image(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  out.append(header).append(data);
  return out;
}

std::string Pattern(size_t n, int seed = 0) {
  std::string data(n, '\0');
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<char>((i * 7 + seed) & 0xFF);
  return data;
}

std::string Tensor(const std::string& name, const std::string& dtype, const std::string& shape,
                   uint64_t begin, uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(end) + "]}";
}

// Parses an image that must be rejected; returns the message, which must name the source.
std::string Rejection(const std::string& image) {
  auto parsed = ParseSafetensors(AsBytes(image), "/m/model.safetensors");
  EXPECT_FALSE(parsed.ok());
  if (parsed.ok()) return "";
  EXPECT_THAT(parsed.status().message(), HasSubstr("/m/model.safetensors"));
  return parsed.status().message();
}

TEST(SafetensorsTest, ParsesTensorsAsViewsIntoTheImage) {
  const std::string header =
      "{\"__metadata__\":{\"format\":\"pt\"}," + Tensor("b", "BF16", "[4]", 24, 32) + "," +
      Tensor("a", "F32", "[2,3]", 0, 24) + "," + Tensor("s", "F16", "[]", 32, 34) + "," +
      Tensor("e", "F32", "[0,5]", 34, 34) + "}";
  const std::string image = Image(header, Pattern(34));
  auto parsed = ParseSafetensors(AsBytes(image), "x");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 4u);
  const std::byte* data = AsBytes(image).data() + 8 + header.size();
  const WeightView& a = parsed->at("a");
  EXPECT_EQ(a.dtype, DType::kF32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, data);  // zero-copy
  EXPECT_EQ(a.nbytes, 24u);
  EXPECT_EQ(a.numel(), 6);
  EXPECT_EQ(parsed->at("b").dtype, DType::kBF16);
  EXPECT_EQ(parsed->at("b").data, data + 24);
  EXPECT_EQ(parsed->at("s").numel(), 1);
  EXPECT_EQ(parsed->at("s").dtype, DType::kF16);
  EXPECT_EQ(parsed->at("e").nbytes, 0u);
}

TEST(SafetensorsTest, AcceptsAnEmptyHeaderAndPadding) {
  EXPECT_TRUE(ParseSafetensors(AsBytes(Image("{}", "")), "x").ok());
  EXPECT_TRUE(ParseSafetensors(AsBytes(Image("{}      ", "")), "x").ok());
  EXPECT_TRUE(ParseSafetensors(AsBytes(Image("{\"__metadata__\":null}", "")), "x").ok());
}

TEST(SafetensorsTest, RejectsFilesTooShortForTheLength) {
  EXPECT_THAT(Rejection("\x02\0\0\0"), HasSubstr("too short"));
  EXPECT_THAT(Rejection(""), HasSubstr("too short"));
}

TEST(SafetensorsTest, RejectsHeaderLongerThanTheLimit) {
  std::string image = Image("{}", "");
  const uint64_t n = 100'000'001;
  std::memcpy(image.data(), &n, 8);
  EXPECT_THAT(Rejection(image), HasSubstr("exceeds the limit of 100000000 bytes"));
  const uint64_t huge = ~0ULL;
  std::memcpy(image.data(), &huge, 8);
  EXPECT_THAT(Rejection(image), HasSubstr("exceeds the limit"));
}

TEST(SafetensorsTest, RejectsHeaderPastTheEndOfTheFile) {
  std::string image = Image("{}", "");
  const uint64_t n = 3;
  std::memcpy(image.data(), &n, 8);
  EXPECT_THAT(Rejection(image), HasSubstr("runs past the end of the file"));
}

TEST(SafetensorsTest, RejectsHeaderThatIsNotUtf8) {
  EXPECT_THAT(Rejection(Image("{\"a\xff\":1}", "")), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(Rejection(Image("{\"\xed\xa0\x80\":1}", "")), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(Rejection(Image("{\"\xc0\xaf\":1}", "")), HasSubstr("not valid UTF-8"));
}

TEST(SafetensorsTest, RejectsHeaderNotStartingWithABrace) {
  EXPECT_THAT(Rejection(Image(" {}", "")), HasSubstr("does not start with '{'"));
  EXPECT_THAT(Rejection(Image("[]", "")), HasSubstr("does not start with '{'"));
  EXPECT_THAT(Rejection(Image("", "")), HasSubstr("does not start with '{'"));
}

TEST(SafetensorsTest, RejectsInvalidJson) {
  EXPECT_THAT(Rejection(Image("{\"a\":", "")), HasSubstr("invalid JSON"));
  EXPECT_THAT(Rejection(Image("{} {}", "")), HasSubstr("invalid JSON"));
  EXPECT_THAT(Rejection(Image("{\"a\":" + std::string(1000, '[') + "}", "")),
              HasSubstr("nested deeper"));
}

TEST(SafetensorsTest, RejectsDuplicateNames) {
  const std::string t = Tensor("w", "F32", "[1]", 0, 4);
  EXPECT_THAT(Rejection(Image("{" + t + "," + t + "}", Pattern(4))),
              HasSubstr("duplicate key 'w'"));
  EXPECT_THAT(Rejection(Image("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],"
                              "\"data_offsets\":[0,4]}}",
                              Pattern(4))),
              HasSubstr("duplicate key 'dtype'"));
}

TEST(SafetensorsTest, RejectsMetadataThatIsNotAStringMap) {
  EXPECT_THAT(Rejection(Image("{\"__metadata__\":{\"format\":1}}", "")),
              HasSubstr("\"__metadata__\" value for 'format' must be a string"));
  EXPECT_THAT(Rejection(Image("{\"__metadata__\":[\"pt\"]}", "")),
              HasSubstr("\"__metadata__\" must be an object"));
}

TEST(SafetensorsTest, RejectsMalformedTensorEntries) {
  EXPECT_THAT(Rejection(Image("{\"w\":3}", "")), HasSubstr("tensor 'w': expected an object"));
  EXPECT_THAT(Rejection(Image("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", Pattern(4))),
              HasSubstr("missing field \"dtype\""));
  EXPECT_THAT(Rejection(Image("{" + Tensor("w", "F33", "[1]", 0, 4) + "}", Pattern(4))),
              HasSubstr("unknown dtype 'F33'"));
  EXPECT_THAT(Rejection(Image("{" + Tensor("w", "F32", "[-1]", 0, 4) + "}", Pattern(4))),
              HasSubstr("\"shape\" must hold non-negative integers"));
  EXPECT_THAT(Rejection(Image("{" + Tensor("w", "F32", "[1.5]", 0, 4) + "}", Pattern(4))),
              HasSubstr("\"shape\" must hold non-negative integers"));
  EXPECT_THAT(Rejection(Image("{" + Tensor("w", "F32", "\"1\"", 0, 4) + "}", Pattern(4))),
              HasSubstr("\"shape\" must be an array"));
  EXPECT_THAT(Rejection(Image("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}",
                              Pattern(4))),
              HasSubstr("\"data_offsets\" must be [begin, end]"));
}

TEST(SafetensorsTest, RejectsOffsetsThatOverlapLeaveHolesOrDoNotStartAtZero) {
  const std::string a = Tensor("a", "F32", "[6]", 0, 24);
  EXPECT_THAT(
      Rejection(Image("{" + a + "," + Tensor("b", "F32", "[6]", 16, 40) + "}", Pattern(40))),
      HasSubstr("tensor 'b': data_offsets [16, 40] are not contiguous"));
  EXPECT_THAT(
      Rejection(Image("{" + a + "," + Tensor("b", "F32", "[2]", 28, 36) + "}", Pattern(36))),
      HasSubstr("tensor 'b': data_offsets [28, 36] are not contiguous"));
  EXPECT_THAT(Rejection(Image("{" + Tensor("a", "F32", "[6]", 4, 28) + "}", Pattern(28))),
              HasSubstr("expected it to start at 0"));
  EXPECT_THAT(Rejection(Image("{" + Tensor("a", "F32", "[0]", 0, 0) + "," +
                                  Tensor("b", "F32", "[0]", 8, 0) + "}",
                              Pattern(8))),
              HasSubstr("not contiguous"));
}

TEST(SafetensorsTest, RejectsSpanThatDoesNotMatchTheShape) {
  EXPECT_THAT(Rejection(Image("{" + Tensor("a", "F32", "[2,3]", 0, 20) + "}", Pattern(20))),
              HasSubstr("tensor 'a': shape [2, 3] of dtype F32 needs 24 bytes but data_offsets "
                        "span 20 bytes"));
}

TEST(SafetensorsTest, RejectsShapesWhoseSizeOverflows) {
  EXPECT_THAT(Rejection(Image("{" + Tensor("a", "F32", "[4294967296,4294967296]", 0, 0) + "}", "")),
              HasSubstr("tensor 'a': shape [4294967296, 4294967296] overflows"));
  // numel fits in 64 bits but its byte size does not.
  EXPECT_THAT(Rejection(Image("{" + Tensor("a", "F32", "[4611686018427387904]", 0, 0) + "}", "")),
              HasSubstr("overflows"));
  EXPECT_THAT(Rejection(Image("{" + Tensor("a", "F32", "[18446744073709551616]", 0, 0) + "}", "")),
              HasSubstr("\"shape\" must hold non-negative integers"));
}

TEST(SafetensorsTest, RejectsTrailingAndMissingBytes) {
  const std::string header = "{" + Tensor("a", "F32", "[2]", 0, 8) + "}";
  EXPECT_THAT(Rejection(Image(header, Pattern(9))),
              HasSubstr("the tensors cover 8 bytes of data but the file holds 9 (trailing"));
  EXPECT_THAT(Rejection(Image(header, Pattern(7))),
              HasSubstr("the tensors cover 8 bytes of data but the file holds 7"));
}

TEST(SafetensorsTest, RefusesValidButUnsupportedDtypesNamingTheTensor) {
  auto parsed = ParseSafetensors(
      AsBytes(Image("{" + Tensor("ids", "I64", "[2]", 0, 16) + "}", Pattern(16))), "f");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(parsed.status().message(), HasSubstr("tensor 'ids' has unsupported dtype I64"));
}

TEST(SafetensorsTest, EveryTruncationIsAnErrorNotACrash) {
  const std::string header = "{\"__metadata__\":{\"format\":\"pt\"}," +
                             Tensor("a", "F32", "[2,3]", 0, 24) + "," +
                             Tensor("b", "BF16", "[4]", 24, 32) + "}";
  const std::string image = Image(header, Pattern(32));
  ASSERT_TRUE(ParseSafetensors(AsBytes(image), "x").ok());
  for (size_t len = 0; len < image.size(); ++len) {
    EXPECT_FALSE(ParseSafetensors(AsBytes(image.substr(0, len)), "x").ok()) << len;
  }
}

TEST(SafetensorsFileTest, ErrorsNameTheFile) {
  TempDir dir;
  const auto path = dir.path() / "model.safetensors";
  WriteFile(path, Image("{" + Tensor("a", "F32", "[2]", 0, 8) + "}", Pattern(9)));
  auto store = WeightStore::OpenSafetensors(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(path.string() + ": the tensors cover"));

  auto missing = WeightStore::OpenSafetensors(dir.path() / "nope.safetensors");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.safetensors"));
}

TEST(SafetensorsFileTest, MisalignedTensorsAreCopiedToAlignedMemory) {
  TempDir dir;
  const auto path = dir.path() / "model.safetensors";
  // Pad the header so that the data starts at an odd offset: F32 data at an odd address.
  std::string header = "{" + Tensor("a", "F32", "[2]", 0, 8) + "}";
  while ((8 + header.size()) % 4 != 1) header.push_back(' ');
  const std::string data = Pattern(8, 3);
  WriteFile(path, Image(header, data));
  auto store = WeightStore::OpenSafetensors(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const WeightView* a = store->Find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a->data) % 4, 0u);
  EXPECT_EQ(std::memcmp(a->data, data.data(), 8), 0);
  EXPECT_EQ(store->format(), "safetensors");
}

// A directory with two shards and an index; the test then breaks one piece.
class ShardedSafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.path() / "s1.safetensors", Image("{" + Tensor("a", "F32", "[2]", 0, 8) + "," +
                                                        Tensor("b", "F16", "[2]", 8, 12) + "}",
                                                    Pattern(12, 1)));
    WriteFile(dir_.path() / "s2.safetensors",
              Image("{" + Tensor("c", "BF16", "[3]", 0, 6) + "}", Pattern(6, 2)));
  }
  void WriteIndex(const std::string& weight_map) {
    WriteFile(dir_.path() / "model.safetensors.index.json",
              "{\"metadata\":{\"total_size\":18},\"weight_map\":" + weight_map + "}");
  }
  std::string OpenError() {
    auto store = WeightStore::Open(dir_.path());
    EXPECT_FALSE(store.ok());
    return store.ok() ? "" : store.status().message();
  }
  TempDir dir_;
};

TEST_F(ShardedSafetensorsTest, OpensEveryShardThroughTheIndex) {
  WriteIndex(R"({"a":"s1.safetensors","b":"s1.safetensors","c":"s2.safetensors"})");
  auto store = WeightStore::Open(dir_.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->Names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(store->Find("c")->dtype, DType::kBF16);
  EXPECT_EQ(std::memcmp(store->Find("c")->data, Pattern(6, 2).data(), 6), 0);
  EXPECT_EQ(store->total_bytes(), 18u);
}

TEST_F(ShardedSafetensorsTest, RejectsANameMissingFromItsShard) {
  WriteIndex(R"({"a":"s1.safetensors","b":"s1.safetensors","c":"s1.safetensors"})");
  EXPECT_THAT(OpenError(), HasSubstr("model.safetensors.index.json: lists tensor 'c' in "
                                     "'s1.safetensors', but that shard does not contain it"));
}

TEST_F(ShardedSafetensorsTest, RejectsATensorInTwoShards) {
  WriteFile(dir_.path() / "s2.safetensors",
            Image("{" + Tensor("a", "F32", "[2]", 0, 8) + "}", Pattern(8)));
  WriteIndex(R"({"a":"s1.safetensors","b":"s1.safetensors"})");
  WriteIndex(R"({"a":"s2.safetensors","b":"s1.safetensors"})");
  EXPECT_THAT(OpenError(), HasSubstr("duplicate tensor 'a'"));
}

TEST_F(ShardedSafetensorsTest, RejectsBadIndexFiles) {
  WriteIndex(R"({"a":"../s1.safetensors"})");
  EXPECT_THAT(OpenError(), HasSubstr("not a plain file name"));
  WriteIndex(R"({"a":"s1.safetensors","a":"s2.safetensors"})");
  EXPECT_THAT(OpenError(), HasSubstr("duplicate key 'a'"));
  WriteIndex(R"({"a":1})");
  EXPECT_THAT(OpenError(), HasSubstr("must name a file"));
  WriteIndex(R"({})");
  EXPECT_THAT(OpenError(), HasSubstr("\"weight_map\" must be a non-empty object"));
  WriteIndex(R"({"a":"missing.safetensors"})");
  EXPECT_THAT(OpenError(), HasSubstr("missing.safetensors"));
  WriteFile(dir_.path() / "model.safetensors.index.json", "{\"metadata\":{}}");
  EXPECT_THAT(OpenError(), HasSubstr("missing field \"weight_map\""));
}

TEST(WeightStoreOpenTest, NamesWhatItLookedFor) {
  TempDir dir;
  auto store = WeightStore::Open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(store.status().message(), HasSubstr("model.safetensors"));
  EXPECT_THAT(store.status().message(), HasSubstr("pytorch_model.bin"));
}

}  // namespace
}  // namespace lantern::model
