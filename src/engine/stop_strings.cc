#include "engine/stop_strings.h"

#include <algorithm>

namespace lantern::engine {

std::optional<StopStringMatch> CheckStopStrings(std::string_view text, size_t new_chars,
                                                const std::vector<std::string>& stops,
                                                bool include_in_output) {
  if (new_chars == 0 || stops.empty()) return std::nullopt;
  new_chars = std::min(new_chars, text.size());
  for (const auto& stop : stops) {
    // A match must end inside the new bytes: it starts at or after this offset.
    const size_t reach = new_chars + stop.size() - 1;
    const size_t from = reach >= text.size() ? 0 : text.size() - reach;
    size_t at = text.find(stop, from);
    if (at == std::string_view::npos) continue;
    if (include_in_output) {
      at += stop.size();
      if (at >= text.size()) return StopStringMatch{stop, std::nullopt};
    }
    return StopStringMatch{stop, at};
  }
  return std::nullopt;
}

size_t StopHoldBack(const std::vector<std::string>& stops, bool include_in_output) {
  if (stops.empty() || include_in_output) return 0;
  size_t longest = 0;
  for (const auto& s : stops) longest = std::max(longest, s.size());
  return longest - 1;
}

size_t Utf8Boundary(std::string_view text, size_t limit) {
  if (limit >= text.size()) return text.size();
  // Continuation bytes look like 10xxxxxx; a cut before one splits a character.
  while (limit > 0 && (static_cast<unsigned char>(text[limit]) & 0xC0) == 0x80) --limit;
  return limit;
}

}  // namespace lantern::engine
