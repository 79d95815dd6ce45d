// Stop strings over detokenized text, matched and cut exactly as vLLM V1 does.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lantern::engine {

struct StopStringMatch {
  std::string stop;                   // the stop string that matched (first in the list order)
  std::optional<size_t> truncate_to;  // new text length, or none to keep the text as is
};

// Looks for the stop strings in `text` whose last `new_chars` bytes are new, only where a
// match can end in the new bytes. The first stop string of the list that matches wins; the
// text is cut before it, or after it with include_in_output. Mirrors vLLM's
// check_stop_strings (byte offsets instead of code points: same cuts on UTF-8 text).
std::optional<StopStringMatch> CheckStopStrings(std::string_view text, size_t new_chars,
                                                const std::vector<std::string>& stops,
                                                bool include_in_output);

// How many trailing bytes of not-yet-finished text to hold back from streaming so that a
// partial stop string is never sent and then cut: longest stop string - 1, or 0 when stop
// strings are kept in the output (vLLM's stop_buffer_length).
size_t StopHoldBack(const std::vector<std::string>& stops, bool include_in_output);

// The largest length <= `limit` that does not split a UTF-8 sequence of `text`.
size_t Utf8Boundary(std::string_view text, size_t limit);

}  // namespace lantern::engine
