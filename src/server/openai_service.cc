#include "server/openai_service.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/log.h"
#include "server/api_error.h"
#include "server/generation.h"
#include "server/http_tracing.h"
#include "server/structured_output.h"

namespace lantern::server {
namespace {

using nlohmann::json;

int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HttpResponse JsonResponse(const json& body) {
  return HttpResponse{
      200, "application/json", {}, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

// One access-log line per exchange, at its end (never with bodies or the API key).
class AccessLog : public ExchangeObserver {
 public:
  AccessLog(const HttpRequest& request)
      : line_(request.client_address + ":" + std::to_string(request.client_port) + " \"" +
              request.method + " " + request.path + "\""),
        start_(Now()),
        log_context_(log::CurrentContext()) {}
  void OnStatus(int status) override { status_ = status; }
  void OnEnd(bool client_gone) override {
    log::ScopedContext scope(log_context_);  // OnEnd runs on whichever thread ends it
    LANTERN_LOG(kInfo, "http") << line_ << " " << status_
                               << (client_gone ? " (client disconnected)" : "") << " "
                               << static_cast<int64_t>(SecondsBetween(start_, Now()) * 1000)
                               << " ms";
  }

 private:
  std::string line_;
  SteadyTime start_;
  log::Context log_context_;  // the request's trace (set by the router)
  int status_ = 0;
};

// As vLLM: a body sent as anything but JSON (curl -d's form encoding, text/plain) is
// refused; a request with no Content-Type at all is read as JSON.
void RequireJsonContentType(const HttpRequest& request) {
  std::string type(request.Header("content-type"));
  std::string media = type.substr(0, type.find(';'));
  media.erase(0, media.find_first_not_of(" \t"));
  media.erase(media.find_last_not_of(" \t") + 1);
  std::transform(media.begin(), media.end(), media.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  bool json = media.empty() || media == "application/json" ||
              (media.rfind("application/", 0) == 0 && media.size() > 5 &&
               media.compare(media.size() - 5, 5, "+json") == 0);
  if (!json) {
    throw ApiError(415, "Unsupported Media Type: only 'application/json' is accepted, got '" +
                            type.substr(0, 100) + "'");
  }
}

constexpr const char* kModelsPrefix = "/v1/models/";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes ("org%2Fname" -> "org/name"); a malformed escape stays as it is.
std::string DecodePercent(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    int high = i + 2 < text.size() && text[i] == '%' ? HexValue(text[i + 1]) : -1;
    int low = high >= 0 ? HexValue(text[i + 2]) : -1;
    if (low >= 0) {
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

OpenAiService::OpenAiService(ServiceOptions options, engine::Engine* engine, TextCodec codec,
                             MetricsRegistry* registry, ServingMetrics* metrics,
                             std::function<void(std::function<void()>)> post_to_io)
    : context_(std::make_shared<Context>()), in_flight_(std::make_shared<std::atomic<size_t>>(0)) {
  context_->options = std::move(options);
  context_->engine = engine;
  context_->codec = std::move(codec);
  context_->registry = registry;
  context_->metrics = metrics;
  context_->post_to_io = std::move(post_to_io);
  context_->in_flight = in_flight_;
  preprocess_ =
      std::make_unique<TaskQueue>(context_->options.preprocess_threads,
                                  context_->options.max_pending_preprocess, "lantern-prep");
}

// One generation request counted in flight from admission until a GenerationSession (which
// releases it when it ends) takes it over, or until it fails before that.
class OpenAiService::InFlightTicket {
 public:
  explicit InFlightTicket(std::shared_ptr<std::atomic<size_t>> counter)
      : counter_(std::move(counter)) {}
  ~InFlightTicket() {
    if (counter_) counter_->fetch_sub(1);
  }
  InFlightTicket(const InFlightTicket&) = delete;
  InFlightTicket& operator=(const InFlightTicket&) = delete;
  void HandOver() { counter_.reset(); }

 private:
  std::shared_ptr<std::atomic<size_t>> counter_;
};

void OpenAiService::RunOffIo(const HttpRequest& request, std::shared_ptr<ResponseWriter> writer,
                             bool admit, Work work) {
  if (admit) Admit();
  auto ticket = std::make_shared<InFlightTicket>(admit ? in_flight_ : nullptr);
  auto copy = std::make_shared<HttpRequest>(request);
  bool queued = preprocess_->TrySubmit([copy, writer, ticket, work = std::move(work),
                                        log_context = log::CurrentContext()] {
    if (writer->cancelled()) return;  // the client left while the request waited
    log::ScopedContext scope(log_context);
    try {
      work(*copy, writer, *ticket);
    } catch (...) {
      RespondWithException(*writer, std::current_exception(), copy->method + " " + copy->path);
    }
  });
  if (!queued) {
    context_->metrics->RecordRejected();
    throw ApiError(503, "The server is busy preparing " +
                            std::to_string(preprocess_->max_pending()) + " requests; retry later");
  }
}

void OpenAiService::Register(Router& router) {
  using Writer = std::shared_ptr<ResponseWriter>;
  router.Add("POST", "/v1/completions",
             [this](const HttpRequest& r, Writer w) { HandleCompletions(r, std::move(w)); });
  router.Add("POST", "/v1/chat/completions",
             [this](const HttpRequest& r, Writer w) { HandleChat(r, std::move(w)); });
  router.Add("POST", "/v1/responses",
             [this](const HttpRequest& r, Writer w) { HandleResponses(r, std::move(w)); });
  router.Add("GET", "/v1/responses/{response_id}", [](const HttpRequest& r, Writer w) {
    throw ApiError(404,
                   "Response '" + r.path.substr(std::string_view("/v1/responses/").size()) +
                       "' not found: this server does not store responses",
                   "response_id");
  });
  router.Add("GET", "/v1/models", [this](const HttpRequest&, Writer w) { HandleModels(w); });
  // OpenAI's GET /v1/models/{model} (the clients' models.retrieve), the name raw or
  // percent-encoded. One template route: the HTTP span's http.route stays low-cardinality,
  // and an unknown name gets the same 404 as on the other endpoints.
  router.Add("GET", std::string(kModelsPrefix) + "{model}",
             [this](const HttpRequest& r, Writer w) { HandleRetrieveModel(r, std::move(w)); });
  router.Add("POST", "/tokenize", [this](const HttpRequest& r, Writer w) {
    RequireJsonContentType(r);
    RunOffIo(r, std::move(w), false,
             [this](const HttpRequest& q, Writer qw, InFlightTicket&) { HandleTokenize(q, *qw); });
  });
  router.Add("POST", "/detokenize", [this](const HttpRequest& r, Writer w) {
    RequireJsonContentType(r);
    RunOffIo(r, std::move(w), false, [this](const HttpRequest& q, Writer qw, InFlightTicket&) {
      HandleDetokenize(q, *qw);
    });
  });
  auto health = [this](const HttpRequest&, Writer w) {
    bool healthy = ready_.load() && context_->engine->alive();
    if (healthy) {
      w->Send(HttpResponse{200, "application/json", {}, ""});
    } else {
      w->Send(ErrorResponse(503, draining_.load() ? "The server is shutting down"
                                 : ready_.load()  ? "The engine has stopped"
                                                  : "Loading the model"));
    }
  };
  router.Add("GET", "/health", health);
  router.Add("GET", "/ping", health);
  router.Add("GET", "/version", [](const HttpRequest&, Writer w) {
    w->Send(JsonResponse({{"version", LANTERN_VERSION_STRING}}));
  });
  // Prometheus text by default; OpenMetrics (with exemplars) when the scraper asks for it.
  router.Add("GET", "/metrics", [this](const HttpRequest& request, Writer w) {
    bool openmetrics = WantsOpenMetrics(std::string(request.Header("accept")));
    std::string body = context_->registry->Render(
        {.naming = context_->options.metrics_naming, .openmetrics = openmetrics});
    w->Send(HttpResponse{200,
                         openmetrics ? kOpenMetricsContentType : kPrometheusTextContentType,
                         {},
                         std::move(body)});
  });
  // The HTTP span first, so that it is ended before the access log line is written.
  router.AddObserverFactory(MakeHttpTracingObserverFactory(router.api_key()));
  if (context_->options.log_requests) {
    router.AddObserverFactory(
        [quiet = context_->options.quiet_paths](
            const HttpRequest& request, const std::string&) -> std::unique_ptr<ExchangeObserver> {
          if (std::find(quiet.begin(), quiet.end(), request.path) != quiet.end()) return nullptr;
          return std::make_unique<AccessLog>(request);
        });
  }
}

const std::string& OpenAiService::ResolveModel(const std::string& requested) const {
  const auto& names = context_->options.served_model_names;
  if (requested.empty()) return names.front();
  for (const auto& name : names) {
    if (name == requested) return name;
  }
  // vLLM's and OpenAI's answer: 404, which the clients raise as NotFoundError.
  throw ApiError(404,
                 "The model `" + requested + "` does not exist (served: `" + names.front() + "`)",
                 "model");
}

std::vector<int32_t> OpenAiService::Tokenize(const std::string& text, bool add_special_tokens,
                                             const std::string& param) const {
  auto ids = context_->codec.encode(text, add_special_tokens);
  if (!ids.ok())
    throw BadRequest("'" + param + "' could not be tokenized: " + ids.status().message(), param);
  return std::move(ids).value();
}

void OpenAiService::CheckTokenIds(const std::vector<int32_t>& ids, const std::string& param) const {
  int vocab = context_->options.vocab_size;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      throw BadRequest("'" + param + "' has token id " + std::to_string(ids[i]) + " at position " +
                           std::to_string(i) + ", outside the vocabulary [0, " +
                           std::to_string(vocab) + ")",
                       param);
    }
  }
}

std::string OpenAiService::RenderChat(const ChatRequest& request) const {
  const auto& render = context_->codec.render_chat;
  constexpr const char* kNoTemplate =
      "This model has no chat template: start the server with --chat-template (or with "
      "--trust-request-chat-template, and pass 'chat_template' in the request)";
  if (request.chat_template && !context_->options.trust_request_chat_template) {
    throw BadRequest(
        "This server does not accept a chat template in the request: a template is a program "
        "that the server would run. Leave out 'chat_template' to use the model's template, or "
        "start the server with --trust-request-chat-template if its clients are trusted.",
        "chat_template");
  }
  if (!render) throw BadRequest(kNoTemplate, "messages");
  auto prompt = render(request);
  if (!prompt.ok()) {
    if (prompt.status().code() == StatusCode::kNotFound) {
      throw BadRequest(kNoTemplate, "messages");
    }
    throw BadRequest(
        "The chat template could not render the messages: " + prompt.status().message(),
        request.chat_template ? "chat_template" : "messages");
  }
  return std::move(prompt).value();
}

namespace {

// Rejects a prompt that leaves no room for the completion in the context.
void CheckContextLength(int max_model_len, size_t prompt_tokens, engine::SamplingParams& params,
                        bool chat) {
  int prompt = static_cast<int>(prompt_tokens);
  const char* what = chat ? "messages" : "prompt";
  if (prompt >= max_model_len) {
    throw BadRequest("This model's maximum context length is " + std::to_string(max_model_len) +
                         " tokens. However, your " + what + " has " + std::to_string(prompt) +
                         " tokens. Please reduce the length of the " + what + ".",
                     chat ? "messages" : "prompt");
  }
  if (params.max_tokens && prompt + *params.max_tokens > max_model_len) {
    throw BadRequest(
        "This model's maximum context length is " + std::to_string(max_model_len) +
            " tokens. However, you requested " + std::to_string(prompt + *params.max_tokens) +
            " tokens (" + std::to_string(prompt) + " in the " + what + ", " +
            std::to_string(*params.max_tokens) +
            " in the completion). Please reduce the length of the " + what + " or completion.",
        "max_tokens");
  }
}

// vLLM's truncate_prompt_tokens: keep the prompt's last N tokens (-1: the context length).
// True when it cut something.
bool TruncatePrompt(std::vector<int32_t>& ids, std::optional<int> keep, int max_model_len) {
  if (!keep) return false;
  if (*keep > max_model_len) {
    throw BadRequest("'truncate_prompt_tokens' (" + std::to_string(*keep) +
                         ") is greater than the model's context length (" +
                         std::to_string(max_model_len) + ")",
                     "truncate_prompt_tokens");
  }
  size_t limit = static_cast<size_t>(*keep == -1 ? max_model_len : *keep);
  if (ids.size() <= limit) return false;
  ids.erase(ids.begin(), ids.end() - static_cast<std::ptrdiff_t>(limit));
  return true;
}

}  // namespace

void OpenAiService::HandleCompletions(const HttpRequest& request,
                                      std::shared_ptr<ResponseWriter> writer) {
  RequireJsonContentType(request);
  const SteadyTime arrival = Now();
  if (!ready_.load() || !context_->engine->alive()) {
    throw ApiError(503, draining_.load() ? "The server is shutting down"
                                         : "The server is not ready to generate");
  }
  RunOffIo(request, std::move(writer), true,
           [this, arrival](const HttpRequest& r, std::shared_ptr<ResponseWriter> w,
                           InFlightTicket& t) { PrepareCompletions(r, arrival, std::move(w), t); });
}

void OpenAiService::HandleChat(const HttpRequest& request, std::shared_ptr<ResponseWriter> writer) {
  RequireJsonContentType(request);
  const SteadyTime arrival = Now();
  if (!ready_.load() || !context_->engine->alive()) {
    throw ApiError(503, draining_.load() ? "The server is shutting down"
                                         : "The server is not ready to generate");
  }
  RunOffIo(request, std::move(writer), true,
           [this, arrival](const HttpRequest& r, std::shared_ptr<ResponseWriter> w,
                           InFlightTicket& t) { PrepareChat(r, arrival, std::move(w), t); });
}

void OpenAiService::CheckPromptBytes(size_t bytes, const char* what,
                                     const std::string& param) const {
  // A token stands for at most max_token_bytes bytes of text (+1: a decoder may drop a
  // leading space), and normalizers shrink text at most 3x (Hangul jamo composing into
  // syllables); so a text longer than this needs more tokens than the context holds.
  size_t per_token = context_->codec.max_token_bytes;
  if (per_token == 0) return;
  size_t limit = static_cast<size_t>(context_->options.max_model_len) * (per_token + 1) * 3;
  if (bytes <= limit) return;
  throw BadRequest("This model's maximum context length is " +
                       std::to_string(context_->options.max_model_len) + " tokens. However, your " +
                       what + " has " + std::to_string(bytes) + " bytes, more than any " +
                       std::to_string(context_->options.max_model_len) +
                       " tokens can hold. Please reduce the length of the " + what + ".",
                   param);
}

void OpenAiService::PrepareCompletions(const HttpRequest& request, SteadyTime arrival,
                                       std::shared_ptr<ResponseWriter> writer,
                                       InFlightTicket& ticket) {
  CompletionRequest parsed = ParseCompletionRequest(request.body, context_->options.default_params);
  GenerationPlan plan;
  plan.model = ResolveModel(parsed.model);
  if (parsed.prompts.size() > context_->options.max_queued_prompts) {
    throw BadRequest("'prompt' holds " + std::to_string(parsed.prompts.size()) +
                         " prompts, but this server queues at most " +
                         std::to_string(context_->options.max_queued_prompts) +
                         " requests (--max-queued-requests): send them in smaller batches",
                     "prompt");
  }
  bool add_special = parsed.add_special_tokens.value_or(true);
  for (size_t i = 0; i < parsed.prompts.size(); ++i) {
    std::string param = parsed.prompts.size() > 1 ? "prompt[" + std::to_string(i) + "]" : "prompt";
    auto& prompt = parsed.prompts[i];
    if (!prompt.is_tokens && !parsed.truncate_prompt_tokens) {
      CheckPromptBytes(prompt.text.size(), "prompt", param);
    }
    std::vector<int32_t> ids =
        prompt.is_tokens ? prompt.token_ids : Tokenize(prompt.text, add_special, param);
    if (ids.empty()) throw BadRequest("'" + param + "' is empty", param);
    CheckTokenIds(ids, param);
    if (TruncatePrompt(ids, parsed.truncate_prompt_tokens, context_->options.max_model_len)) {
      prompt.is_tokens = true;  // what echo and traces show: the prompt that was kept
    }
    CheckContextLength(context_->options.max_model_len, ids.size(), parsed.params, false);
    if (parsed.echo) {
      plan.echo_texts.push_back(prompt.is_tokens ? context_->codec.decode(ids, false)
                                                 : prompt.text);
    }
    if (context_->options.tracing.content) {
      plan.prompt_texts.push_back(prompt.is_tokens ? context_->codec.decode(ids, false)
                                                   : prompt.text);
    }
    plan.prompts.push_back(std::move(ids));
  }
  plan.arrival = arrival;
  plan.id = NewResponseId("cmpl-");
  plan.created = UnixSeconds();
  plan.params = std::move(parsed.params);
  plan.stream = parsed.stream;
  plan.stream_options = parsed.stream_options;
  plan.logprobs = plan.params.logprobs.has_value();
  // As in OpenAI's legacy API (and vLLM), echo with logprobs scores the prompt too.
  plan.echo_logprobs = parsed.echo && plan.logprobs;
  if (plan.echo_logprobs && !plan.params.prompt_logprobs) {
    plan.params.prompt_logprobs = plan.params.logprobs;
  }
  plan.tokens_as_ids = parsed.return_tokens_as_token_ids;
  plan.score_prompt_only = parsed.score_prompt_only;
  ticket.HandOver();
  StartGeneration(context_, std::move(plan), std::move(writer));
}

void OpenAiService::PrepareChat(const HttpRequest& request, SteadyTime arrival,
                                std::shared_ptr<ResponseWriter> writer, InFlightTicket& ticket) {
  StartChat(ParseChatRequest(request.body, context_->options.default_params), arrival,
            std::move(writer), ticket);
}

// How the reply's tool calls are read: "auto" with the server's parser (as vLLM, a 400
// unless it was started with one), "required" and a named function with the grammar that
// forces them, "none" not at all (the tools still reach the template).
void OpenAiService::ApplyToolChoice(ChatRequest& request, GenerationPlan& plan) const {
  const ToolChoice& choice = request.tool_choice;
  const auto& options = context_->options;
  switch (choice.mode) {
    case ToolChoice::Mode::kNone:
      return;
    case ToolChoice::Mode::kAuto:
      if (!options.enable_auto_tool_choice || !options.tool_parser) {
        throw BadRequest(
            "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to "
            "be set: the server reads the model's calls with a tool-call parser" +
                std::string(choice.given ? ""
                                         : " (\"auto\" is the default when 'tools' are given)") +
                "; set 'tool_choice' to \"none\" to render the tools into the prompt and get "
                "the model's reply as text",
            "tool_choice");
      }
      plan.tool_parser = options.tool_parser;
      // Mistral's [TOOL_CALLS] is a control token: keep it in the text to find the calls.
      if (options.tool_parser->needs_special_tokens()) request.params.skip_special_tokens = false;
      return;
    case ToolChoice::Mode::kRequired:
    case ToolChoice::Mode::kNamed: {
      if (request.params.grammar) {
        throw BadRequest(
            "a structured output ('response_format', 'structured_outputs' or 'guided_*') cannot "
            "be combined with 'tool_choice' \"required\" or a named function, which force "
            "their own",
            "tool_choice");
      }
      // Ids as the served model's templates want them (Mistral's: 9 letters and digits).
      bool mistral_ids = options.tool_parser && options.tool_parser->name() == "mistral";
      if (choice.mode == ToolChoice::Mode::kRequired) {
        request.params.grammar = CompileSchemaFor(
            RequiredCallsSchema(request.tools, request.parallel_tool_calls), "tools");
        plan.tool_parser = toolcall::MakeRequiredParser(mistral_ids);
      } else {
        request.params.grammar =
            CompileSchemaFor(NamedCallSchema(request.tools, choice.function), "tools");
        plan.tool_parser = toolcall::MakeNamedParser(choice.function, mistral_ids);
        plan.finish_as_tool_calls = false;  // OpenAI answers a forced function with "stop"
      }
      return;
    }
  }
}

void OpenAiService::StartChat(ChatRequest parsed, SteadyTime arrival,
                              std::shared_ptr<ResponseWriter> writer, InFlightTicket& ticket) {
  GenerationPlan plan;
  plan.chat = true;
  plan.model = ResolveModel(parsed.model);
  std::string prompt = RenderChat(parsed);
  if (!parsed.truncate_prompt_tokens) CheckPromptBytes(prompt.size(), "messages", "messages");
  std::vector<int32_t> ids =
      Tokenize(prompt, parsed.add_special_tokens.value_or(false), "messages");
  if (ids.empty()) throw BadRequest("The rendered chat prompt is empty", "messages");
  TruncatePrompt(ids, parsed.truncate_prompt_tokens, context_->options.max_model_len);
  CheckContextLength(context_->options.max_model_len, ids.size(), parsed.params, true);
  plan.prompts.push_back(std::move(ids));
  if (context_->options.tracing.content) plan.prompt_texts.push_back(std::move(prompt));
  ApplyToolChoice(parsed, plan);
  // vLLM's chat echo: the reply starts with the last message when that is the one the
  // model continues (an assistant message, or any with add_generation_prompt off).
  if (parsed.echo) {
    const auto& last = parsed.messages.back();
    std::string role = last.value("role", "");
    auto content = last.find("content");
    if ((role == "assistant" || !parsed.add_generation_prompt) && content != last.end() &&
        content->is_string()) {
      plan.echo_texts.push_back(content->get<std::string>());
    }
  }
  plan.arrival = arrival;
  plan.id = NewResponseId("chatcmpl-");
  plan.created = UnixSeconds();
  plan.params = std::move(parsed.params);
  plan.stream = parsed.stream;
  plan.stream_options = parsed.stream_options;
  plan.logprobs = parsed.logprobs;
  plan.tokens_as_ids = parsed.return_tokens_as_token_ids;
  ticket.HandOver();
  StartGeneration(context_, std::move(plan), std::move(writer));
}

void OpenAiService::Admit() {
  size_t limit = context_->options.max_in_flight;
  if (in_flight_->fetch_add(1) >= limit) {
    in_flight_->fetch_sub(1);
    context_->metrics->RecordRejected();
    ApiError error(503, "The server is overloaded (" + std::to_string(limit) +
                            " requests in flight); retry later");
    throw error;
  }
}

void OpenAiService::HandleTokenize(const HttpRequest& request, ResponseWriter& writer) {
  TokenizeRequest parsed = ParseTokenizeRequest(request.body);
  ResolveModel(parsed.model);
  std::vector<int32_t> ids;
  if (parsed.is_chat) {
    ids = Tokenize(RenderChat(parsed.chat), parsed.add_special_tokens.value_or(false), "messages");
  } else {
    ids = Tokenize(parsed.prompt, parsed.add_special_tokens.value_or(true), "prompt");
  }
  json body = {
      {"count", ids.size()}, {"max_model_len", context_->options.max_model_len}, {"tokens", ids}};
  json body_object = ParseJsonObject(request.body);
  if (body_object.value("return_token_strs", false) == true) {
    json strs = json::array();
    for (int32_t id : ids) strs.push_back(context_->codec.token_text(id));
    body["token_strs"] = std::move(strs);
  }
  writer.Send(JsonResponse(body));
}

void OpenAiService::HandleDetokenize(const HttpRequest& request, ResponseWriter& writer) {
  DetokenizeRequest parsed = ParseDetokenizeRequest(request.body);
  ResolveModel(parsed.model);
  CheckTokenIds(parsed.tokens, "tokens");
  writer.Send(JsonResponse({{"prompt", context_->codec.decode(parsed.tokens, false)}}));
}

nlohmann::json OpenAiService::ModelCard(const std::string& name) const {
  static const int64_t created = UnixSeconds();
  return {{"id", name},
          {"object", "model"},
          {"created", created},
          {"owned_by", "lantern"},
          {"root", context_->options.model_root},
          {"parent", nullptr},
          {"max_model_len", context_->options.max_model_len},
          {"permission", json::array()}};
}

void OpenAiService::HandleRetrieveModel(const HttpRequest& request,
                                        std::shared_ptr<ResponseWriter> writer) {
  std::string name = request.path.substr(std::string_view(kModelsPrefix).size());
  const auto& names = context_->options.served_model_names;
  // The name as sent first: a served name may itself hold a '%'.
  if (std::find(names.begin(), names.end(), name) == names.end()) name = DecodePercent(name);
  writer->Send(JsonResponse(ModelCard(ResolveModel(name))));
}

void OpenAiService::HandleModels(std::shared_ptr<ResponseWriter> writer) {
  json data = json::array();
  for (const auto& name : context_->options.served_model_names) data.push_back(ModelCard(name));
  writer->Send(JsonResponse({{"object", "list"}, {"data", std::move(data)}}));
}

}  // namespace lantern::server
