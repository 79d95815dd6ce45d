#include "telemetry/resource.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <variant>

#include "base/log.h"
#include "telemetry/baggage.h"

#ifndef LANTERN_VERSION
#define LANTERN_VERSION "0.1.0"
#endif

namespace lantern::telemetry {
namespace {

std::string ExecutablePath() {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string();
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The host architecture as the semantic conventions name it.
const char* HostArch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "x86";
#else
  return "unknown";
#endif
}

void AddDetected(Resource& resource) {
  SetResourceAttribute(resource, "telemetry.sdk.name", std::string("lantern"));
  SetResourceAttribute(resource, "telemetry.sdk.language", std::string("cpp"));
  SetResourceAttribute(resource, "telemetry.sdk.version", std::string(LANTERN_VERSION));
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') {
    SetResourceAttribute(resource, "host.name", std::string(host));
  }
  SetResourceAttribute(resource, "host.arch", std::string(HostArch()));
  SetResourceAttribute(resource, "os.type", std::string("linux"));
  utsname uts{};
  if (uname(&uts) == 0) {
    SetResourceAttribute(resource, "os.version", std::string(uts.release));
  }
  SetResourceAttribute(resource, "process.pid", static_cast<int64_t>(getpid()));
  std::string exe = ExecutablePath();
  if (!exe.empty()) {
    SetResourceAttribute(resource, "process.executable.name", BaseName(exe));
    SetResourceAttribute(resource, "process.executable.path", exe);
  }
  SetResourceAttribute(resource, "process.runtime.name", std::string("cpp"));
#if defined(__clang__)
  SetResourceAttribute(resource, "process.runtime.description", std::string("clang " __VERSION__));
#elif defined(__GNUC__)
  SetResourceAttribute(resource, "process.runtime.description", std::string("g++ " __VERSION__));
#endif
  SetResourceAttribute(resource, "process.runtime.version",
                       std::to_string(__cplusplus));  // the C++ standard in use
}

}  // namespace

Result<Attributes> ParseResourceAttributes(std::string_view text) {
  Attributes attributes;
  while (true) {
    size_t comma = text.find(',');
    std::string_view item = TrimWhitespace(text.substr(0, comma));
    if (!item.empty()) {
      size_t eq = item.find('=');
      if (eq == std::string_view::npos) {
        return InvalidArgument("OTEL_RESOURCE_ATTRIBUTES: item \"" + std::string(item) +
                               "\" is not key=value");
      }
      std::optional<std::string> key = PercentDecode(TrimWhitespace(item.substr(0, eq)));
      std::optional<std::string> value = PercentDecode(TrimWhitespace(item.substr(eq + 1)));
      if (!key || !value) {
        return InvalidArgument("OTEL_RESOURCE_ATTRIBUTES: item \"" + std::string(item) +
                               "\" has a malformed percent-escape");
      }
      if (key->empty()) {
        return InvalidArgument("OTEL_RESOURCE_ATTRIBUTES: item \"" + std::string(item) +
                               "\" has an empty key");
      }
      bool replaced = false;
      for (Attribute& a : attributes) {
        if (a.key == *key) {
          a.value = std::move(*value);
          replaced = true;
        }
      }
      if (!replaced) attributes.push_back({std::move(*key), std::move(*value)});
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return attributes;
}

void SetResourceAttribute(Resource& resource, std::string_view key, AttributeValue value) {
  for (Attribute& a : resource.attributes) {
    if (a.key == key) {
      a.value = std::move(value);
      return;
    }
  }
  resource.attributes.push_back({std::string(key), std::move(value)});
}

std::optional<std::string> ResourceString(const Resource& resource, std::string_view key) {
  for (const Attribute& a : resource.attributes) {
    if (a.key == key) {
      if (const auto* s = std::get_if<std::string>(&a.value)) return *s;
    }
  }
  return std::nullopt;
}

Resource BuildResource(const EnvLookup& env, std::optional<std::string_view> default_service_name) {
  Resource resource;
  AddDetected(resource);
  bool service_from_env = false;
  if (std::optional<std::string> text = EnvString(env, "OTEL_RESOURCE_ATTRIBUTES")) {
    Result<Attributes> parsed = ParseResourceAttributes(*text);
    if (!parsed.ok()) {
      LANTERN_LOG(kWarning, "telemetry")
          << parsed.status().message() << "; the whole variable is ignored";
    } else {
      for (Attribute& a : *parsed) {
        if (a.key == "service.name") service_from_env = true;
        SetResourceAttribute(resource, a.key, std::move(a.value));
      }
    }
  }
  if (std::optional<std::string> name = EnvString(env, "OTEL_SERVICE_NAME")) {
    SetResourceAttribute(resource, "service.name", *name);
  } else if (!service_from_env) {
    std::string fallback =
        default_service_name
            ? std::string(*default_service_name)
            : "unknown_service:" +
                  ResourceString(resource, "process.executable.name").value_or("lantern");
    SetResourceAttribute(resource, "service.name", fallback);
  }
  return resource;
}

}  // namespace lantern::telemetry
