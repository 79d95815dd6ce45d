// A token vocabulary: string <-> id in both directions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lantern::tokenizer {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

class Vocab {
 public:
  // Adds `token` as `id`; a later id for the same token replaces the earlier one.
  void Add(std::string token, int32_t id);

  std::optional<int32_t> Find(std::string_view token) const {
    auto it = ids_.find(token);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  // The token of `id`, or nullptr when no token has it.
  const std::string* Token(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= tokens_.size() || !present_[id]) return nullptr;
    return &tokens_[id];
  }
  size_t size() const { return ids_.size(); }
  // One past the largest id.
  size_t id_bound() const { return tokens_.size(); }

 private:
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> ids_;
  std::vector<std::string> tokens_;
  std::vector<bool> present_;
};

}  // namespace lantern::tokenizer
