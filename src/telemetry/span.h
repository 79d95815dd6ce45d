// The span API. A Span is a move-only handle: recording spans own their data until End()
// hands it to the provider's processors; a non-recording span (not sampled, or tracing
// off) holds only its context and every call on it is a branch.
//
// One Span handle is used by one thread at a time (like std::string); spans themselves
// are independent, so different threads work on different spans without locks.
#pragma once

#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include "base/clock.h"
#include "telemetry/span_context.h"
#include "telemetry/span_data.h"

namespace lantern::telemetry {

class TracerProvider;

// A span timestamp: a steady-clock reading (shifted to wall time by base's one offset, so
// spans built after the fact nest exactly) or Unix nanoseconds. Default: "now".
class Timestamp {
 public:
  Timestamp() = default;
  Timestamp(SteadyTime t) : unix_nanos_(ToUnixNanos(t)) {}  // NOLINT: implicit by design
  static Timestamp FromUnixNanos(int64_t nanos) {
    Timestamp t;
    t.unix_nanos_ = nanos;
    return t;
  }
  bool is_now() const { return unix_nanos_ == 0; }
  int64_t UnixNanosOrNow() const { return unix_nanos_ != 0 ? unix_nanos_ : ToUnixNanos(Now()); }

 private:
  int64_t unix_nanos_ = 0;
};

class Span {
 public:
  Span() = default;  // a non-recording span with an invalid context
  Span(Span&& other) noexcept = default;
  Span& operator=(Span&& other) noexcept;  // ends the span this handle held
  ~Span() { End(); }                       // ends the span (now) if not ended yet

  bool IsRecording() const { return data_ != nullptr; }
  const SpanContext& context() const { return context_; }

  // Replaces the value of an existing key. Values: bool, integers, double, strings and
  // vectors of those (AttributeValue's types). A key given as a string literal is not
  // copied (see attribute_key.h); other keys are copied when the span records.
  template <size_t N, typename V>
  void SetAttribute(const char (&key)[N], V&& value) {
    if (data_ != nullptr) SetAttributeRecording(AttributeKey(key), std::forward<V>(value));
  }
  template <size_t N, typename V>
  void SetAttribute(char (&key)[N], V&& value) {
    SetAttribute(std::string_view(key, ::strnlen(key, N)), std::forward<V>(value));
  }
  template <typename V>
  void SetAttribute(std::string_view key, V&& value) {
    if (data_ != nullptr) SetAttributeRecording(AttributeKey(key), std::forward<V>(value));
  }
  template <size_t N>
  void SetAttributeValue(const char (&key)[N], AttributeValue value) {
    if (data_ != nullptr) SetAttributeRecording(AttributeKey(key), std::move(value));
  }
  template <size_t N>
  void SetAttributeValue(char (&key)[N], AttributeValue value) {
    SetAttributeValue(std::string_view(key, ::strnlen(key, N)), std::move(value));
  }
  void SetAttributeValue(std::string_view key, AttributeValue value) {
    if (data_ != nullptr) SetAttributeRecording(AttributeKey(key), std::move(value));
  }

  void AddEvent(std::string_view name, Timestamp time = {}, Attributes attributes = {}) {
    if (data_ != nullptr) AddEventRecording(name, time, std::move(attributes));
  }
  void AddLink(const SpanContext& linked, Attributes attributes = {}) {
    if (data_ != nullptr) AddLinkRecording(linked, std::move(attributes));
  }
  // kOk is final; kError may later become kOk; kUnset is ignored. The description is kept
  // for kError only.
  void SetStatus(StatusCode code, std::string_view description = {}) {
    if (data_ != nullptr) SetStatusRecording(code, description);
  }
  void UpdateName(std::string_view name) {
    if (data_ != nullptr) data_->name.assign(name);
  }
  // Hands the span to the processors; later calls on this handle do nothing.
  void End(Timestamp end_time = {}) {
    if (data_ != nullptr) EndRecording(end_time);
  }

 private:
  friend class Tracer;
  Span(std::unique_ptr<SpanData> data, const TracerProvider* provider, SpanContext context)
      : data_(std::move(data)), provider_(provider), context_(std::move(context)) {}
  explicit Span(SpanContext context) : context_(std::move(context)) {}

  // The recording halves of the calls above (the non-recording ones stay inline).
  void SetAttributeRecording(AttributeKey&& key, AttributeValue&& value);
  // A string value other than a std::string to move: copied into a recycled buffer.
  void SetStringAttributeRecording(AttributeKey&& key, std::string_view value);
  template <typename V>
  void SetAttributeRecording(AttributeKey&& key, V&& value) {
    using T = std::remove_cvref_t<V>;
    if constexpr (std::is_convertible_v<V&&, std::string_view> &&
                  !(std::is_same_v<T, std::string> && std::is_rvalue_reference_v<V&&>)) {
      SetStringAttributeRecording(std::move(key), std::string_view(value));
    } else {
      SetAttributeRecording(std::move(key), AttributeValue(std::forward<V>(value)));
    }
  }
  void AddEventRecording(std::string_view name, Timestamp time, Attributes&& attributes);
  void AddLinkRecording(const SpanContext& linked, Attributes&& attributes);
  void SetStatusRecording(StatusCode code, std::string_view description);
  void EndRecording(Timestamp end_time);

  std::unique_ptr<SpanData> data_;  // null when not recording
  const TracerProvider* provider_ = nullptr;
  SpanContext context_;
};

}  // namespace lantern::telemetry
