#include "telemetry/otlp_grpc_transport.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>

#include "base/log.h"
#include "google/rpc/retry_info.pb.h"
#include "google/rpc/status.pb.h"
#include "telemetry/env.h"
#include "telemetry/otlp_buffer_pool.h"
#include "telemetry/otlp_endpoint.h"
#include "telemetry/otlp_proto.h"
#include "telemetry/otlp_retry.h"
#include "telemetry/otlp_wire.h"

namespace lantern::telemetry {
namespace {

// The Export method of each signal's collector service.
const char* ExportMethod(OtlpSignal signal) {
  switch (signal) {
    case OtlpSignal::kMetrics:
      return "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    case OtlpSignal::kLogs:
      return "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    case OtlpSignal::kTraces:
      break;
  }
  return "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
}
constexpr int kMaxResponseBytes = 4 << 20;  // larger responses are refused

// The request, already encoded (by AppendOtlpProtobuf), in a pooled buffer.
class GrpcRequest final : public OtlpRequest {
 public:
  explicit GrpcRequest(std::shared_ptr<std::string> body) : body_(std::move(body)) {}
  size_t ByteSize() const override { return body_->size(); }

  // A message for gRPC that shares the bytes (no copy) and keeps them alive for as long
  // as gRPC holds the slice, which may outlive the call.
  grpc::ByteBuffer ToByteBuffer() const {
    auto* keep_alive = new std::shared_ptr<std::string>(body_);
    grpc::Slice slice(
        body_->data(), body_->size(),
        [](void* p) { delete static_cast<std::shared_ptr<std::string>*>(p); }, keep_alive);
    return grpc::ByteBuffer(&slice, 1);
  }

