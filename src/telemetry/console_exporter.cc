#include "telemetry/console_exporter.h"

#include <cinttypes>
#include <ctime>
#include <variant>

#include "telemetry/ids.h"

namespace lantern::telemetry {
namespace {

void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof escape, "\\u%04x", c);
          out += escape;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void AppendScalar(std::string& out, bool v) { out += v ? "true" : "false"; }
void AppendScalar(std::string& out, int64_t v) { out += std::to_string(v); }
void AppendScalar(std::string& out, double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", v);
  out += text;
}
void AppendScalar(std::string& out, const std::string& v) { AppendQuoted(out, v); }

void AppendValue(std::string& out, const AttributeValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<bool>> ||
                      std::is_same_v<T, std::vector<int64_t>> ||
                      std::is_same_v<T, std::vector<double>> ||
                      std::is_same_v<T, std::vector<std::string>>) {
          out += '[';
          for (size_t i = 0; i < v.size(); ++i) {
            if (i > 0) out += ", ";
            if constexpr (std::is_same_v<T, std::vector<bool>>) {
              AppendScalar(out, static_cast<bool>(v[i]));
            } else {
              AppendScalar(out, v[i]);
            }
          }
          out += ']';
        } else {
          AppendScalar(out, v);
        }
      },
      value);
}

void AppendAttributes(std::string& out, const Attributes& attributes, uint32_t dropped) {
  out += '{';
  for (size_t i = 0; i < attributes.size(); ++i) {
    if (i > 0) out += ", ";
    out += attributes[i].key;
    out += '=';
    AppendValue(out, attributes[i].value);
  }
  if (dropped > 0) {
    out += attributes.empty() ? "" : ", ";
    out += "dropped_attributes=" + std::to_string(dropped);
  }
  out += '}';
}

void AppendTime(std::string& out, int64_t unix_nanos) {
  std::time_t seconds = static_cast<std::time_t>(unix_nanos / 1000000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(text + n, sizeof text - n, ".%09" PRId64 "Z", unix_nanos % 1000000000);
  out += text;
}

void AppendMillis(std::string& out, int64_t nanos) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", static_cast<double>(nanos) / 1e6);
  out += text;
  out += "ms";
}

const char* KindName(SpanKind kind) {
  switch (kind) {
    case SpanKind::kInternal:
      return "INTERNAL";
    case SpanKind::kServer:
      return "SERVER";
    case SpanKind::kClient:
      return "CLIENT";
    case SpanKind::kProducer:
      return "PRODUCER";
    case SpanKind::kConsumer:
      return "CONSUMER";
    default:
      return "UNSPECIFIED";
  }
}

}  // namespace

std::string FormatSpanLine(const SpanData& span) {
  std::string out;
  out.reserve(256);
  AppendQuoted(out, span.name);
  out += " trace=" + ToHex(span.trace_id);
  out += " span=" + ToHex(span.span_id);
  out += " parent=";
  out += IsValid(span.parent_span_id) ? ToHex(span.parent_span_id) : "-";
  out += " kind=";
  out += KindName(span.kind);
  out += " start=";
  AppendTime(out, span.start_time_unix_nano);
  out += " duration=";
  AppendMillis(out, span.end_time_unix_nano - span.start_time_unix_nano);
  out += " status=";
  if (span.status_code == StatusCode::kOk) {
    out += "OK";
  } else if (span.status_code == StatusCode::kError) {
    out += "ERROR(";
    AppendQuoted(out, span.status_message);
    out += ')';
  } else {
    out += "UNSET";
  }
  if (span.resource) {
    for (const Attribute& a : span.resource->attributes) {
      if (a.key == "service.name") {
        out += " service=";
        AppendValue(out, a.value);
      }
    }
  }
  if (span.scope) {
    out += " scope=";
    AppendQuoted(out, span.scope->name);
  }
  if (!span.trace_state.empty()) {
    out += " tracestate=";
    AppendQuoted(out, span.trace_state);
  }
  out += " attrs=";
  AppendAttributes(out, span.attributes, span.dropped_attributes_count);
  if (!span.events.empty() || span.dropped_events_count > 0) {
    out += " events=[";
    for (size_t i = 0; i < span.events.size(); ++i) {
      const SpanEvent& e = span.events[i];
      if (i > 0) out += ", ";
      AppendQuoted(out, e.name);
      out += "@+";
      AppendMillis(out, e.time_unix_nano - span.start_time_unix_nano);
      AppendAttributes(out, e.attributes, e.dropped_attributes_count);
    }
    out += ']';
    if (span.dropped_events_count > 0) {
      out += " dropped_events=" + std::to_string(span.dropped_events_count);
    }
  }
  if (!span.links.empty() || span.dropped_links_count > 0) {
    out += " links=[";
    for (size_t i = 0; i < span.links.size(); ++i) {
      if (i > 0) out += ", ";
      out += ToHex(span.links[i].trace_id) + "/" + ToHex(span.links[i].span_id);
      if (!span.links[i].attributes.empty()) {
        AppendAttributes(out, span.links[i].attributes, span.links[i].dropped_attributes_count);
      }
    }
    out += ']';
    if (span.dropped_links_count > 0) {
      out += " dropped_links=" + std::to_string(span.dropped_links_count);
    }
  }
  return out;
}

ExportResult ConsoleSpanExporter::Export(std::span<const std::unique_ptr<SpanData>> spans) {
  std::string text;
  for (const auto& span : spans) {
    text += FormatSpanLine(*span);
    text += '\n';
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (out_ == nullptr) return ExportResult::kFailure;
  bool ok = std::fwrite(text.data(), 1, text.size(), out_) == text.size();
  std::fflush(out_);
  return ok ? ExportResult::kSuccess : ExportResult::kFailure;
}

bool ConsoleSpanExporter::ForceFlush(std::chrono::microseconds) {
  std::lock_guard<std::mutex> lock(mu_);
  return out_ == nullptr || std::fflush(out_) == 0;
}

bool ConsoleSpanExporter::Shutdown(std::chrono::microseconds) {
  std::lock_guard<std::mutex> lock(mu_);
  if (out_ != nullptr) std::fflush(out_);
  out_ = nullptr;
  return true;
}

}  // namespace lantern::telemetry
