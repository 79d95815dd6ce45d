#include "model/device.h"

#include <charconv>

namespace lantern::model {

std::string Device::ToString() const {
  return kind == Kind::kCpu ? "cpu" : "cuda:" + std::to_string(index);
}

Result<Device> ParseDevice(std::string_view text) {
  if (text == "cpu") return Device{};
  if (text == "cuda" || text == "gpu") return Device{Device::Kind::kCuda, 0};
  if (text.rfind("cuda:", 0) == 0) {
    std::string_view number = text.substr(5);
    int index = -1;
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), index);
    if (error == std::errc() && end == number.data() + number.size() && index >= 0 &&
        !number.empty()) {
      return Device{Device::Kind::kCuda, index};
    }
  }
  return InvalidArgument("--device: '" + std::string(text) +
                         "' is not a device (cpu, cuda, or cuda:N for the N-th GPU)");
}

}  // namespace lantern::model