 private:
  std::shared_ptr<std::string> body_;
};

// The server's RetryInfo delay from the google.rpc.Status in the error details, if any.
std::optional<std::chrono::milliseconds> RetryInfoDelay(const grpc::Status& status) {
  if (status.error_details().empty()) return std::nullopt;
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return std::nullopt;
  for (const google::protobuf::Any& any : details.details()) {
    if (!any.type_url().ends_with("/google.rpc.RetryInfo")) continue;
    google::rpc::RetryInfo info;
    if (!info.ParseFromString(any.value())) continue;
    int64_t ms = info.retry_delay().seconds() * 1000 + info.retry_delay().nanos() / 1000000;
    return std::chrono::milliseconds(std::max<int64_t>(ms, 0));
  }
  return std::nullopt;
}

// The per-signal name of an OTEL_EXPORTER_OTLP_<SIGNAL>_<NAME> variable.
std::string SignalVariable(OtlpSignal signal, std::string_view name) {
  const char* part = signal == OtlpSignal::kMetrics ? "METRICS"
                     : signal == OtlpSignal::kLogs  ? "LOGS"
                                                    : "TRACES";
  return std::string("OTEL_EXPORTER_OTLP_") + part + "_" + std::string(name);
}

// Whether a failed call's message is what a TLS client sees when the collector answers in
// plaintext: the collector's HTTP/2 bytes read as a TLS record (wrong version number,
// record layer failure, packet length too long), or the collector closing the socket on a
// ClientHello it cannot read (unexpected EOF during the handshake).
bool LooksLikePlaintextPeer(std::string_view message) {
  const std::string lower = AsciiLower(message);
  for (const char* sign :
       {"wrong_version_number", "wrong version number", "record_layer_failure",
        "record layer failure", "packet_length_too_long", "unexpected eof", "unexpected_eof"}) {
    if (lower.find(sign) != std::string::npos) return true;
  }
  return false;
}

bool IsLegalMetadata(std::string_view key, std::string_view value) {
  if (key.empty() || key.starts_with("grpc-")) return false;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  if (key.ends_with("-bin")) return true;  // binary metadata: any bytes
  for (char c : value) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

class GrpcTransport final : public OtlpTransport {
 public:
  GrpcTransport(std::shared_ptr<grpc::Channel> channel, std::string description,
                const OtlpExporterOptions& options, const OtlpEndpoint& endpoint)
      : channel_(channel),
        stub_(std::move(channel)),
        description_(std::move(description)),
        method_(ExportMethod(options.signal)),
        gzip_(options.compression == OtlpCompression::kGzip),
        tls_(GrpcUsesTls(endpoint, options.insecure)),
        https_scheme_(endpoint.scheme == "https"),
        signal_(options.signal) {
    for (const auto& [key, value] : options.headers) {
      std::string lower = AsciiLower(key);  // gRPC metadata keys are lowercase
      // gRPC aborts the call (and asserts) on an illegal key or value: skip those.
      if (!IsLegalMetadata(lower, value)) {
        LANTERN_LOG(kWarning, "otlp") << "header \"" << key << "\" skipped: gRPC metadata "
                                      << "needs a key of [0-9a-z-_.] (not grpc-*) and a value "
                                      << "of printable ASCII";
        continue;
      }
      metadata_.emplace_back(std::move(lower), value);
    }
  }
  ~GrpcTransport() override {
    queue_.Shutdown();
    void* tag;
    bool ok;
    while (queue_.Next(&tag, &ok)) {
    }
  }

  std::unique_ptr<OtlpRequest> Encode(std::span<const SpanData* const> spans) override {
    std::shared_ptr<std::string> body = pool_->Take();
    AppendOtlpProtobuf(spans, body.get());
    return std::make_unique<GrpcRequest>(std::move(body));
  }

  std::unique_ptr<OtlpRequest> EncodeBody(const BodyWriter& write) override {
    std::shared_ptr<std::string> body = pool_->Take();
    write(/*json=*/false, body.get());
    return std::make_unique<GrpcRequest>(std::move(body));
  }

  SendOutcome Send(const OtlpRequest& request, SteadyTime deadline) override {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + (deadline - Now()));
    // Wait for a connection (up to the deadline) instead of failing at once while the
    // channel is in TRANSIENT_FAILURE: a collector that comes back is used at once, and
    // gRPC only drives reconnection while a call is waiting.
    context.set_wait_for_ready(true);
    for (const auto& [key, value] : metadata_) context.AddMetadata(key, value);
    if (gzip_) context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    {
      std::lock_guard lock(mutex_);
      if (cancelled_) return {SendOutcome::Kind::kCancelled, {}, 0, "exporter shut down"};
      active_ = &context;
    }
    // A unary call driven from this thread through its own completion queue.
    grpc::ByteBuffer message = static_cast<const GrpcRequest&>(request).ToByteBuffer();
    grpc::ByteBuffer response;
    grpc::Status status;
    auto call = stub_.PrepareUnaryCall(&context, method_, message, &queue_);
    call->StartCall();
    call->Finish(&response, &status, this);
    void* tag = nullptr;
    bool ok = false;
    queue_.Next(&tag, &ok);
    bool cancelled;
    {
      std::lock_guard lock(mutex_);
      active_ = nullptr;
      cancelled = cancelled_;
    }
    SendOutcome outcome;
    if (status.ok()) {
      ExportTraceServiceResponse parsed;
      grpc::Slice bytes;
      if (response.Length() > 0 && response.DumpToSingleSlice(&bytes).ok() &&
          parsed.ParseFromArray(bytes.begin(), static_cast<int>(bytes.size()))) {
        outcome.rejected_spans = parsed.partial_success().rejected_spans();
        outcome.message = parsed.partial_success().error_message();
      }
      return outcome;
    }
    outcome.message =
        "gRPC status " + std::to_string(status.error_code()) + " (" + status.error_message() + ")";
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      // The call waited for a connection: say so, rather than only "deadline exceeded".
      grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/false);
      if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_CONNECTING) {
        outcome.message +=
            "; no connection to the collector (is it up, and does it expect TLS or plaintext?)";
      }
    }
    if (tls_ && !cancelled) ExplainPlaintextPeer(status, &outcome);
    outcome.retry_after = RetryInfoDelay(status);
    if (cancelled) {
      outcome.kind = SendOutcome::Kind::kCancelled;
    } else if (IsRetryableGrpcCode(status.error_code(), outcome.retry_after.has_value())) {
      outcome.kind = SendOutcome::Kind::kRetryable;
    } else {
      outcome.kind = SendOutcome::Kind::kFailed;
    }
    return outcome;
  }

  void Cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    if (active_ != nullptr) active_->TryCancel();
  }

  std::string Describe() const override { return description_; }

 private:
  // A TLS channel to a plaintext collector fails every export the same way, in gRPC's own
  // words. Say once, at warning level, what to set instead; later failures of the same
  // kind are logged by the exporter at debug level only (outcome->explained).
  void ExplainPlaintextPeer(const grpc::Status& status, SendOutcome* outcome) {
    std::string message = status.error_message();
    if (!LooksLikePlaintextPeer(message) &&
        status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      // A wait-for-ready call that timed out says only "Deadline Exceeded": ask the channel
      // why it cannot connect with a call that fails at once.
      message = ConnectionFailure();
    }
    if (!LooksLikePlaintextPeer(message)) return;
    outcome->explained = true;
    if (plaintext_peer_explained_.exchange(true)) return;
    const std::string insecure = SignalVariable(signal_, "INSECURE");
    const std::string endpoint = SignalVariable(signal_, "ENDPOINT");
    LANTERN_LOG(kWarning, "otlp")
        << description_ << ": the TLS handshake failed (" << message
        << "); the collector seems to speak plaintext gRPC. For a plaintext collector "
        << (https_scheme_ ? "use an http:// endpoint (" + endpoint +
                                "=http://HOST:PORT), or a grpc:// one with " + insecure + "=true"
                          : "set " + insecure + "=true, or use an http:// endpoint (" + endpoint +
                                "=http://HOST:PORT)")
        << ". Further failures like this are logged at debug level only.";
  }

  // The channel's last connection error, as a call that does not wait for a connection
  // reports it (UNAVAILABLE with gRPC's reason), or "" when it connected after all.
  std::string ConnectionFailure() {
    grpc::ClientContext probe;
    probe.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc::ByteBuffer empty;
    grpc::ByteBuffer response;
    grpc::Status status;
    grpc::CompletionQueue queue;
    auto call = stub_.PrepareUnaryCall(&probe, method_, empty, &queue);
    call->StartCall();
    call->Finish(&response, &status, this);
    void* tag = nullptr;
    bool ok = false;
    queue.Next(&tag, &ok);
    queue.Shutdown();
    while (queue.Next(&tag, &ok)) {
    }
    return status.ok() ? std::string() : status.error_message();
  }

  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  grpc::CompletionQueue queue_;
  std::shared_ptr<OtlpBufferPool> pool_ = OtlpBufferPool::Create();
  const std::string description_;
  const char* const method_;
  const bool gzip_;
  std::vector<std::pair<std::string, std::string>> metadata_;

  const bool tls_;
  const bool https_scheme_;  // OTEL_EXPORTER_OTLP_*_INSECURE does not apply to https://
  const OtlpSignal signal_;
  std::atomic<bool> plaintext_peer_explained_{false};

  std::mutex mutex_;
  bool cancelled_ = false;                 // guarded by mutex_
  grpc::ClientContext* active_ = nullptr;  // guarded by mutex_
};

}  // namespace

