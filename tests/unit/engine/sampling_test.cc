// Sampling parameters, generation_config.json, stop strings and the sampler. The sampler's
// distributions are checked with chi-square tests against a direct (sort-based, double
// precision) implementation of vLLM's definitions, each with a negative control.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "engine/generation_config.h"
#include "engine/sampler.h"
#include "engine/sampling_params.h"
#include "engine/stop_strings.h"

namespace lantern::engine {
namespace {

TEST(SamplingParamsTest, DefaultsAreValid) { EXPECT_TRUE(SamplingParams{}.Validate(100).ok()); }

TEST(SamplingParamsTest, ErrorsNameTheFieldAndValue) {
  struct Case {
    void (*mutate)(SamplingParams&);
    const char* needle;
  };
  const Case cases[] = {
      {[](SamplingParams& p) { p.n = 0; }, "n must be"},
      {[](SamplingParams& p) { p.temperature = -0.5; },
       "temperature must be a number >= 0, got -0.5"},
      {[](SamplingParams& p) { p.temperature = NAN; }, "temperature"},
      {[](SamplingParams& p) { p.top_p = 0; }, "top_p must be in (0, 1], got 0"},
      {[](SamplingParams& p) { p.top_p = 1.5; }, "top_p"},
      {[](SamplingParams& p) { p.top_k = -2; }, "top_k"},
      {[](SamplingParams& p) { p.min_p = 1.1; }, "min_p"},
      {[](SamplingParams& p) { p.presence_penalty = 2.5; }, "presence_penalty"},
      {[](SamplingParams& p) { p.frequency_penalty = -3; }, "frequency_penalty"},
      {[](SamplingParams& p) { p.repetition_penalty = 0; }, "repetition_penalty"},
      {[](SamplingParams& p) { p.max_tokens = 0; }, "max_tokens must be at least 1, got 0"},
      {[](SamplingParams& p) { p.min_tokens = -1; }, "min_tokens"},
      {[](SamplingParams& p) {
         p.max_tokens = 3;
         p.min_tokens = 5;
       },
       "min_tokens must be at most max_tokens (3), got 5"},
      {[](SamplingParams& p) { p.logprobs = 21; }, "logprobs must be between 0 and 20, got 21"},
      {[](SamplingParams& p) { p.prompt_logprobs = -1; }, "prompt_logprobs"},
      {[](SamplingParams& p) {
         p.stop = {"a", ""};
       },
       "stop[1] must not be an empty string"},
      {[](SamplingParams& p) {
         p.stop_token_ids = {5, 100};
       },
       "stop_token_ids[1] must be a token id in [0, 100), got 100"},
      {[](SamplingParams& p) {
         p.logit_bias = {{-1, 1.0}};
       },
       "logit_bias key"},
      {[](SamplingParams& p) {
         p.logit_bias = {{3, 101.0}};
       },
       "logit_bias[3] must be in [-100, 100], got 101"},
  };
  for (const auto& c : cases) {
    SamplingParams p;
    c.mutate(p);
    Status s = p.Validate(100);
    ASSERT_FALSE(s.ok()) << c.needle;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << s.message();
  }
}

TEST(GenerationConfigTest, ReadsTheFieldsVllmUses) {
  auto d = ParseGenerationConfig(
      R"({"temperature": 0.6, "top_p": 0.9, "top_k": 20, "min_p": 0.05,
          "repetition_penalty": 1.1, "max_new_tokens": 64, "eos_token_id": [2, 7],
          "do_sample": true, "transformers_version": "4.40"})",
      "gen.json");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  SamplingParams p = SamplingParams::FromDefaults(*d);
  EXPECT_DOUBLE_EQ(p.temperature, 0.6);
  EXPECT_DOUBLE_EQ(p.top_p, 0.9);
  EXPECT_EQ(p.top_k, 20);
  EXPECT_DOUBLE_EQ(p.min_p, 0.05);
  EXPECT_DOUBLE_EQ(p.repetition_penalty, 1.1);
  EXPECT_EQ(p.max_tokens, 64);
  EXPECT_EQ(d->eos_token_ids, (std::vector<int32_t>{2, 7}));

