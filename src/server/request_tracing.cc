#include "server/request_tracing.h"

#include <algorithm>
#include <utility>

#include "server/structured_output.h"

namespace lantern::server {
namespace {

using telemetry::Attributes;
using telemetry::Span;
using telemetry::SpanKind;
using telemetry::Timestamp;

// A span built after the fact: a child of `parent` from `start` to `end`.
Span StartChild(const telemetry::Tracer& tracer, const Span& parent, std::string_view name,
                SteadyTime start, Attributes attributes = {}) {
  return tracer.StartSpan(name, SpanKind::kInternal, parent.context(), Timestamp(start),
                          std::move(attributes));
}

}  // namespace

Attributes LlmRequestStartAttributes(const LlmRequestStart& start) {
  const engine::SamplingParams& p = *start.params;
  Attributes a;
  a.reserve(20);
  a.push_back({"gen_ai.operation.name", std::string(start.chat ? "chat" : "text_completion")});
  a.push_back({"gen_ai.provider.name", std::string("lantern")});
  a.push_back({"gen_ai.request.id", start.request_id});
  a.push_back({"gen_ai.request.model", start.model});
  a.push_back({"gen_ai.response.model", start.model});
  a.push_back({"gen_ai.request.max_tokens", int64_t{start.max_tokens}});
  a.push_back({"gen_ai.request.temperature", p.temperature});
  a.push_back({"gen_ai.request.top_p", p.top_p});
  a.push_back({"gen_ai.request.n", int64_t{p.n}});
  a.push_back({"gen_ai.request.choice.count", int64_t{p.n}});
  if (p.top_k_enabled()) a.push_back({"gen_ai.request.top_k", int64_t{p.top_k}});
  a.push_back({"gen_ai.request.frequency_penalty", p.frequency_penalty});
  a.push_back({"gen_ai.request.presence_penalty", p.presence_penalty});
  if (p.seed) a.push_back({"gen_ai.request.seed", static_cast<int64_t>(*p.seed)});
  if (!p.stop.empty()) a.push_back({"gen_ai.request.stop_sequences", p.stop});
  a.push_back({"gen_ai.request.stream", start.stream});
  a.push_back({"gen_ai.response.id", start.response_id});
  a.push_back({"gen_ai.output.type", std::string(OutputTypeOf(p))});
  if (p.grammar) {
    a.push_back({"lantern.grammar.kind",
                 std::string(grammar::GrammarKindName(grammar::KindOf(*p.grammar)))});
  }
  return a;
}

Span StartLlmRequestSpan(const telemetry::Tracer& tracer, const telemetry::SpanContext& parent,
                         const LlmRequestStart& start) {
  return tracer.StartSpan("llm_request", SpanKind::kInternal, parent, Timestamp(start.arrival),
                          LlmRequestStartAttributes(start));
}

void EndLlmRequestSpan(const telemetry::Tracer& tracer, Span& span, const LlmRequestEnd& end,
                       const RequestTracingOptions& options) {
  if (!span.IsRecording()) {
    span.End();
    return;
  }
  const engine::RequestMetrics& m = end.metrics;
  const SteadyTime arrival = m.arrival;
  const SteadyTime finished = m.finished.value_or(Now());
  const bool aborted = !end.error_type.empty();

  // queue: one span per stay; a stay after the first one follows a preemption.
  double queue_s = 0;
  for (size_t i = 0; i < m.queue_intervals.size(); ++i) {
    const engine::QueueInterval& q = m.queue_intervals[i];
    StartChild(tracer, span, "queue", q.enter).End(Timestamp(q.exit));
    queue_s += SecondsBetween(q.enter, q.exit);
    if (i == 0) continue;
    span.AddEvent("preempted", Timestamp(q.enter));
    // A stay closed by the abort itself did not end in a resumption.
    if (!(aborted && q.exit == finished)) span.AddEvent("resumed", Timestamp(q.exit));
  }

  // prefill: first scheduled -> first token (-> the end, for a request that got none).
  double prefill_s = 0;
  if (m.first_scheduled) {
    const SteadyTime prefill_end = m.first_token.value_or(finished);
    Attributes a;
    a.push_back({"lantern.prefill.computed_tokens", int64_t{m.num_computed_prompt_tokens}});
    a.push_back({"lantern.prefill.cached_tokens", int64_t{m.num_cached_prompt_tokens}});
    a.push_back({"lantern.prefill.chunks", int64_t{m.num_prefill_chunks}});
    StartChild(tracer, span, "prefill", *m.first_scheduled, std::move(a))
        .End(Timestamp(prefill_end));
    prefill_s = SecondsBetween(*m.first_scheduled, prefill_end);
  }

  // decode: first token -> last token, when there was more than one step of tokens.
  double decode_s = 0;
  if (m.first_token && m.last_token && *m.last_token > *m.first_token) {
    Attributes a;
    a.push_back({"lantern.decode.tokens", int64_t{m.num_generation_tokens}});
    Span decode = StartChild(tracer, span, "decode", *m.first_token, std::move(a));
    if (options.token_events) {
      size_t added = 0;
      for (const TokenEvent& t : end.tokens) {
        if (added == options.max_token_events) break;
        Attributes e;
        e.push_back({"lantern.token.id", int64_t{t.token_id}});
        e.push_back({"lantern.sequence.index", int64_t{t.sequence}});
        decode.AddEvent("token", Timestamp(t.time), std::move(e));
        ++added;
      }
    }
    decode.End(Timestamp(*m.last_token));
    decode_s = SecondsBetween(*m.first_token, *m.last_token);
  }
  if (m.first_token) span.AddEvent("first_token", Timestamp(*m.first_token));

  span.SetAttribute("gen_ai.usage.prompt_tokens", int64_t{m.num_prompt_tokens});
  span.SetAttribute("gen_ai.usage.completion_tokens", int64_t{m.num_generation_tokens});
  span.SetAttribute("gen_ai.usage.input_tokens", int64_t{m.num_prompt_tokens});
  span.SetAttribute("gen_ai.usage.output_tokens", int64_t{m.num_generation_tokens});
  span.SetAttribute("gen_ai.usage.cache_read.input_tokens", int64_t{m.num_cached_prompt_tokens});
  span.SetAttribute("gen_ai.usage.num_sequences", int64_t{end.num_sequences});
  span.SetAttribute("gen_ai.response.finish_reasons", end.finish_reasons);
  span.SetAttribute("gen_ai.latency.e2e", SecondsBetween(arrival, finished));
  if (m.first_token) {
    span.SetAttribute("gen_ai.latency.time_to_first_token",
                      SecondsBetween(arrival, *m.first_token));
  }
  span.SetAttribute("gen_ai.latency.time_in_queue", queue_s);
  span.SetAttribute("gen_ai.latency.time_in_scheduler", m.scheduler_s);
  span.SetAttribute("gen_ai.latency.time_in_model_prefill", prefill_s);
  span.SetAttribute("gen_ai.latency.time_in_model_decode", decode_s);
  span.SetAttribute("gen_ai.latency.time_in_model_inference", prefill_s + decode_s);
  if (options.detailed) {
    span.SetAttribute("gen_ai.latency.time_in_model_forward", m.model_forward_s);
    span.SetAttribute("gen_ai.latency.time_in_model_execute", m.model_execute_s);
  }
  if (end.first_chunk) {
    span.SetAttribute("gen_ai.response.time_to_first_chunk",
                      SecondsBetween(arrival, *end.first_chunk));
  }
  span.SetAttribute("lantern.request.preemptions", int64_t{m.num_preemptions});
  if (options.content) {
    if (end.prompt) span.SetAttribute("gen_ai.prompt", *end.prompt);
    if (end.completion) span.SetAttribute("gen_ai.completion", *end.completion);
  }
  if (aborted) {
    span.SetAttribute("error.type", end.error_type);
    span.SetStatus(telemetry::StatusCode::kError, end.error_type);
    span.AddEvent("aborted", Timestamp(finished));
  }
  span.End(Timestamp(finished));
}

}  // namespace lantern::server
