#include "telemetry/otlp_log_exporter.h"

#include "base/log.h"
#include "telemetry/otlp_grpc_transport.h"
#include "telemetry/otlp_http_transport.h"
#include "telemetry/otlp_transport.h"

namespace lantern::telemetry {
namespace {

constexpr char kLog[] = "otlp";

}  // namespace

OtlpLogExporter::OtlpLogExporter(std::unique_ptr<OtlpTransport> transport,
                                 std::chrono::milliseconds timeout, Resource resource,
                                 InstrumentationScope scope, RetryPolicy retry_policy,
                                 size_t max_request_bytes)
    : delivery_(std::move(transport), timeout, retry_policy, "log records"),
      resource_(std::move(resource)),
      scope_(std::move(scope)),
      max_request_bytes_(max_request_bytes) {}

OtlpLogExporter::~OtlpLogExporter() { Shutdown(std::chrono::seconds(1)); }

std::string OtlpLogExporter::Describe() const { return delivery_.transport().Describe(); }

ExportResult OtlpLogExporter::Export(Records records) {
  if (!delivery_.BeginExport()) {
    delivery_.CountFailed(records.size());
    return ExportResult::kFailure;
  }
  bool ok = ExportPart(records, delivery_.ExportDeadline());
  delivery_.EndExport();
  return ok ? ExportResult::kSuccess : ExportResult::kFailure;
}

bool OtlpLogExporter::ExportPart(Records records, SteadyTime deadline) {
  if (records.empty()) return true;
  LogBatch batch{&resource_, &scope_, records};
  std::unique_ptr<OtlpRequest> request =
      delivery_.transport().EncodeBody([&batch](bool json, std::string* out) {
        json ? AppendOtlpLogsJson(batch, out) : AppendOtlpLogsProtobuf(batch, out);
      });
  if (request == nullptr) return false;
  if (request->ByteSize() > max_request_bytes_) {
    if (records.size() <= 1) {
      LANTERN_LOG(kWarning, kLog) << "dropped a log record: its request is " << request->ByteSize()
                                  << " bytes, over the limit of " << max_request_bytes_;
      delivery_.CountFailed(1);
      return false;
    }
    request.reset();
    const size_t half = records.size() / 2;
    bool first_ok = ExportPart(records.first(half), deadline);
    bool second_ok = ExportPart(records.subspan(half), deadline);
    return first_ok && second_ok;
  }
  return delivery_.Send(*request, records.size(), deadline);
}

bool OtlpLogExporter::Shutdown(std::chrono::microseconds timeout) {
  return delivery_.Shutdown(timeout);
}

OtlpLogExporterStats OtlpLogExporter::stats() const {
  OtlpDeliveryCounts c = delivery_.counts();
  return {.requests_sent = c.requests_sent,
          .retries = c.retries,
          .records_exported = c.exported,
          .records_rejected = c.rejected,
          .records_failed = c.failed,
          .records_timed_out = c.timed_out};
}

Result<std::unique_ptr<OtlpLogExporter>> CreateOtlpLogExporter(const OtlpExporterOptions& options,
                                                               Resource resource,
                                                               InstrumentationScope scope,
                                                               RetryPolicy retry_policy) {
  OtlpExporterOptions logs_options = options;
  logs_options.signal = OtlpSignal::kLogs;
  Result<std::unique_ptr<OtlpTransport>> transport = logs_options.protocol == OtlpProtocol::kGrpc
                                                         ? CreateOtlpGrpcTransport(logs_options)
                                                         : CreateOtlpHttpTransport(logs_options);
  if (!transport.ok()) return transport.status();
  LANTERN_LOG(kInfo, kLog) << "exporting logs with " << (*transport)->Describe() << ", timeout "
                           << options.timeout.count() << " ms";
  return std::make_unique<OtlpLogExporter>(std::move(transport).value(), options.timeout,
                                           std::move(resource), std::move(scope), retry_policy);
}

}  // namespace lantern::telemetry
