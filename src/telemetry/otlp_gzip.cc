#include "telemetry/otlp_gzip.h"

#include <zlib.h>

namespace lantern::telemetry {

Result<std::string> GzipCompress(std::string_view data) {
  z_stream stream{};
  // windowBits 15 + 16 asks zlib for a gzip header and trailer instead of zlib's own.
  // Level 1: OTLP payloads are repetitive and speed matters more than the last percent.
  if (deflateInit2(&stream, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("gzip: deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&stream, static_cast<uLong>(data.size())) + 32);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int result = deflate(&stream, Z_FINISH);
  size_t written = stream.total_out;
  deflateEnd(&stream);
  if (result != Z_STREAM_END) return Internal("gzip: deflate did not finish");
  out.resize(written);
  return out;
}

}  // namespace lantern::telemetry