  auto single = ParseGenerationConfig(R"({"eos_token_id": 2})", "gen.json");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->eos_token_ids, (std::vector<int32_t>{2}));
  EXPECT_DOUBLE_EQ(SamplingParams::FromDefaults(*single).temperature, 1.0);  // untouched
}

TEST(GenerationConfigTest, BadInputNamesFileAndField) {
  auto bad_json = ParseGenerationConfig("{", "dir/generation_config.json");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_NE(bad_json.status().message().find("dir/generation_config.json"), std::string::npos);
  auto bad_type = ParseGenerationConfig(R"({"top_k": "ten"})", "g.json");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("'top_k' must be an integer"), std::string::npos);
  auto missing = LoadGenerationConfig("/nonexistent-dir-for-lantern-test");
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
}

TEST(StopStringsTest, CutsBeforeTheStopString) {
  auto m = CheckStopStrings("Hello world", 5, {"o w"}, false);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->stop, "o w");
  EXPECT_EQ(m->truncate_to, 4u);  // "Hell"
}

TEST(StopStringsTest, IncludeInOutputCutsAfterIt) {
  auto m = CheckStopStrings("Hello world", 5, {"o w"}, true);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->truncate_to, 7u);  // "Hello w"
  auto at_end = CheckStopStrings("Hello world", 3, {"rld"}, true);
  ASSERT_TRUE(at_end);
  EXPECT_FALSE(at_end->truncate_to);  // nothing to cut
}

TEST(StopStringsTest, MatchesAcrossTokenBoundariesButOnlyEndingInNewText) {
  // "lo wo" spans old and new text: found.
  EXPECT_TRUE(CheckStopStrings("Hello world", 4, {"lo wo"}, false));   // ends in "orld"
  EXPECT_FALSE(CheckStopStrings("Hello world", 3, {"lo wo"}, false));  // ends before "rld"
  // "abc" lies entirely in old text: already searched, not reported again.
  EXPECT_FALSE(CheckStopStrings("abcXYZ", 1, {"abc"}, false));
  EXPECT_FALSE(CheckStopStrings("abc", 0, {"abc"}, false));
}

TEST(StopStringsTest, FirstStopStringOfTheListWins) {
  auto m = CheckStopStrings("abcd", 4, {"d", "b"}, false);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->stop, "d");
  EXPECT_EQ(m->truncate_to, 3u);
}

TEST(StopStringsTest, HoldBackAndUtf8Boundary) {
  EXPECT_EQ(StopHoldBack({"ab", "abcd"}, false), 3u);
  EXPECT_EQ(StopHoldBack({"ab", "abcd"}, true), 0u);
  EXPECT_EQ(StopHoldBack({}, false), 0u);
  const std::string s = "a\xC3\xA9z";  // a é z
  EXPECT_EQ(Utf8Boundary(s, 2), 1u);
  EXPECT_EQ(Utf8Boundary(s, 3), 3u);
  EXPECT_EQ(Utf8Boundary(s, 10), s.size());
}

TEST(SamplerMathTest, FastExpIsAccurate) {
  for (float x = -80; x < 80; x += 0.0137f) {
    const double ref = std::exp(static_cast<double>(x));
    EXPECT_NEAR(FastExp(x) / ref, 1.0, 3e-7) << x;
  }
  EXPECT_EQ(FastExp(-INFINITY), 0.0f);
  EXPECT_EQ(FastExp(-100.0f), 0.0f);
}

TEST(SamplerMathTest, ArgmaxTakesTheFirstMaximum) {
  const float x[] = {1, 3, 2, 3};
  EXPECT_EQ(Argmax(x, 4), 1);
}

