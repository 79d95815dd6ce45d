#include "telemetry/resource.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "test_env.h"

namespace lantern::telemetry {
namespace {

std::string Str(const Resource& r, std::string_view key) {
  return ResourceString(r, key).value_or("<unset>");
}

TEST(ResourceAttributes, ParsesAndPercentDecodes) {
  auto parsed = ParseResourceAttributes(
      "service.name=my%20svc, deployment.environment = prod ,k=a%2Cb%3Dc,empty=");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 4u);
  EXPECT_EQ((*parsed)[0].key, "service.name");
  EXPECT_EQ(std::get<std::string>((*parsed)[0].value), "my svc");
  EXPECT_EQ((*parsed)[1].key, "deployment.environment");
  EXPECT_EQ(std::get<std::string>((*parsed)[1].value), "prod");
  EXPECT_EQ(std::get<std::string>((*parsed)[2].value), "a,b=c");
  EXPECT_EQ(std::get<std::string>((*parsed)[3].value), "");
}

TEST(ResourceAttributes, MalformedValuesFailWithTheItemNamed) {
  for (const char* bad : {"a=1,novalue", "a=1,=2", "a=%zz", "a=%4"}) {
    auto parsed = ParseResourceAttributes(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find("OTEL_RESOURCE_ATTRIBUTES"), std::string::npos);
  }
}

TEST(Resource, DetectsSdkHostAndProcess) {
  Resource r = BuildResource(MapEnv({}));
  EXPECT_EQ(Str(r, "telemetry.sdk.name"), "lantern");
  EXPECT_EQ(Str(r, "telemetry.sdk.language"), "cpp");
  EXPECT_NE(Str(r, "telemetry.sdk.version"), "<unset>");
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(Str(r, "host.name"), host);
  bool found_pid = false;
  for (const Attribute& a : r.attributes) {
    if (a.key == "process.pid") found_pid = std::get<int64_t>(a.value) == getpid();
  }
  EXPECT_TRUE(found_pid);
  // The default service name names the executable, as the spec asks.
  EXPECT_EQ(Str(r, "service.name"), "unknown_service:" + Str(r, "process.executable.name"));
  EXPECT_EQ(Str(r, "process.executable.name"), "telemetry_resource_test");
}

TEST(Resource, ServiceNamePrecedence) {
  EXPECT_EQ(Str(BuildResource(MapEnv({{"OTEL_SERVICE_NAME", "vllm-server"},
                                      {"OTEL_RESOURCE_ATTRIBUTES", "service.name=other"}})),
                "service.name"),
            "vllm-server");
  EXPECT_EQ(
      Str(BuildResource(MapEnv({{"OTEL_RESOURCE_ATTRIBUTES", "service.name=other"}}), "lantern"),
          "service.name"),
      "other");
  EXPECT_EQ(Str(BuildResource(MapEnv({{"OTEL_SERVICE_NAME", ""}}), "lantern"), "service.name"),
            "lantern");
}

TEST(Resource, EnvironmentAttributesOverrideDetectedOnes) {
  Resource r = BuildResource(MapEnv({{"OTEL_RESOURCE_ATTRIBUTES", "host.name=pod-7,team=ml"}}));
  EXPECT_EQ(Str(r, "host.name"), "pod-7");
  EXPECT_EQ(Str(r, "team"), "ml");
}

TEST(Resource, MalformedVariableIsDiscardedWhole) {
  Resource r = BuildResource(MapEnv({{"OTEL_RESOURCE_ATTRIBUTES", "team=ml,broken"}}));
  EXPECT_EQ(Str(r, "team"), "<unset>");
  EXPECT_EQ(Str(r, "service.name").rfind("unknown_service:", 0), 0u);
}

}  // namespace
}  // namespace lantern::telemetry
