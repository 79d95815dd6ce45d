// `lantern serve --ui`: the viewer's routes on the server's own port. GET /ui/ and its
// files, and the JSON API under /ui/api/ (see docs/api.md). The server knows nothing of
// this module: serve registers it on the Router like any other service.
#pragma once

#include <memory>
#include <string>

#include "server/metrics.h"
#include "server/router.h"
#include "ui/trace_ring.h"

namespace lantern::ui {

struct UiOptions {
  // With a key, every /ui/api/ call needs "Authorization: Bearer <key>" (the page asks for
  // it once). The page's files hold no data and are served without it.
  std::string api_key;
  // A link from each trace to the user's Jaeger/Tempo: "{trace_id}" is replaced.
  std::string trace_url;
  std::string version;
  bool trace_content = false;  // told to the page only, to explain an absent prompt
  bool detailed_traces = false;
};

class UiService {
 public:
  // `ring` and `registry` must outlive the service.
  UiService(UiOptions options, std::shared_ptr<const TraceRing> ring,
            const server::MetricsRegistry* registry);
  void Register(server::Router& router) const;

 private:
  void Api(const server::HttpRequest& request, server::ResponseWriter& writer,
           const std::string& what) const;

  UiOptions options_;
  std::shared_ptr<const TraceRing> ring_;
  const server::MetricsRegistry* registry_;
};

// The headers of every /ui response: a strict Content-Security-Policy (own origin only,
// no inline script or style), nosniff, no framing, no referrer.
server::HeaderList UiSecurityHeaders();

}  // namespace lantern::ui
