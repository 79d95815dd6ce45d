// Renders every case of cases.json (written by render_reference.js / .py) with Lantern and
// compares byte for byte with the reference renderings the case names in "refs". Model
// templates go through the server's API (CompiledChatTemplate); feature templates through
// jinja::Template with exactly the references' variables.
//
// Usage: chat_template_reference_test <cases.json> [--bench]
// --bench also times parsing and rendering of each model template (one line per template).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/chat_template.h"
#include "tokenizer/jinja.h"
#include "tokenizer/jinja_json.h"

namespace {

using lantern::Result;
using lantern::StatusCode;
using nlohmann::ordered_json;

Result<std::string> RenderModelCase(const ordered_json& c) {
  const ordered_json& context = c["context"];
  lantern::tokenizer::ChatTemplateOptions options;
  ordered_json messages = ordered_json::array();
  for (auto it = context.begin(); it != context.end(); ++it) {
    const std::string& key = it.key();
    if (key == "messages") {
      messages = *it;
    } else if (key == "add_generation_prompt") {
      options.add_generation_prompt = it->get<bool>();
    } else if (key == "bos_token" && it->is_string()) {
      options.bos_token = it->get<std::string>();
    } else if (key == "eos_token" && it->is_string()) {
      options.eos_token = it->get<std::string>();
    } else if (key == "tools") {
      options.tools = *it;
    } else if (key != "documents") {
      options.extra_context[key] = *it;
    }
  }
  return lantern::tokenizer::RenderChatTemplate(c["template"].get<std::string>(), messages,
                                                options);
}

Result<std::string> RenderFeatureCase(const ordered_json& c) {
  LANTERN_ASSIGN_OR_RETURN(auto tmpl,
                           lantern::jinja::Template::Parse(c["template"].get<std::string>()));
  lantern::jinja::Dict vars;
  const ordered_json& context = c["context"];
  for (auto it = context.begin(); it != context.end(); ++it) {
    vars.Set(it.key(), lantern::jinja::FromJson(*it));
  }
  return tmpl.Render(vars);
}

std::string Escaped(const std::string& s) {
  return ordered_json(s).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

// Empty when `ours` agrees with `reference`, else a description of the difference.
std::string Difference(const Result<std::string>& ours, const ordered_json& reference) {
  if (reference.contains("output")) {
    const std::string expected = reference["output"].get<std::string>();
    if (!ours.ok())
      return "expected " + Escaped(expected) + "\n    got error " + ours.status().ToString();
    if (*ours == expected) return "";
    size_t at = 0;
    while (at < expected.size() && at < ours->size() && expected[at] == (*ours)[at]) ++at;
    return "first difference at byte " + std::to_string(at) + "\n    expected " +
           Escaped(expected) + "\n    got      " + Escaped(*ours);
  }
  const std::string error = reference["error"].get<std::string>();
  if (ours.ok()) return "expected an error (" + error + ")\n    got " + Escaped(*ours);
  // raise_exception must surface the template's message unchanged, as its own status code.
  bool ours_raised = ours.status().code() == StatusCode::kInvalidArgument;
  if (ours_raised && ours.status().message() != error) {
    return "expected raise_exception(" + Escaped(error) + ")\n    got " + ours.status().ToString();
  }
  return "";
}

// Mean microseconds per Compile and per Render of the longest conversation for each model
// template, rendering through one compiled template as the server does.
void Bench(const ordered_json& cases) {
  using Clock = std::chrono::steady_clock;
  std::map<std::string, const ordered_json*> longest;  // template name -> case
  for (const ordered_json& c : cases) {
    const std::string name = c["name"].get<std::string>();
    if (name.rfind("feature/", 0) == 0) continue;
    std::string model = name.substr(0, name.find('/'));
    auto& best = longest[model];
    if (best == nullptr ||
        c["template"].get<std::string>().size() + c["context"]["messages"].dump().size() >
            (*best)["template"].get<std::string>().size() +
                (*best)["context"]["messages"].dump().size()) {
      best = &c;
    }
  }
  for (const auto& [model, c] : longest) {
    const std::string source = (*c)["template"].get<std::string>();
    constexpr int kParses = 200, kRenders = 2000;
    auto t0 = Clock::now();
    for (int i = 0; i < kParses; ++i) {
      if (!lantern::tokenizer::CompiledChatTemplate::Compile(source).ok()) return;
    }
    auto t1 = Clock::now();
    auto compiled = lantern::tokenizer::CompiledChatTemplate::Compile(source);
    lantern::tokenizer::ChatTemplateOptions options;
    options.add_generation_prompt = true;
    const ordered_json& context = (*c)["context"];
    if (context.contains("tools")) options.tools = context["tools"];
    if (context.contains("bos_token")) options.bos_token = context["bos_token"].get<std::string>();
    if (context.contains("eos_token")) options.eos_token = context["eos_token"].get<std::string>();
    const ordered_json& messages = (*c)["context"]["messages"];
    size_t bytes = 0;
    auto t2 = Clock::now();
    for (int i = 0; i < kRenders; ++i) {
      auto out = compiled->Render(messages, options);
      bytes += out.ok() ? out->size() : 0;
    }
    auto t3 = Clock::now();
    auto us = [](auto d, int n) {
      return std::chrono::duration<double, std::micro>(d).count() / n;
    };
    std::printf("bench %-12s case %-45s parse %8.1f us  render %8.1f us  (%zu bytes out)\n",
                model.c_str(), (*c)["name"].get<std::string>().c_str(), us(t1 - t0, kParses),
                us(t3 - t2, kRenders), bytes / kRenders);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool bench = argc == 3 && std::string(argv[2]) == "--bench";
  if (argc != 2 && !bench) {
    std::cerr << "usage: chat_template_reference_test <cases.json> [--bench]\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "cannot open " << argv[1] << "\n";
    return 2;
  }
  ordered_json cases = ordered_json::parse(in);
  int checks = 0, failures = 0, js_checks = 0, py_checks = 0, py_missing = 0;
  for (const ordered_json& c : cases) {
    const std::string name = c["name"].get<std::string>();
    bool feature = name.rfind("feature/", 0) == 0;
    Result<std::string> ours = feature ? RenderFeatureCase(c) : RenderModelCase(c);
    for (const auto& ref : c["refs"]) {
      const std::string ref_name = ref.get<std::string>();
      if (!c.contains(ref_name)) {
        ++py_missing;
        continue;
      }
      ++checks;
      (ref_name == "js" ? js_checks : py_checks)++;
      std::string diff = Difference(ours, c[ref_name]);
      if (!diff.empty()) {
        ++failures;
        std::cout << "MISMATCH " << name << " vs " << ref_name << ": " << diff << "\n";
      }
    }
  }
  std::cout << cases.size() << " cases, " << checks << " comparisons (" << js_checks
            << " with @huggingface/jinja, " << py_checks << " with Python Jinja2), " << failures
            << " mismatches\n";
  if (py_missing > 0) {
    std::cout << "note: " << py_missing
              << " comparisons with Python Jinja2 skipped (python3-jinja2 not installed)\n";
  }
  if (bench) Bench(cases);
  return failures == 0 ? 0 : 1;
}