// The distribution vLLM samples from, computed directly in double precision.
std::vector<double> ExpectedDistribution(const std::vector<float>& logits,
                                         const SamplingParams& p) {
  const size_t n = logits.size();
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = logits[i] / p.temperature;
  const double mx = *std::max_element(x.begin(), x.end());
  std::vector<double> prob(n);
  double z = 0;
  for (size_t i = 0; i < n; ++i) z += prob[i] = std::exp(x[i] - mx);
  for (auto& v : prob) v /= z;
  const double pmax = *std::max_element(prob.begin(), prob.end());
  std::vector<bool> keep(n, true);
  if (p.min_p > 0) {
    for (size_t i = 0; i < n; ++i) keep[i] = prob[i] >= p.min_p * pmax;
  }
  if (p.top_k > 0) {
    std::vector<double> masked;
    for (size_t i = 0; i < n; ++i) masked.push_back(keep[i] ? x[i] : -INFINITY);
    std::vector<double> sorted = masked;
    std::sort(sorted.rbegin(), sorted.rend());
    const double kth = sorted[std::min<size_t>(p.top_k, n) - 1];
    for (size_t i = 0; i < n; ++i) keep[i] = keep[i] && masked[i] >= kth;
  }
  double kept = 0;
  for (size_t i = 0; i < n; ++i) kept += keep[i] ? prob[i] : 0;
  if (p.top_p < 1) {
    // vLLM: sort ascending, drop tokens while the cumulative mass is <= 1 - top_p.
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prob[a] < prob[b]; });
    double cumulative = 0;
    for (size_t i : order) {
      if (!keep[i]) continue;
      cumulative += prob[i] / kept;
      if (cumulative <= 1 - p.top_p && i != order.back()) keep[i] = false;
    }
    kept = 0;
    for (size_t i = 0; i < n; ++i) kept += keep[i] ? prob[i] : 0;
  }
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = keep[i] ? prob[i] / kept : 0;
  return out;
}

std::vector<int> Draw(const std::vector<float>& logits, const SamplingParams& p, int samples,
                      uint64_t seed) {
  Sampler sampler(static_cast<int>(logits.size()));
  SamplingState state(p, seed, {}, {});
  std::vector<int> counts(logits.size());
  for (int i = 0; i < samples; ++i) ++counts[sampler.Sample(logits.data(), state).token];
  return counts;
}

// Pearson's chi-square; tokens with expected probability 0 must never be drawn.
double ChiSquare(const std::vector<int>& counts, const std::vector<double>& expected, int total,
                 int* dof) {
  double chi = 0;
  *dof = -1;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (expected[i] == 0) {
      if (counts[i] > 0) return INFINITY;
      continue;
    }
    const double e = expected[i] * total;
    chi += (counts[i] - e) * (counts[i] - e) / e;
    ++*dof;
  }
  return chi;
}

// Chi-square critical values at p = 0.0001 by degrees of freedom (1..9).
double Critical(int dof) {
  static const double kTable[] = {0, 15.14, 18.42, 21.11, 23.51, 25.74, 27.86, 29.88, 31.83, 33.72};
  return kTable[std::clamp(dof, 1, 9)];
}

const std::vector<float> kLogits = {2.0f, 1.6f, 1.1f, 0.7f, 0.2f, -0.4f, -1.0f, -2.5f, -4.0f, 0.9f};

TEST(SamplerDistributionTest, MatchesVllmDefinitionsAndRejectsNearMisses) {
  auto make = [](double t, double top_p, int top_k, double min_p) {
    SamplingParams p;
    p.temperature = t;
    p.top_p = top_p;
    p.top_k = top_k;
    p.min_p = min_p;
    return p;
  };
  const struct {
    const char* name;
    SamplingParams right, wrong;
  } cases[] = {
      {"temperature", make(0.7, 1, 0, 0), make(0.9, 1, 0, 0)},
      {"top_k", make(1.0, 1, 4, 0), make(1.0, 1, 5, 0)},
      {"top_p", make(1.0, 0.8, 0, 0), make(1.0, 0.9, 0, 0)},
      {"min_p", make(1.0, 1, 0, 0.2), make(1.0, 1, 0, 0.1)},
      {"combined", make(1.3, 0.85, 6, 0.05), make(1.3, 1, 6, 0.05)},
  };
  constexpr int kSamples = 200000;
  for (const auto& c : cases) {
    const auto counts = Draw(kLogits, c.right, kSamples, 12345);
    int dof = 0;
    const double chi = ChiSquare(counts, ExpectedDistribution(kLogits, c.right), kSamples, &dof);
    EXPECT_LT(chi, Critical(dof)) << c.name << " dof " << dof;
    int wrong_dof = 0;
    const double wrong_chi =
        ChiSquare(counts, ExpectedDistribution(kLogits, c.wrong), kSamples, &wrong_dof);
    EXPECT_GT(wrong_chi, 10 * Critical(wrong_dof)) << c.name << " negative control";
  }
}

