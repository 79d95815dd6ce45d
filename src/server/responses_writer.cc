// MakeResponsesWriter: the chat stream of one generation, turned into the Responses API's
// answer as it arrives. Chat chunks carry the text deltas, the finish reason and, last,
// the usage; "[DONE]" ends them. A streaming client gets the Responses events in order
// (created, in_progress, output_item.added, content_part.added, output_text.delta...,
// output_text.done, content_part.done, output_item.done, completed or incomplete), each
// with a sequence_number; any other client gets the final Response object.
#include <mutex>

#include "server/api_error.h"
#include "server/generation.h"
#include "server/responses.h"

namespace lantern::server {
namespace {

using nlohmann::json;

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

class ResponsesWriter : public ResponseWriter {
 public:
  ResponsesWriter(std::shared_ptr<ResponseWriter> inner, ResponsesInfo info)
      : inner_(std::move(inner)), info_(std::move(info)), item_id_(NewResponseId("msg_")) {}

  // Errors before generation started (and any non-stream answer) go out unchanged.
  void Send(HttpResponse response) override {
    started_ = true;
    inner_->Send(std::move(response));
  }

  void BeginStream(int status, std::string content_type, HeaderList headers) override {
    std::lock_guard lock(mu_);
    started_ = true;
    if (!info_.stream) return;  // gathered into one body at the end
    inner_->BeginStream(status, std::move(content_type), std::move(headers));
    Event("response.created", {{"response", ResponseObject("in_progress")}});
    Event("response.in_progress", {{"response", ResponseObject("in_progress")}});
    Event("response.output_item.added", {{"output_index", 0}, {"item", Message("in_progress")}});
    Event(
        "response.content_part.added",
        {{"item_id", item_id_}, {"output_index", 0}, {"content_index", 0}, {"part", TextPart("")}});
  }

  bool WriteChunk(std::string data) override {
    std::lock_guard lock(mu_);
    constexpr std::string_view kData = "data: ";
    if (data.rfind(kData, 0) != 0) return !inner_->cancelled();
    std::string payload = data.substr(kData.size());
    while (!payload.empty() && (payload.back() == '\n' || payload.back() == '\r')) {
      payload.pop_back();
    }
    if (payload == "[DONE]") {
      Finish();
      return !inner_->cancelled();
    }
    json chunk = json::parse(payload, nullptr, false);
    if (chunk.is_discarded()) return true;
    if (chunk.contains("error")) {
      Fail(chunk["error"]);
      return false;
    }
    if (chunk.contains("usage") && chunk["usage"].is_object()) usage_ = chunk["usage"];
    if (!chunk.contains("choices")) return true;
    for (const auto& choice : chunk["choices"]) {
      const json& delta = choice.value("delta", json::object());
      std::string text = delta.is_object() ? delta.value("content", "") : "";
      json logprobs = json::array();
      if (choice.contains("logprobs") && choice["logprobs"].is_object()) {
        logprobs = choice["logprobs"].value("content", json::array());
        for (const auto& l : logprobs) logprobs_.push_back(l);
      }
      if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) {
        finish_reason_ = choice["finish_reason"].get<std::string>();
      }
      if (text.empty()) continue;
      text_ += text;
      if (info_.stream) {
        Event("response.output_text.delta", {{"item_id", item_id_},
                                             {"output_index", 0},
                                             {"content_index", 0},
                                             {"delta", text},
                                             {"logprobs", logprobs}});
      }
    }
    return !inner_->cancelled();
  }

  void EndStream() override {
    std::lock_guard lock(mu_);
    if (info_.stream && !ended_) {
      ended_ = true;
      inner_->EndStream();
    }
  }

  void SetCancelCallback(std::function<void()> callback) override {
    inner_->SetCancelCallback(std::move(callback));
  }
  bool cancelled() const override { return inner_->cancelled(); }
  bool started() const override { return started_; }
  const telemetry::Context* trace_context() const override { return inner_->trace_context(); }

 private:
  // "length" ends a response early: status incomplete, as OpenAI reports max_output_tokens.
  bool incomplete() const { return finish_reason_ == "length"; }

  json TextPart(const std::string& text) const {
    return {{"type", "output_text"},
            {"text", text},
            {"annotations", json::array()},
            {"logprobs", logprobs_}};
  }

  json Message(const std::string& status) const {
    json content = json::array();
    if (status != "in_progress") content.push_back(TextPart(text_));
    return {{"id", item_id_},
            {"type", "message"},
            {"status", status},
            {"role", "assistant"},
            {"content", std::move(content)}};
  }

