#include "telemetry/propagation.h"

#include <gtest/gtest.h>

#include <map>

#include "telemetry/trace_context.h"
#include "test_env.h"

namespace lantern::telemetry {
namespace {

constexpr const char* kParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

TEST(Propagation, ExtractsAndInjectsTraceContextAndBaggage) {
  MapCarrier in;
  in.Set("TraceParent", kParent);  // header names are case-insensitive
  in.Set("tracestate", "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7");
  in.Set("baggage", "user=alice");
  Context context = GlobalPropagator().Extract(in, {});
  EXPECT_TRUE(context.span_context.IsValid());
  EXPECT_TRUE(context.span_context.is_remote);
  EXPECT_EQ(context.span_context.trace_state, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  EXPECT_EQ(context.baggage.Get("user"), "alice");

  MapCarrier out;
  GlobalPropagator().Inject(context, out);
  EXPECT_EQ(out.Get("traceparent"), kParent);
  EXPECT_EQ(out.Get("tracestate"), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  EXPECT_EQ(out.Get("baggage"), "user=alice");
}

TEST(Propagation, InvalidTraceStateIsDroppedButTraceParentKept) {
  MapCarrier in;
  in.Set("traceparent", kParent);
  in.Set("tracestate", "ok=1,BAD=2");
  Context context = MakeTraceContextPropagator()->Extract(in, {});
  EXPECT_TRUE(context.span_context.IsValid());
  EXPECT_EQ(context.span_context.trace_state, "");
}

TEST(Propagation, InvalidTraceParentIgnoresTraceState) {
  MapCarrier in;
  in.Set("traceparent", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  in.Set("tracestate", "ok=1");
  Context context = MakeTraceContextPropagator()->Extract(in, {});
  EXPECT_FALSE(context.span_context.IsValid());
  EXPECT_EQ(context.span_context.trace_state, "");
}

TEST(Propagation, NothingIsInjectedForAnInvalidContext) {
  MapCarrier out;
  GlobalPropagator().Inject(Context{}, out);
  EXPECT_TRUE(out.headers().empty());
}

TEST(Propagation, FromEnvironmentVariable) {
  MapCarrier in;
  in.Set("traceparent", kParent);
  in.Set("baggage", "k=v");
  auto fields = [](const TextMapPropagator& p) { return p.Fields(); };
  EXPECT_EQ(fields(*PropagatorFromEnv(MapEnv({}))),
            (std::vector<std::string>{"traceparent", "tracestate", "baggage"}));
  EXPECT_EQ(fields(*PropagatorFromEnv(MapEnv({{"OTEL_PROPAGATORS", ""}}))).size(), 3u);
  EXPECT_EQ(fields(*PropagatorFromEnv(MapEnv({{"OTEL_PROPAGATORS", "baggage"}}))),
            (std::vector<std::string>{"baggage"}));
  EXPECT_EQ(fields(*PropagatorFromEnv(MapEnv({{"OTEL_PROPAGATORS", " TraceContext , b3 "}}))),
            (std::vector<std::string>{"traceparent", "tracestate"}));
  auto none = PropagatorFromEnv(MapEnv({{"OTEL_PROPAGATORS", "tracecontext,none"}}));
  EXPECT_TRUE(fields(*none).empty());
  EXPECT_FALSE(none->Extract(in, {}).span_context.IsValid());
}

TEST(Propagation, ProcessContextFromEnvironment) {
  Context context = ExtractFromEnvironment(
      MapEnv({{"TRACEPARENT", kParent}, {"TRACESTATE", "a=1"}, {"BAGGAGE", "job=nightly"}}));
  EXPECT_EQ(FormatTraceParent(context.span_context), kParent);
  EXPECT_EQ(context.span_context.trace_state, "a=1");
  EXPECT_EQ(context.baggage.Get("job"), "nightly");
  EXPECT_FALSE(ExtractFromEnvironment(MapEnv({{"TRACEPARENT", "junk"}})).span_context.IsValid());
}

}  // namespace
}  // namespace lantern::telemetry
