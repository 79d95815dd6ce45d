#include "model/rope_scaling.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <nlohmann/json.hpp>

namespace lantern::model {
namespace {

using nlohmann::json;

Status Bad(const std::string& what) {
  return InvalidArgument("config.json: field \"rope_scaling\" " + what);
}

// A number field of rope_scaling; `fallback` when absent or null (nullopt: required).
Result<double> Number(const json& s, const std::string& type, const char* key,
                      std::optional<double> fallback) {
  auto it = s.find(key);
  if (it == s.end() || it->is_null()) {
    if (fallback) return *fallback;
    return Bad(std::string("needs \"") + key + "\" for rope type \"" + type + "\"");
  }
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return Bad(std::string("\"") + key + "\" must be a number, got " + it->dump());
  }
  return it->get<double>();
}

double YarnMscale(double scale, double mscale) {
  return scale <= 1 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

}  // namespace

Result<RopeParameters> ComputeRopeParameters(const ModelConfig& c) {
  RopeParameters r;
  const int dim = c.head_dim;
  if (dim % 2 != 0) {
    return InvalidArgument("config.json: head_dim " + std::to_string(dim) +
                           " is odd; rotary embeddings need an even head size");
  }
  const double base = c.rope_theta;
  const int half = dim / 2;
  auto plain = [&](double theta) {
    std::vector<double> f(half);
    for (int i = 0; i < half; ++i) f[i] = 1.0 / std::pow(theta, (2.0 * i) / dim);
    return f;
  };
  r.max_positions = c.max_position_embeddings;
  r.inv_freq = plain(base);
  if (c.rope_scaling_json.empty()) return r;

  const json s = json::parse(c.rope_scaling_json, nullptr, /*allow_exceptions=*/false);
  if (!s.is_object()) return Bad("is not a JSON object");
  // transformers reads "rope_type", and "type" in older configs.
  const json& type_field = s.contains("rope_type") ? s["rope_type"] : s.value("type", json());
  if (!type_field.is_null() && !type_field.is_string()) return Bad("has a non-string rope_type");
  r.type = type_field.is_string() ? type_field.get<std::string>() : "default";
  if (r.type == "default") return r;
  if (r.type != "linear" && r.type != "dynamic" && r.type != "llama3" && r.type != "yarn") {
    return Unimplemented("config.json: rope_scaling type \"" + r.type +
                         "\" is not supported (supported: default, linear, dynamic, llama3, yarn)");
  }
  const double max_pos = c.max_position_embeddings;
  LANTERN_ASSIGN_OR_RETURN(const double original,
                           Number(s, r.type, "original_max_position_embeddings", max_pos));
  if (original <= 0) return Bad("\"original_max_position_embeddings\" must be positive");
  std::optional<double> factor_default;
  if (r.type == "yarn" && s.contains("original_max_position_embeddings")) {
    factor_default = max_pos / original;  // transformers' fallback when factor is absent
  }
  LANTERN_ASSIGN_OR_RETURN(double factor, Number(s, r.type, "factor", factor_default));
  if (factor <= 0) return Bad("\"factor\" must be positive, got " + std::to_string(factor));

  if (r.type == "linear") {
    for (double& f : r.inv_freq) f /= factor;
    r.max_positions = static_cast<int64_t>(max_pos * factor);
  } else if (r.type == "dynamic") {
    const double seq_len = factor * max_pos;
    const double scaled =
        base * std::pow(factor * seq_len / max_pos - (factor - 1), double(dim) / (dim - 2));
    r.inv_freq = plain(scaled);
    r.max_positions = static_cast<int64_t>(seq_len);
  } else if (r.type == "llama3") {
    LANTERN_ASSIGN_OR_RETURN(double low, Number(s, r.type, "low_freq_factor", std::nullopt));
    LANTERN_ASSIGN_OR_RETURN(double high, Number(s, r.type, "high_freq_factor", std::nullopt));
    LANTERN_ASSIGN_OR_RETURN(double old_len,
                             Number(s, r.type, "original_max_position_embeddings", std::nullopt));
    if (high <= low) return Bad("needs high_freq_factor > low_freq_factor");
    const double low_wavelen = old_len / low, high_wavelen = old_len / high;
    for (double& f : r.inv_freq) {
      const double wavelen = 2 * std::numbers::pi / f;
      if (wavelen > low_wavelen) {
        f /= factor;  // low frequencies: interpolated
      } else if (wavelen >= high_wavelen) {
        const double smooth = (old_len / wavelen - low) / (high - low);
        f = (1 - smooth) * f / factor + smooth * f;
      }  // high frequencies: unchanged
    }
  } else {  // yarn
    LANTERN_ASSIGN_OR_RETURN(double mscale, Number(s, r.type, "mscale", 0.0));
    LANTERN_ASSIGN_OR_RETURN(double mscale_all_dim, Number(s, r.type, "mscale_all_dim", 0.0));
    if (s.contains("attention_factor") && !s["attention_factor"].is_null()) {
      LANTERN_ASSIGN_OR_RETURN(r.attention_factor, Number(s, r.type, "attention_factor", 1.0));
    } else if (mscale != 0 && mscale_all_dim != 0) {
      r.attention_factor = YarnMscale(factor, mscale) / YarnMscale(factor, mscale_all_dim);
    } else {
      r.attention_factor = YarnMscale(factor, 1.0);
    }
    LANTERN_ASSIGN_OR_RETURN(double beta_fast, Number(s, r.type, "beta_fast", 32.0));
    LANTERN_ASSIGN_OR_RETURN(double beta_slow, Number(s, r.type, "beta_slow", 1.0));
    if (beta_fast == 0) beta_fast = 32;  // transformers: `or 32`
    if (beta_slow == 0) beta_slow = 1;
    const bool truncate = !s.contains("truncate") || s["truncate"] != json(false);
    auto correction_dim = [&](double rotations) {
      return dim * std::log(original / (rotations * 2 * std::numbers::pi)) / (2 * std::log(base));
    };
    double low = correction_dim(beta_fast), high = correction_dim(beta_slow);
    if (truncate) low = std::floor(low), high = std::ceil(high);
    low = std::max(low, 0.0);
    high = std::min(high, dim - 1.0);
    if (low == high) high += 0.001;
    for (int i = 0; i < half; ++i) {
      const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
      const double extrapolation = 1.0 - ramp;  // weight of the unscaled frequency
      const double f = r.inv_freq[i];
      r.inv_freq[i] = f / factor * (1 - extrapolation) + f * extrapolation;
    }
    r.max_positions =
        std::max<int64_t>(c.max_position_embeddings, static_cast<int64_t>(original * factor));
  }
  return r;
}

}  // namespace lantern::model