  json Usage() const {
    if (usage_.is_null()) return nullptr;
    int64_t input = usage_.value("prompt_tokens", 0), output = usage_.value("completion_tokens", 0);
    return {{"input_tokens", input},
            {"input_tokens_details", {{"cached_tokens", 0}}},
            {"output_tokens", output},
            {"output_tokens_details", {{"reasoning_tokens", 0}}},
            {"total_tokens", input + output}};
  }

  json ResponseObject(const std::string& status) const {
    const json& e = info_.echoed;
    auto echoed = [&](const char* name, json fallback) {
      return e.contains(name) && !e[name].is_null() ? e[name] : fallback;
    };
    json output = json::array();
    if (status != "in_progress") output.push_back(Message(status));
    json response = {
        {"id", info_.id},
        {"object", "response"},
        {"created_at", info_.created_at},
        {"status", status},
        {"background", false},
        {"error", nullptr},
        {"incomplete_details",
         status == "incomplete" ? json{{"reason", "max_output_tokens"}} : json(nullptr)},
        {"instructions", echoed("instructions", nullptr)},
        {"max_output_tokens", echoed("max_output_tokens", nullptr)},
        {"metadata", echoed("metadata", json::object())},
        {"model", info_.model},
        {"output", std::move(output)},
        {"parallel_tool_calls", echoed("parallel_tool_calls", true)},
        {"previous_response_id", nullptr},
        {"reasoning", echoed("reasoning", {{"effort", nullptr}, {"summary", nullptr}})},
        {"service_tier", echoed("service_tier", "auto")},
        {"store", false},  // never stored (see responses.h)
        {"temperature", echoed("temperature", 1.0)},
        {"text", echoed("text", {{"format", {{"type", "text"}}}})},
        {"tool_choice", echoed("tool_choice", "auto")},
        {"tools", json::array()},
        {"top_logprobs", echoed("top_logprobs", 0)},
        {"top_p", echoed("top_p", 1.0)},
        {"truncation", echoed("truncation", "disabled")},
        {"usage", status == "in_progress" ? json(nullptr) : Usage()},
        {"user", echoed("user", nullptr)}};
    return response;
  }

  void Event(const char* type, json fields) {
    fields["type"] = type;
    fields["sequence_number"] = sequence_++;
    inner_->WriteChunk(std::string("event: ") + type + "\ndata: " + Dump(fields) + "\n\n");
  }

  void Finish() {
    if (finished_) return;
    finished_ = true;
    const std::string status = incomplete() ? "incomplete" : "completed";
    if (!info_.stream) {
      inner_->Send(HttpResponse{200, "application/json", {}, Dump(ResponseObject(status))});
      return;
    }
    Event("response.output_text.done", {{"item_id", item_id_},
                                        {"output_index", 0},
                                        {"content_index", 0},
                                        {"text", text_},
                                        {"logprobs", logprobs_}});
    Event("response.content_part.done", {{"item_id", item_id_},
                                         {"output_index", 0},
                                         {"content_index", 0},
                                         {"part", TextPart(text_)}});
    Event("response.output_item.done", {{"output_index", 0}, {"item", Message(status)}});
    Event(incomplete() ? "response.incomplete" : "response.completed",
          {{"response", ResponseObject(status)}});
  }

  void Fail(const json& error) {
    if (finished_) return;
    finished_ = true;
    int code = error.value("code", 500);
    std::string message = error.value("message", "Internal server error");
    std::string param = error.contains("param") && error["param"].is_string()
                            ? error["param"].get<std::string>()
                            : "";
    if (!info_.stream) {
      inner_->Send(ErrorResponse(code, message, param));
      return;
    }
    Event("error", {{"code", ErrorTypeForStatus(code)},
                    {"message", message},
                    {"param", param.empty() ? json(nullptr) : json(param)}});
    json failed = ResponseObject("failed");
    failed["error"] = {{"code", "server_error"}, {"message", message}};
    Event("response.failed", {{"response", failed}});
  }

  std::shared_ptr<ResponseWriter> inner_;
  ResponsesInfo info_;
  std::string item_id_;
  std::mutex mu_;
  std::atomic<bool> started_{false};
  bool finished_ = false, ended_ = false;
  int64_t sequence_ = 0;
  std::string text_;
  std::string finish_reason_;
  json usage_;
  json logprobs_ = json::array();
};

}  // namespace

std::shared_ptr<ResponseWriter> MakeResponsesWriter(std::shared_ptr<ResponseWriter> inner,
                                                    ResponsesInfo info) {
  return std::make_shared<ResponsesWriter>(std::move(inner), std::move(info));
}

}  // namespace lantern::server
