// Hostile tokenizer files: every bad id, count or line is a clear error that names its file
// (and line), found before anything is sized by it; none crashes or allocates gigabytes.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace lantern::tokenizer {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("lantern_hostile_files_test_" + std::to_string(getpid()) +
                                         "_" + std::to_string(count_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  static inline int count_ = 0;
  fs::path path_;
};

std::string TokenizerJson(const std::string& vocab, const std::string& added = "[]",
                          const std::string& extra = "") {
  return R"({"added_tokens": )" + added + R"(, "model": {"type": "BPE", "vocab": )" + vocab +
         R"(, "merges": []})" + extra + "}";
}

// A GPT-2 style directory: vocab.json + merges.txt (+ tokenizer_config.json).
void WriteLegacy(const TempDir& dir, const std::string& vocab, const std::string& merges,
                 const std::string& config = "{}") {
  dir.Write("vocab.json", vocab);
  dir.Write("merges.txt", merges);
  dir.Write("tokenizer_config.json", config);
}

Status LoadStatus(const fs::path& dir) {
  auto tokenizer = Tokenizer::Load(dir);
  return tokenizer.ok() ? Status::Ok() : tokenizer.status();
}

// Address space the loader may add while failing: far below what a table sized by a
// hostile id would take (10^9 ids are 32 GB of strings), far above what the files need.
constexpr rlim_t kGrowthLimit = rlim_t{1} << 30;

void LimitAddressSpaceGrowth() {
  std::ifstream status("/proc/self/status");
  std::string line;
  rlim_t size_kib = 0;
  while (std::getline(status, line)) {
    if (line.starts_with("VmSize:")) size_kib = std::stoull(line.substr(7));
  }
  const rlimit limit{size_kib * 1024 + kGrowthLimit, size_kib * 1024 + kGrowthLimit};
  setrlimit(RLIMIT_AS, &limit);
}

