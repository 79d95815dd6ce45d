#include "grammar/utf8_ranges.h"

#include <algorithm>
#include <string>

namespace lantern::grammar {
namespace {

int EncodedLength(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

void Encode(uint32_t cp, uint8_t (&out)[4]) {
  std::string s;
  AppendUtf8(cp, &s);
  for (size_t i = 0; i < 4; ++i) out[i] = i < s.size() ? static_cast<uint8_t>(s[i]) : 0;
}

// [lo, hi] with the same encoded length, split until every byte position is one range.
void SplitSameLength(uint32_t lo, uint32_t hi, std::vector<ByteRangeSequence>* out) {
  const int n = EncodedLength(lo);
  for (int i = 1; i < n; ++i) {
    const uint32_t m = (1u << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        SplitSameLength(lo, lo | m, out);
        SplitSameLength((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        SplitSameLength(lo, (hi & ~m) - 1, out);
        SplitSameLength(hi & ~m, hi, out);
        return;
      }
    }
  }
  uint8_t a[4], b[4];
  Encode(lo, a);
  Encode(hi, b);
  ByteRangeSequence seq;
  for (int i = 0; i < n; ++i) seq.emplace_back(a[i], b[i]);
  out->push_back(std::move(seq));
}

}  // namespace

std::vector<CodePointRange> NormalizeRanges(std::vector<CodePointRange> ranges) {
  std::vector<CodePointRange> cut;
  for (auto [lo, hi] : ranges) {
    hi = std::min(hi, kMaxCodePoint);
    if (lo > hi) continue;
    // Surrogates are not characters: UTF-8 cannot carry them.
    if (lo < 0xD800 && hi >= 0xD800) {
      cut.emplace_back(lo, 0xD7FF);
      lo = 0xE000;
    } else if (lo >= 0xD800 && lo <= 0xDFFF) {
      lo = 0xE000;
    }
    if (lo <= hi) cut.emplace_back(lo, hi);
  }
  std::sort(cut.begin(), cut.end());
  std::vector<CodePointRange> merged;
  for (const auto& r : cut) {
    if (!merged.empty() && r.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

std::vector<CodePointRange> ComplementRanges(const std::vector<CodePointRange>& ranges) {
  std::vector<CodePointRange> out;
  uint32_t next = 0;
  for (const auto& [lo, hi] : NormalizeRanges(ranges)) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= kMaxCodePoint) out.emplace_back(next, kMaxCodePoint);
  return NormalizeRanges(out);
}

std::vector<ByteRangeSequence> Utf8Sequences(const std::vector<CodePointRange>& ranges) {
  std::vector<ByteRangeSequence> out;
  static const uint32_t kLengthEnds[] = {0x7F, 0x7FF, 0xFFFF, kMaxCodePoint};
  for (auto [lo, hi] : NormalizeRanges(ranges)) {
    uint32_t start = lo;
    for (uint32_t end : kLengthEnds) {
      if (start > hi) break;
      if (start > end) continue;
      const uint32_t stop = std::min(hi, end);
      SplitSameLength(start, stop, &out);
      start = stop + 1;
    }
  }
  return out;
}

}  // namespace lantern::grammar
