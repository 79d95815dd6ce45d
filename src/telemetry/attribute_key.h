// An attribute's key. Keys are nearly always string literals ("gen_ai.request.id"), and
// copying them into std::strings was most of a span's allocations: a key given as a
// `const char` array is therefore kept as a pointer to it, with no copy. Any other string
// (std::string, std::string_view, const char*, a mutable char buffer) is copied into
// storage the key owns.
//
// So a `const char[N]` passed as a key must live as long as the process (a literal, or a
// static constexpr array) and hold exactly N-1 characters; a buffer filled at run time
// must be passed as a mutable `char[N]`, a pointer or a string_view, which are copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iosfwd>
#include <string>
#include <string_view>
#include <type_traits>

namespace lantern::telemetry {

class AttributeKey {
 public:
  AttributeKey() noexcept = default;
  // A literal: not copied (see above).
  template <size_t N>
  AttributeKey(const char (&literal)[N]) noexcept  // NOLINT: implicit by design
      : data_(literal), size_(static_cast<uint32_t>(N - 1)) {}
  // A buffer filled at run time: copied up to its terminating NUL.
  template <size_t N>
  AttributeKey(char (&buffer)[N]) {  // NOLINT: implicit by design
    CopyFrom(std::string_view(buffer, ::strnlen(buffer, N)));
  }
  // Anything else that reads as a string: copied.
  template <typename S>
  requires(std::is_convertible_v<const S&, std::string_view> && !std::is_array_v<S> &&
           !std::is_same_v<S, AttributeKey>)
      AttributeKey(const S& text) {  // NOLINT: implicit by design
    CopyFrom(std::string_view(text));
  }

  AttributeKey(const AttributeKey& other) {
    if (other.owned_) {
      CopyFrom(other.view());
    } else {
      data_ = other.data_;
      size_ = other.size_;
    }
  }
  AttributeKey(AttributeKey&& other) noexcept
      : data_(other.data_), size_(other.size_), owned_(other.owned_) {
    other.owned_ = false;
  }
  AttributeKey& operator=(const AttributeKey& other) {
    if (this != &other) *this = AttributeKey(other);
    return *this;
  }
  AttributeKey& operator=(AttributeKey&& other) noexcept {
    if (this != &other) {
      Free();
      data_ = other.data_;
      size_ = other.size_;
      owned_ = other.owned_;
      other.owned_ = false;
    }
    return *this;
  }
  ~AttributeKey() { Free(); }

  std::string_view view() const { return std::string_view(data_, size_); }
  operator std::string_view() const { return view(); }  // NOLINT: implicit by design
  std::string str() const { return std::string(data_, size_); }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // True when the key points at caller-provided static storage (a literal).
  bool is_literal() const { return !owned_; }

  // Cheap tests first: keys of one span often share a prefix and a length, and the same
  // literal is usually the same pointer.
  friend bool operator==(const AttributeKey& a, std::string_view b) {
    return a.size_ == b.size() &&
           (a.data_ == b.data() || (a.size_ > 0 && a.data_[a.size_ - 1] == b.back() &&
                                    std::memcmp(a.data_, b.data(), a.size_) == 0));
  }
  friend bool operator==(const AttributeKey& a, const AttributeKey& b) { return a == b.view(); }
  friend bool operator==(const AttributeKey& a, const std::string& b) {
    return a == std::string_view(b);
  }
  friend bool operator==(const AttributeKey& a, const char* b) { return a == std::string_view(b); }

 private:
  void CopyFrom(std::string_view text) {
    char* copy = new char[text.size() + 1];
    std::memcpy(copy, text.data(), text.size());
    copy[text.size()] = '\0';
    data_ = copy;
    size_ = static_cast<uint32_t>(text.size());
    owned_ = true;
  }
  void Free() {
    if (owned_) delete[] data_;
    owned_ = false;
  }

  const char* data_ = "";
  uint32_t size_ = 0;
  bool owned_ = false;
};

std::ostream& operator<<(std::ostream& out, const AttributeKey& key);

}  // namespace lantern::telemetry
