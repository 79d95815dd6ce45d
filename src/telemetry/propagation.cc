#include "telemetry/propagation.h"

#include <atomic>

#include "base/log.h"
#include "telemetry/trace_context.h"

namespace lantern::telemetry {
namespace {

class TraceContextPropagator : public TextMapPropagator {
 public:
  void Inject(const Context& context, TextMapCarrier& carrier) const override {
    const SpanContext& span = context.span_context;
    if (!span.IsValid()) return;
    carrier.Set("traceparent", FormatTraceParent(span));
    if (!span.trace_state.empty()) carrier.Set("tracestate", span.trace_state);
  }

  Context Extract(const TextMapCarrier& carrier, Context context) const override {
    std::optional<std::string_view> parent = carrier.Get("traceparent");
    if (!parent) return context;
    std::optional<SpanContext> span = ParseTraceParent(*parent);
    if (!span) return context;
    if (std::optional<std::string_view> state = carrier.Get("tracestate")) {
      span->trace_state = NormalizeTraceState(*state);
    }
    context.span_context = std::move(*span);
    return context;
  }

  std::vector<std::string> Fields() const override { return {"traceparent", "tracestate"}; }
};

class BaggagePropagator : public TextMapPropagator {
 public:
  void Inject(const Context& context, TextMapCarrier& carrier) const override {
    std::string header = context.baggage.ToHeader();
    if (!header.empty()) carrier.Set("baggage", header);
  }

  Context Extract(const TextMapCarrier& carrier, Context context) const override {
    if (std::optional<std::string_view> header = carrier.Get("baggage")) {
      context.baggage = Baggage::Parse(*header);
    }
    return context;
  }

  std::vector<std::string> Fields() const override { return {"baggage"}; }
};

class CompositePropagator : public TextMapPropagator {
 public:
  explicit CompositePropagator(std::vector<std::unique_ptr<TextMapPropagator>> propagators)
      : propagators_(std::move(propagators)) {}

  void Inject(const Context& context, TextMapCarrier& carrier) const override {
    for (const auto& p : propagators_) p->Inject(context, carrier);
  }
  Context Extract(const TextMapCarrier& carrier, Context context) const override {
    for (const auto& p : propagators_) context = p->Extract(carrier, std::move(context));
    return context;
  }
  std::vector<std::string> Fields() const override {
    std::vector<std::string> fields;
    for (const auto& p : propagators_) {
      for (std::string& f : p->Fields()) fields.push_back(std::move(f));
    }
    return fields;
  }

 private:
  std::vector<std::unique_ptr<TextMapPropagator>> propagators_;
};

std::unique_ptr<TextMapPropagator> DefaultPropagator() {
  std::vector<std::unique_ptr<TextMapPropagator>> list;
  list.push_back(MakeTraceContextPropagator());
  list.push_back(MakeBaggagePropagator());
  return MakeCompositePropagator(std::move(list));
}

// Replaced propagators are leaked on purpose: another thread may still be using one.
std::atomic<const TextMapPropagator*> g_propagator{nullptr};

}  // namespace

std::optional<std::string_view> MapCarrier::Get(std::string_view key) const {
  auto it = headers_.find(AsciiLower(key));
  if (it == headers_.end()) return std::nullopt;
  return std::string_view(it->second);
}

void MapCarrier::Set(std::string_view key, std::string_view value) {
  headers_[AsciiLower(key)] = std::string(value);
}

std::unique_ptr<TextMapPropagator> MakeTraceContextPropagator() {
  return std::make_unique<TraceContextPropagator>();
}

std::unique_ptr<TextMapPropagator> MakeBaggagePropagator() {
  return std::make_unique<BaggagePropagator>();
}

std::unique_ptr<TextMapPropagator> MakeCompositePropagator(
    std::vector<std::unique_ptr<TextMapPropagator>> propagators) {
  return std::make_unique<CompositePropagator>(std::move(propagators));
}

std::unique_ptr<TextMapPropagator> PropagatorFromEnv(const EnvLookup& env) {
  std::optional<std::string> value = EnvString(env, "OTEL_PROPAGATORS");
  if (!value) return DefaultPropagator();
  std::vector<std::unique_ptr<TextMapPropagator>> list;
  bool have_tracecontext = false, have_baggage = false;
  std::string_view rest = *value;
  while (true) {
    size_t comma = rest.find(',');
    std::string name = AsciiLower(TrimWhitespace(rest.substr(0, comma)));
    if (name == "none") {
      // "none" means no propagation at all, whatever else is listed.
      return MakeCompositePropagator({});
    } else if (name == "tracecontext") {
      if (!have_tracecontext) list.push_back(MakeTraceContextPropagator());
      have_tracecontext = true;
    } else if (name == "baggage") {
      if (!have_baggage) list.push_back(MakeBaggagePropagator());
      have_baggage = true;
    } else if (!name.empty()) {
      LANTERN_LOG(kWarning, "telemetry") << "OTEL_PROPAGATORS: unsupported propagator \"" << name
                                         << "\" ignored (supported: tracecontext, baggage, none)";
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return MakeCompositePropagator(std::move(list));
}

const TextMapPropagator& GlobalPropagator() {
  const TextMapPropagator* current = g_propagator.load(std::memory_order_acquire);
  if (current != nullptr) return *current;
  const TextMapPropagator* fresh = DefaultPropagator().release();
  if (g_propagator.compare_exchange_strong(current, fresh, std::memory_order_acq_rel)) {
    return *fresh;
  }
  delete fresh;
  return *current;
}

void SetGlobalPropagator(std::unique_ptr<TextMapPropagator> propagator) {
  g_propagator.store(propagator.release(), std::memory_order_release);
}

Context ExtractFromEnvironment(const EnvLookup& env) {
  MapCarrier carrier;
  if (auto v = EnvString(env, "TRACEPARENT")) carrier.Set("traceparent", *v);
  if (auto v = EnvString(env, "TRACESTATE")) carrier.Set("tracestate", *v);
  if (auto v = EnvString(env, "BAGGAGE")) carrier.Set("baggage", *v);
  Context context;
  context = MakeTraceContextPropagator()->Extract(carrier, std::move(context));
  return MakeBaggagePropagator()->Extract(carrier, std::move(context));
}

}  // namespace lantern::telemetry