TEST(SamplerTest, GreedyIgnoresFiltersButHonoursPenaltiesAndBias) {
  Sampler sampler(4);
  SamplingParams p;
  p.temperature = 0;
  p.top_k = 1;
  const float logits[] = {1.0f, 0.9f, 0.6f, -0.5f};
  SamplingState plain(p, 1, {}, {});
  EXPECT_EQ(sampler.Sample(logits, plain).token, 0);

  SamplingParams presence = p;
  presence.presence_penalty = 0.2;  // 1.0 - 0.2 < 0.9
  SamplingState s1(presence, 1, {}, {});
  s1.Append(0);
  EXPECT_EQ(sampler.Sample(logits, s1).token, 1);

  SamplingParams frequency = p;
  frequency.frequency_penalty = 0.06;  // two occurrences: 1.0 - 0.12 < 0.9
  SamplingState s2(frequency, 1, {}, {});
  s2.Append(0);
  EXPECT_EQ(sampler.Sample(logits, s2).token, 0);  // one occurrence: 0.94 > 0.9
  s2.Append(0);
  EXPECT_EQ(sampler.Sample(logits, s2).token, 1);

  SamplingParams repetition = p;
  repetition.repetition_penalty = 2.0;  // positive logits divided: 0.5 < 0.9
  const int32_t prompt[] = {0};
  SamplingState s3(repetition, 1, prompt, {});
  EXPECT_EQ(sampler.Sample(logits, s3).token, 1);
  const float negative[] = {-0.5f, -0.8f, -2.0f, -3.0f};  // negative multiplied: -1.0 < -0.8
  EXPECT_EQ(sampler.Sample(negative, s3).token, 1);

  SamplingParams bias = p;
  bias.logit_bias = {{3, 2.0}};
  SamplingState s4(bias, 1, {}, {});
  EXPECT_EQ(sampler.Sample(logits, s4).token, 3);

  SamplingParams min_tokens = p;
  min_tokens.min_tokens = 2;
  min_tokens.stop_token_ids = {1};
  SamplingState s5(min_tokens, 1, {}, /*eos_token_ids=*/{0});
  EXPECT_EQ(sampler.Sample(logits, s5).token, 2);  // EOS 0 and stop id 1 blocked
  s5.Append(2);
  s5.Append(2);
  EXPECT_EQ(sampler.Sample(logits, s5).token, 0);
}

TEST(SamplerTest, SeededStateReproducesAndDiffers) {
  std::vector<float> logits(50);
  for (int i = 0; i < 50; ++i) logits[i] = std::sin(i * 0.7f);
  SamplingParams p;
  auto run = [&](uint64_t seed) {
    Sampler sampler(50);
    SamplingState state(p, seed, {}, {});
    std::vector<int> tokens;
    for (int i = 0; i < 64; ++i) tokens.push_back(sampler.Sample(logits.data(), state).token);
    return tokens;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(SamplerTest, LogprobsAreOfTheRawDistribution) {
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 1.5f, 0.0f};
  double z = 0;
  for (float v : logits) z += std::exp(static_cast<double>(v));
  Sampler sampler(5);
  SamplingParams p;
  p.temperature = 0.5;  // must not change the reported logprobs
  p.logprobs = 3;
  p.seed = 3;
  SamplingState state(p, 3, {}, {});
  SampleResult r = sampler.Sample(logits.data(), state);
  ASSERT_TRUE(r.logprobs);
  EXPECT_EQ(r.logprobs->chosen.token_id, r.token);
  EXPECT_NEAR(r.logprobs->chosen.logprob, logits[r.token] - std::log(z), 1e-5);
  ASSERT_EQ(r.logprobs->top.size(), 3u);
  const int expected_ids[] = {1, 3, 0};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.logprobs->top[i].token_id, expected_ids[i]);
    EXPECT_EQ(r.logprobs->top[i].rank, i + 1);
    EXPECT_NEAR(r.logprobs->top[i].logprob, logits[expected_ids[i]] - std::log(z), 1e-5);
  }
  PositionLogprobs lp = sampler.Logprobs(logits.data(), 2, 0);
  EXPECT_EQ(lp.chosen.rank, 5);
  EXPECT_TRUE(lp.top.empty());
}

}  // namespace
}  // namespace lantern::engine
