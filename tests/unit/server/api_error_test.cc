// Error messages that quote client input arrive whole: control characters escaped, invalid
// UTF-8 replaced, and the JSON of the error never fails to serialize.
#include <gtest/gtest.h>

#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/router.h"

namespace lantern::server {
namespace {

using namespace std::string_literals;

TEST(EscapeControlCharactersTest, EscapesControlCharacters) {
  EXPECT_EQ(EscapeControlCharacters("a\0b"s), "a\\u0000b");
  EXPECT_EQ(EscapeControlCharacters("\n\r\t"), "\\n\\r\\t");
  EXPECT_EQ(EscapeControlCharacters("\x01\x1f\x7f"), "\\u0001\\u001f\\u007f");
  EXPECT_EQ(EscapeControlCharacters("x\xC2\x85y"), "x\\u0085y");  // C1: NEXT LINE
}

TEST(EscapeControlCharactersTest, ReplacesInvalidUtf8) {
  const std::string kFffd = "\xEF\xBF\xBD";
  EXPECT_EQ(EscapeControlCharacters("a\xff"
                                    "b"),
            "a" + kFffd + "b");
  EXPECT_EQ(EscapeControlCharacters("\x80"), kFffd);                           // stray continuation
  EXPECT_EQ(EscapeControlCharacters("\xC0\xAF"), kFffd + kFffd);               // overlong '/'
  EXPECT_EQ(EscapeControlCharacters("\xED\xA0\x80"), kFffd + kFffd + kFffd);   // surrogate
  EXPECT_EQ(EscapeControlCharacters("\xF4\x90\x80\x80").substr(0, 3), kFffd);  // > U+10FFFF
  EXPECT_EQ(EscapeControlCharacters("ab\xE2\x82"), "ab" + kFffd + kFffd);      // cut short
}

TEST(EscapeControlCharactersTest, KeepsValidTextAndIsIdempotent) {
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 `gpt` \"q\" \\ \xC2\xA0";
  EXPECT_EQ(EscapeControlCharacters(text), text);
  std::string once = EscapeControlCharacters("m\0\n\xff\xC2\x9F"s);
  EXPECT_EQ(EscapeControlCharacters(once), once);
}

TEST(ApiErrorTest, MessageWithANulArrivesWhole) {
  ApiError e(404, "The model `a\0b` does not exist (served: `tiny`)"s, "mo\0del"s);
  EXPECT_STREQ(e.what(), "The model `a\\u0000b` does not exist (served: `tiny`)");
  EXPECT_EQ(e.param(), "mo\\u0000del");
  EXPECT_EQ(BadRequest("x\xff"s).what(), std::string("x\xEF\xBF\xBD"));
}

TEST(ApiErrorTest, ErrorBodyEscapesAndNeverThrows) {
  std::string body;
  ASSERT_NO_THROW(body = ErrorBody(400, "bad \0 \xff\xfe end"s, "p\x01"s));
  auto error = nlohmann::json::parse(body).at("error");
  EXPECT_EQ(error.at("message"), "bad \\u0000 \xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_EQ(error.at("param"), "p\\u0001");
  EXPECT_EQ(error.at("code"), 400);
  EXPECT_EQ(error.at("type"), "BadRequestError");
  EXPECT_TRUE(nlohmann::json::parse(ErrorBody(404, "plain")).at("error").at("param").is_null());
}

// Records what RespondWithException sends.
class RecordingWriter : public ResponseWriter {
 public:
  void Send(HttpResponse response) override {
    sent = true;
    this->response = std::move(response);
  }
  void BeginStream(int, std::string, HeaderList) override { sent = true; }
  bool WriteChunk(std::string data) override {
    chunks += data;
    return true;
  }
  void EndStream() override {}
  void SetCancelCallback(std::function<void()>) override {}
  bool cancelled() const override { return false; }
  bool started() const override { return sent; }

  bool sent = false;
  HttpResponse response;
  std::string chunks;
};

TEST(RespondWithExceptionTest, SendsTheWholeEscapedMessage) {
  RecordingWriter writer;
  std::string model = "a\0b\x1b[31m"s;
  RespondWithException(
      writer, std::make_exception_ptr(ApiError(404, "The model `" + model + "` does not exist")),
      "POST /v1/completions");
  EXPECT_EQ(writer.response.status, 404);
  auto error = nlohmann::json::parse(writer.response.body).at("error");
  EXPECT_EQ(error.at("message"), "The model `a\\u0000b\\u001b[31m` does not exist");
}

TEST(RespondWithExceptionTest, MidStreamTheErrorEventIsEscapedToo) {
  RecordingWriter writer;
  writer.sent = true;  // the stream has begun
  RespondWithException(writer, std::make_exception_ptr(BadRequest("x\0y"s, "stop")), "ctx");
  ASSERT_EQ(writer.chunks.rfind("data: ", 0), 0u) << writer.chunks;
  std::string event = writer.chunks.substr(6, writer.chunks.find("\n\n") - 6);
  EXPECT_EQ(nlohmann::json::parse(event).at("error").at("message"), "x\\u0000y");
  EXPECT_NE(writer.chunks.find("data: [DONE]"), std::string::npos);
}

}  // namespace
}  // namespace lantern::server
