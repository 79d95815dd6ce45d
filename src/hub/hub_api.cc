#include "hub/hub_api.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "hub/cache_layout.h"

namespace lantern::hub {

namespace {

std::string Header(const std::map<std::string, std::string>& headers, const std::string& name) {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string ModelPage(const HubTarget& target) {
  return target.env->endpoint + "/" + target.repo_id;
}

std::string TokenSource(const HubTarget& target) {
  return target.env->token_source.empty() ? "the token"
                                          : "the token from " + target.env->token_source;
}

}  // namespace

std::string UrlEncode(const std::string& text, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ResolveUrl(const HubTarget& target, const std::string& commit,
                       const std::string& path) {
  return target.env->endpoint + "/" + target.repo_id + "/resolve/" + commit + "/" +
         UrlEncode(path, true);
}

std::string Redact(std::string text, const std::string& token) {
  if (token.empty()) return text;
  for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at)) {
    text.replace(at, token.size(), "***");
  }
  return text;
}

Result<RepoInfo> ParseRepoInfo(const std::string& json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return DataLoss("the Hub's answer is not JSON");
  RepoInfo info;
  if (auto sha = doc.find("sha"); sha != doc.end() && sha->is_string()) info.commit = *sha;
  if (!IsCommitHash(info.commit)) return DataLoss("the Hub's answer has no commit ('sha')");
  auto siblings = doc.find("siblings");
  if (siblings == doc.end() || !siblings->is_array()) {
    return DataLoss("the Hub's answer has no file list ('siblings')");
  }
  for (const auto& entry : *siblings) {
    if (!entry.is_object() || !entry.contains("rfilename") || !entry["rfilename"].is_string()) {
      continue;
    }
    RepoFile file;
    file.path = entry["rfilename"].get<std::string>();
    if (auto size = entry.find("size"); size != entry.end() && size->is_number_integer()) {
      file.size = size->get<int64_t>();
    }
    if (auto blob = entry.find("blobId"); blob != entry.end() && blob->is_string()) {
      file.blob_id = blob->get<std::string>();
    }
    if (auto lfs = entry.find("lfs"); lfs != entry.end() && lfs->is_object()) {
      if (auto sha = lfs->find("sha256"); sha != lfs->end() && sha->is_string()) {
        file.sha256 = sha->get<std::string>();
      }
      if (auto size = lfs->find("size"); size != lfs->end() && size->is_number_integer()) {
        file.size = size->get<int64_t>();
      }
    }
    info.files.push_back(std::move(file));
  }
  return info;
}

Result<RepoInfo> FetchRepoInfo(HttpClient& http, const HubTarget& target) {
  HttpRequest request;
  request.url = target.env->endpoint + "/api/models/" + target.repo_id + "/revision/" +
                UrlEncode(target.revision, false) + "?blobs=true";
  request.token = target.env->token;
  request.auth_origin = OriginOf(target.env->endpoint);
  request.connect_timeout_s = target.env->etag_timeout_s;
  request.stall_timeout_s = target.env->etag_timeout_s;
  request.user_agent = target.user_agent;
  std::string body;
  auto response = http.Get(request, [&body](long, const Headers&, std::string_view piece) {
    if (body.size() + piece.size() > (64u << 20)) return DataLoss("the Hub's answer is too large");
    body.append(piece);
    return Status::Ok();
  });
  if (!response.ok()) {
    if (response.status().code() == StatusCode::kDataLoss) return response.status();
    return UnreachableError(target, response.status().message());
  }
  if (response->status != 200) {
    return HubError(*response, target, "revision '" + target.revision + "'");
  }
  auto info = ParseRepoInfo(body);
  if (!info.ok()) {
    return DataLoss(info.status().message() + " (" + request.url + "): is HF_ENDPOINT (" +
                    target.env->endpoint + ") a Hugging Face Hub?");
  }
  return info;
}

Status UnreachableError(const HubTarget& target, const std::string& cause) {
  return Unavailable("cannot reach the Hugging Face Hub at " + target.env->endpoint + " (" +
                     Redact(cause, target.env->token) + ") to fetch " + target.repo_id +
                     ". Check the network (and HF_ENDPOINT, proxy variables); to use only the "
                     "local cache, set HF_HUB_OFFLINE=1 (cache: " +
                     target.env->cache_dir.string() + ")");
}

Status HubError(const HttpResponse& response, const HubTarget& target, const std::string& what) {
  const std::string code = Header(response.headers, "x-error-code");
  const std::string server_message =
      Redact(Header(response.headers, "x-error-message"), target.env->token);
  const std::string http = "HTTP " + std::to_string(response.status);
  const bool has_token = !target.env->token.empty();
  if (code == "GatedRepo") {
    if (has_token) {
      return FailedPrecondition(target.repo_id + " is a gated model and " + TokenSource(target) +
                                " has no access to it (" + http + "): accept its conditions at " +
                                ModelPage(target) +
                                " with the account of that token (approval may take a while)");
    }
    return FailedPrecondition(target.repo_id + " is a gated model (" + http +
                              "): accept its conditions at " + ModelPage(target) +
                              ", then set HF_TOKEN to an access token of that account (" +
                              target.env->endpoint + "/settings/tokens)");
  }
  if (code == "RevisionNotFound") {
    return NotFound("revision '" + target.revision + "' of " + target.repo_id + " not found on " +
                    target.env->endpoint + " (" + http +
                    "): pass --revision with a branch, tag or commit that exists");
  }
  if (code == "EntryNotFound") {
    return NotFound(what + " of " + target.repo_id + " is not on " + target.env->endpoint + " (" +
                    http + ")");
  }
  if (response.status == 401 && has_token &&
      server_message.find("Invalid credentials") != std::string::npos) {
    return FailedPrecondition(TokenSource(target) + " was refused by " + target.env->endpoint +
                              " (" + http +
                              ", invalid credentials): set HF_TOKEN to a valid token, "
                              "or unset it for public models");
  }
  if (code == "RepoNotFound" || response.status == 401 || response.status == 404) {
    return NotFound("model '" + target.repo_id + "' not found on " + target.env->endpoint + " (" +
                    http + "). Check the repo id (ORG/NAME); if the model is private, " +
                    (has_token ? TokenSource(target) + " cannot read it: use one that can"
                               : "set HF_TOKEN to a token that can read it"));
  }
  if (response.status == 403) {
    return FailedPrecondition("access to " + target.repo_id + " refused by " +
                              target.env->endpoint + " (" + http +
                              (server_message.empty() ? "" : ": " + server_message) + "): " +
                              (has_token ? "check the permissions of " + TokenSource(target)
                                         : "set HF_TOKEN to a token that can read it"));
  }
  if (response.status == 429 || response.status >= 500) {
    return Unavailable(target.env->endpoint + " answered " + http + " for " + what + " of " +
                       target.repo_id +
                       (server_message.empty() ? "" : " (" + server_message + ")") +
                       "; try again later, or set HF_HUB_OFFLINE=1 to use the local cache (" +
                       target.env->cache_dir.string() + ")");
  }
  return Internal(target.env->endpoint + " answered " + http + " for " + what + " of " +
                  target.repo_id + (server_message.empty() ? "" : " (" + server_message + ")"));
}

}  // namespace lantern::hub
