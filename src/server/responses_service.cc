// OpenAiService's POST /v1/responses: checked on the I/O thread like the other generation
// endpoints, parsed and started on the preprocessing queue.
#include <chrono>

#include "server/api_error.h"
#include "server/generation.h"
#include "server/openai_service.h"
#include "server/responses.h"

namespace lantern::server {

void OpenAiService::HandleResponses(const HttpRequest& request,
                                    std::shared_ptr<ResponseWriter> writer) {
  const SteadyTime arrival = Now();
  if (!ready_.load() || !context_->engine->alive()) {
    throw ApiError(503, draining_.load() ? "The server is shutting down"
                                         : "The server is not ready to generate");
  }
  RunOffIo(request, std::move(writer), true,
           [this, arrival](const HttpRequest& r, std::shared_ptr<ResponseWriter> w,
                           InFlightTicket& t) { PrepareResponses(r, arrival, std::move(w), t); });
}

void OpenAiService::PrepareResponses(const HttpRequest& request, SteadyTime arrival,
                                     std::shared_ptr<ResponseWriter> writer,
                                     InFlightTicket& ticket) {
  ResponsesRequest parsed = ParseResponsesRequest(request.body, context_->options.default_params);
  ResponsesInfo info;
  info.id = NewResponseId("resp_");
  info.model = ResolveModel(parsed.chat.model);
  info.created_at = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  info.stream = parsed.stream;
  info.echoed = std::move(parsed.echoed);
  StartChat(std::move(parsed.chat), arrival,
            MakeResponsesWriter(std::move(writer), std::move(info)), ticket);
}

}  // namespace lantern::server