// Loads `dir` first in a child process whose address space may grow by kGrowthLimit only,
// which must fail cleanly and fast; then, known to be harmless, here for its message.
Status LoadBounded(const fs::path& dir) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EXIT(
      {
        LimitAddressSpaceGrowth();
        std::_Exit(LoadStatus(dir).ok() ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "")
      << "the load did not end in an error within the memory limit";
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  if (::testing::Test::HasFailure()) return Status(StatusCode::kInternal, "bounded load failed");
  return LoadStatus(dir);
}

TEST(HostileFilesTest, HugeVocabularyIdsAreRefusedWithoutAllocating) {
  for (const std::string id : {"1000000000", "50000000", "2147483647", "4294967296",
                               "18446744073709551615", "-1", "-2147483649"}) {
    SCOPED_TRACE(id);
    TempDir dir;
    dir.Write("tokenizer.json", TokenizerJson(R"({"a": 0, "abc": )" + id + "}"));
    Status status = LoadBounded(dir.path());
    EXPECT_THAT(status.message(),
                HasSubstr(dir.File("tokenizer.json") + ": model.vocab: token id " + id +
                          " of \"abc\" is outside [0, 1028)"));
  }
}

TEST(HostileFilesTest, HugeAddedTokenIdIsRefusedWithoutAllocating) {
  TempDir dir;
  dir.Write("tokenizer.json",
            TokenizerJson(R"({"a": 0})", R"([{"id": 1000000000, "content": "<x>"}])"));
  Status status = LoadBounded(dir.path());
  EXPECT_THAT(status.message(), HasSubstr(dir.File("tokenizer.json") + ": added_tokens[0]: "));
  EXPECT_THAT(status.message(), HasSubstr("token id 1000000000 of \"<x>\" is outside [0, 1028)"));
}

TEST(HostileFilesTest, HugeIdsInVocabJsonAndAddedTokensDecoderAreRefused) {
  TempDir dir;
  WriteLegacy(dir, R"({"a": 0, "b": 50000000})", "a a\n");
  EXPECT_THAT(LoadBounded(dir.path()).message(),
              HasSubstr(dir.File("vocab.json") + ": token id 50000000 of \"b\" is outside"));
  WriteLegacy(dir, R"({"a": 0, "aa": 1})", "a a\n",
              R"({"added_tokens_decoder": {"1000000000": {"content": "<x>"}}})");
  EXPECT_THAT(
      LoadBounded(dir.path()).message(),
      HasSubstr(dir.File("tokenizer_config.json") +
                ": added_tokens_decoder key \"1000000000\" is not a token id in [0, 1030)"));
}

TEST(HostileFilesTest, SparseIdsWithinTheBoundStillLoad) {
  // Hugging Face loads vocabularies with holes; so do we while they stay small.
  TempDir dir;
  dir.Write("tokenizer.json", TokenizerJson(R"({"a": 0, "b": 1027})",
                                            R"([{"id": 1027, "content": "b"},
                                                {"id": 1031, "content": "<x>"}])"));
  auto tokenizer = Tokenizer::Load(dir.path());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  EXPECT_EQ((*tokenizer)->TokenToId("<x>"), 1031);
  EXPECT_EQ((*tokenizer)->vocab_size(), 1032);
}

TEST(HostileFilesTest, IdsThatAreNotIntegersNameTheFileAndToken) {
  for (const std::string id : {"1.5", "1e30", "\"3\"", "null", "true", "[1]", "{}"}) {
    SCOPED_TRACE(id);
    TempDir dir;
    dir.Write("tokenizer.json", TokenizerJson(R"({"a": 0, "abc": )" + id + "}"));
    EXPECT_THAT(LoadStatus(dir.path()).message(),
                HasSubstr(dir.File("tokenizer.json") +
                          ": model.vocab: the id of \"abc\" must be an integer, not "));
    WriteLegacy(dir, R"({"a": 0, "abc": )" + id + "}", "");
    fs::remove(dir.path() / "tokenizer.json");
    EXPECT_THAT(LoadStatus(dir.path()).message(),
                HasSubstr(dir.File("vocab.json") + ": the id of \"abc\" must be an integer"));
  }
}

TEST(HostileFilesTest, VocabulariesThatAreNotObjectsNameTheFile) {
  for (const std::string vocab : {"[]", "[[\"a\", 0]]", "\"a\"", "7", "null"}) {
    SCOPED_TRACE(vocab);
    TempDir dir;
    dir.Write("tokenizer.json", TokenizerJson(vocab));
    EXPECT_THAT(LoadStatus(dir.path()).message(),
                HasSubstr(dir.File("tokenizer.json") + ": model.vocab: expected an object"));
    fs::remove(dir.path() / "tokenizer.json");
    WriteLegacy(dir, vocab, "");
    EXPECT_THAT(LoadStatus(dir.path()).message(), HasSubstr(dir.File("vocab.json") + ": "));
  }
}

TEST(HostileFilesTest, DuplicateIdsNameBothTokens) {
  TempDir dir;
  dir.Write("tokenizer.json", TokenizerJson(R"({"a": 0, "b": 0})"));
  EXPECT_THAT(
      LoadStatus(dir.path()).message(),
      HasSubstr(dir.File("tokenizer.json") + ": model.vocab: \"a\" and \"b\" both have id 0"));
  dir.Write("tokenizer.json", TokenizerJson(R"({"a": 0})", R"([{"id": 1, "content": "<x>"},
                                                              {"id": 1, "content": "<y>"}])"));
  EXPECT_THAT(LoadStatus(dir.path()).message(),
              HasSubstr(": added_tokens: \"<x>\" and \"<y>\" both have id 1"));
  // The same added token twice, or an added token with the model's own id, is how
  // Hugging Face writes special tokens: accepted.
  dir.Write("tokenizer.json", TokenizerJson(R"({"a": 0})", R"([{"id": 0, "content": "a"},
                                                              {"id": 0, "content": "a"}])"));
  EXPECT_TRUE(LoadStatus(dir.path()).ok());
  fs::remove(dir.path() / "tokenizer.json");
  WriteLegacy(dir, R"({"a": 0, "b": 0})", "");
  EXPECT_THAT(LoadStatus(dir.path()).message(),
              HasSubstr(dir.File("vocab.json") + ": \"a\" and \"b\" both have id 0"));
  WriteLegacy(dir, R"({"a": 0})", "",
              R"({"added_tokens_decoder": {"5": {"content": "<x>"}, "05": {"content": "<y>"}}})");
  EXPECT_THAT(LoadStatus(dir.path()).message(),
              HasSubstr(dir.File("tokenizer_config.json") + ": added_tokens_decoder lists id 5"));
}

TEST(HostileFilesTest, MergesTxtErrorsNameTheFileAndLine) {
  TempDir dir;
  const std::string vocab = R"({"a": 0, "b": 1, "ab": 2})";
  WriteLegacy(dir, vocab, "#version: 0.2\na b\nab\n");
  EXPECT_THAT(
      LoadStatus(dir.path()).message(),
      HasSubstr(dir.File("merges.txt") + ":3: \"ab\" is not two tokens separated by one space"));
  WriteLegacy(dir, vocab, "#version: 0.2\na b\na zz\n");
  EXPECT_THAT(LoadStatus(dir.path()).message(),
              HasSubstr(dir.File("merges.txt") + ":3: the merge \"a zz\" needs \"zz\""));
  WriteLegacy(dir, vocab, "b a\n");
  EXPECT_THAT(LoadStatus(dir.path()).message(),
              HasSubstr(dir.File("merges.txt") + ":1: the merge \"b a\" needs \"ba\""));
}

TEST(HostileFilesTest, ConfigErrorsNameTheirFile) {
  TempDir dir;
  WriteLegacy(dir, R"({"a": 0, "<s>": 1})", "");
  const std::string config = dir.File("tokenizer_config.json");
  for (const std::string text :
       {R"({"bos_token": {"content": "<s>", "lstrip": "yes"}})", R"({"add_prefix_space": 1})",
        R"({"add_eos_token": "no"})", R"({"chat_template": 5})", R"({"chat_template": [1]})",
        R"({"added_tokens_decoder": {"1": {"content": "<s>", "special": "yes"}}})",
        R"({"added_tokens_decoder": {"x": {"content": "<s>"}}})", "{oops", "[]"}) {
    SCOPED_TRACE(text);
    dir.Write("tokenizer_config.json", text);
    EXPECT_THAT(LoadStatus(dir.path()).message(), HasSubstr(config + ": "));
  }
  dir.Write("tokenizer_config.json", "{}");
  for (const std::string name :
       {"special_tokens_map.json", "generation_config.json", "config.json", "tokenizer.json"}) {
    dir.Write(name, "{oops");
    EXPECT_THAT(LoadStatus(dir.path()).message(), HasSubstr(dir.File(name) + ": not valid JSON"));
    fs::remove(dir.path() / name);
  }
}

TEST(HostileFilesTest, OddConfigValuesAreIgnoredNotFatal) {
  TempDir dir;
  WriteLegacy(dir, R"({"a": 0, "<s>": 1})", "");
  dir.Write("config.json", R"({"model_type": 7, "eos_token_id": [-1, 1e12, 1, 99999999999]})");
  dir.Write("generation_config.json", R"({"bos_token_id": -5})");
  auto tokenizer = Tokenizer::Load(dir.path());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  EXPECT_EQ((*tokenizer)->eos_ids(), std::vector<int32_t>{1});
  EXPECT_EQ((*tokenizer)->bos_id(), std::nullopt);
}

TEST(HostileFilesTest, TokensInMessagesStayOnOneLine) {
  TempDir dir;
  dir.Write("tokenizer.json", TokenizerJson(R"({"a": 0, "x\nERROR forged\u0000": 1000000000})"));
  Status status = LoadBounded(dir.path());
  EXPECT_THAT(status.message(), HasSubstr(R"("x\nERROR forged\u0000")"));
  EXPECT_THAT(status.message(), Not(HasSubstr("\n")));
  const std::string long_token(100000, 'z');
  dir.Write("tokenizer.json", TokenizerJson(R"({"a": 0, ")" + long_token + R"(": -1})"));
  EXPECT_LT(LoadStatus(dir.path()).message().size(), 400u);
}

TEST(HostileFilesTest, ComponentIdsAndCountsAreChecked) {
  TempDir dir;
  const std::string added = R"([{"id": 1, "content": "<s>"}])";
  const std::string specials = R"("special_tokens": {"<s>": {"id": "<s>", "ids": [)";
  const std::string single = R"({"type": "TemplateProcessing", "single": [{"SpecialToken":
      {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], )";
  dir.Write("tokenizer.json",
            TokenizerJson(R"({"a": 0})", added,
                          R"(, "post_processor": )" + single + specials + R"(1000000000]}}})"));
  EXPECT_THAT(LoadStatus(dir.path()).message(),
              HasSubstr(dir.File("tokenizer.json") +
                        ": post_processor: it adds token id 1000000000, outside the vocabulary"));
  dir.Write("tokenizer.json",
            TokenizerJson(R"({"a": 0})", added,
                          R"(, "post_processor": )" + single + specials + R"(-1]}}})"));
  EXPECT_THAT(LoadStatus(dir.path()).message(), HasSubstr("is -1, not a token id"));
  dir.Write("tokenizer.json",
            TokenizerJson(R"({"a": 0})", "[]",
                          R"(, "decoder": {"type": "Strip", "content": "", "start": 1000000000000,
                                           "stop": 0})"));
  EXPECT_THAT(LoadStatus(dir.path()).message(), HasSubstr("'content' must not be empty"));
  dir.Write("tokenizer.json", TokenizerJson(R"({"a": 0})", "[]",
                                            R"(, "decoder": {"type": "BPEDecoder", "suffix": 3})"));
  EXPECT_THAT(LoadStatus(dir.path()).message(), HasSubstr("'suffix' must be a string"));
  dir.Write("tokenizer.json", R"({"model": {"type": 3, "vocab": {}, "merges": []}})");
  EXPECT_THAT(LoadStatus(dir.path()).message(), HasSubstr("model: 'type' must be a string"));
  // From text alone the message still names tokenizer.json.
  auto from_text = Tokenizer::FromJson(TokenizerJson(R"({"a": 0, "b": 1e99})"));
  ASSERT_FALSE(from_text.ok());
  EXPECT_THAT(from_text.status().message(), HasSubstr("tokenizer.json: model.vocab: "));
}

TEST(HostileFilesTest, ChatTemplateSyntaxErrorsNameTheirFile) {
  TempDir dir;
  dir.Write("tokenizer.json", TokenizerJson(R"({"a": 0})"));
  dir.Write("chat_template.jinja", "{% for %}");
  auto tokenizer = Tokenizer::Load(dir.path());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  const ChatTemplate& t = (*tokenizer)->chat_templates().at(0);
  EXPECT_EQ(t.file, dir.File("chat_template.jinja"));
  auto compiled = CompiledChatTemplate::Compile(t.source, t.file);
  ASSERT_FALSE(compiled.ok());
  EXPECT_THAT(compiled.status().message(), HasSubstr(dir.File("chat_template.jinja") + ": "));
}

}  // namespace
}  // namespace lantern::tokenizer