Result<std::string> ReadPemFile(const std::string& path, std::string_view what) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream contents;
  if (file) contents << file.rdbuf();
  if (!file || contents.str().empty()) {
    return InvalidArgument("cannot read the OTLP " + std::string(what) + " file \"" + path +
                           "\" (missing, unreadable or empty)");
  }
  return contents.str();
}

Result<std::unique_ptr<OtlpTransport>> CreateOtlpGrpcTransport(const OtlpExporterOptions& options) {
  LANTERN_ASSIGN_OR_RETURN(OtlpEndpoint endpoint, ParseOtlpEndpoint(options.endpoint));
  const std::string target = GrpcTarget(endpoint);
  const bool tls = GrpcUsesTls(endpoint, options.insecure);
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.certificate_file.empty()) {
      LANTERN_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                               ReadPemFile(options.certificate_file, "certificate"));
    }
    if (!options.client_key_file.empty()) {
      LANTERN_ASSIGN_OR_RETURN(ssl.pem_private_key,
                               ReadPemFile(options.client_key_file, "client key"));
    }
    if (!options.client_certificate_file.empty()) {
      LANTERN_ASSIGN_OR_RETURN(ssl.pem_cert_chain,
                               ReadPemFile(options.client_certificate_file, "client certificate"));
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxResponseBytes);
  args.SetMaxSendMessageSize(-1);           // OtlpExporter bounds requests itself
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);  // OtlpExporter retries, within its deadline
  // Reconnect promptly once a collector comes back; the default waits up to two minutes.
  // (GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is left alone: it is also the time a connection
  // attempt, TLS handshake included, may take.)
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetUserAgentPrefix("lantern-otlp-exporter");
  auto channel = grpc::CreateCustomChannel(target, credentials, args);
  std::string description =
      std::string("OTLP/gRPC to ") + target + (tls ? " (TLS)" : " (plaintext)");
  return std::unique_ptr<OtlpTransport>(std::make_unique<GrpcTransport>(
      std::move(channel), std::move(description), options, endpoint));
}

}  // namespace lantern::telemetry
