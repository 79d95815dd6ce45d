#include "server/logprobs_json.h"

#include <algorithm>

namespace lantern::server {

using nlohmann::json;

namespace {

json Bytes(const std::string& text) {
  json bytes = json::array();
  for (unsigned char c : text) bytes.push_back(static_cast<int>(c));
  return bytes;
}

}  // namespace

double SafeLogprob(float logprob) { return std::max(static_cast<double>(logprob), -9999.0); }

json ChatLogprobs(const std::vector<engine::PositionLogprobs>& positions, const TokenNamer& name) {
  json content = json::array();
  for (const auto& position : positions) {
    std::string token = name(position.chosen.token_id);
    json top = json::array();
    for (const auto& t : position.top) {
      std::string top_token = name(t.token_id);
      top.push_back(
          {{"token", top_token}, {"logprob", SafeLogprob(t.logprob)}, {"bytes", Bytes(top_token)}});
    }
    content.push_back({{"token", token},
                       {"logprob", SafeLogprob(position.chosen.logprob)},
                       {"bytes", Bytes(token)},
                       {"top_logprobs", std::move(top)}});
  }
  return json{{"content", std::move(content)}};
}

json CompletionLogprobs(const std::vector<engine::PositionLogprobs>& positions,
                        const TokenNamer& name, size_t first_offset, bool first_unscored) {
  json tokens = json::array(), token_logprobs = json::array(), top_logprobs = json::array(),
       offsets = json::array();
  size_t offset = first_offset;
  for (size_t i = 0; i < positions.size(); ++i) {
    std::string token = name(positions[i].chosen.token_id);
    offsets.push_back(offset);
    offset += token.size();
    tokens.push_back(std::move(token));
    if (i == 0 && first_unscored) {
      token_logprobs.push_back(nullptr);
      top_logprobs.push_back(nullptr);
      continue;
    }
    token_logprobs.push_back(SafeLogprob(positions[i].chosen.logprob));
    // OpenAI's legacy shape (and vLLM's): the sampled token is always among the top
    // logprobs, so there are up to N + 1 of them (logprobs=0 still names the sampled one).
    json top = json::object();
    top[tokens.back().get<std::string>()] = token_logprobs.back();
    for (const auto& t : positions[i].top) top[name(t.token_id)] = SafeLogprob(t.logprob);
    top_logprobs.push_back(std::move(top));
  }
  return json{{"tokens", std::move(tokens)},
              {"token_logprobs", std::move(token_logprobs)},
              {"top_logprobs", std::move(top_logprobs)},
              {"text_offset", std::move(offsets)}};
}

json PromptLogprobs(const std::vector<engine::PositionLogprobs>& positions,
                    const TokenNamer& name) {
  json list = json::array();
  for (size_t i = 0; i < positions.size(); ++i) {
    if (i == 0) {
      list.push_back(nullptr);
      continue;
    }
    json entry = json::object();
    auto add = [&](const engine::TokenLogprob& t) {
      entry[std::to_string(t.token_id)] = {{"logprob", SafeLogprob(t.logprob)},
                                           {"rank", t.rank},
                                           {"decoded_token", name(t.token_id)}};
    };
    add(positions[i].chosen);
    for (const auto& t : positions[i].top) add(t);
    list.push_back(std::move(entry));
  }
  return list;
}

void AppendLogprobs(json& into, const json& more) {
  if (into.is_null()) {
    into = more;
    return;
  }
  for (auto& [key, value] : more.items()) {
    for (const auto& item : value) into[key].push_back(item);
  }
}

}  // namespace lantern::server
