#include "toolcall/parser_parts.h"

#include <nlohmann/json.hpp>

namespace lantern::toolcall {
namespace {

// The string a JSON string token stands for; nullopt when it is not valid (bad UTF-8).
std::optional<std::string> DecodeString(const std::string& token) {
  try {
    nlohmann::json value = nlohmann::json::parse(token);
    if (!value.is_string()) return std::nullopt;
    return value.get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void AddCallStart(MessageDelta& out, int index, std::string id, std::string name) {
  ToolCallDelta call;
  call.index = index;
  call.id = std::move(id);
  call.name = std::move(name);
  call.first = true;
  out.calls.push_back(std::move(call));
}

void AddArguments(MessageDelta& out, int index, std::string_view text) {
  if (text.empty()) return;
  if (out.calls.empty() || out.calls.back().index != index) {
    ToolCallDelta call;
    call.index = index;
    out.calls.push_back(std::move(call));
  }
  out.calls.back().arguments += text;
}

void Append(MessageDelta& out, MessageDelta&& more) {
  out.content += more.content;
  for (auto& call : more.calls) {
    if (call.first) {
      out.calls.push_back(std::move(call));
    } else {
      AddArguments(out, call.index, call.arguments);
    }
  }
}

bool MarkerMatcher::Feed(char c, std::string& released) {
  held_ += c;
  while (!held_.empty() && marker_.substr(0, held_.size()) != held_) {
    released += held_[0];
    held_.erase(0, 1);
  }
  if (held_.size() == marker_.size()) {
    held_.clear();
    return true;
  }
  return false;
}

void ContentSink::Put(char c, std::string& content) {
  if (after_call_) {
    if (IsJsonSpace(c)) {
      held_ += c;
      return;
    }
    content += held_;
    DropHeld();
  }
  content += c;
}

CallReader::Status CallReader::Feed(char c, MessageDelta& out) {
  raw_ += c;
  JsonScanner::Step step = scanner_.Feed(c);
  if (step.error) return Status::kFailed;
  if (step.number_ended_before) {
    if (member_ == Member::kName) return Status::kFailed;  // a name must be a string
    if (member_ == Member::kArguments) arguments_done_ = true;
  }
  if (step.role == JsonScanner::Role::kKey) {
    key_ += c;
    if (step.value_end) {
      if (key_ == "\"name\"") {
        if (have_name_ || !name_token_.empty()) return Status::kFailed;
        member_ = Member::kName;
      } else if (key_ == "\"arguments\"" || key_ == "\"parameters\"") {
        if (arguments_seen_) return Status::kFailed;  // both spellings, or twice
        member_ = Member::kArguments;
      } else {
        member_ = Member::kOther;
      }
      key_.clear();
    }
  } else if (step.role == JsonScanner::Role::kValue && member_ == Member::kName) {
    name_token_ += c;
    if (step.value_end) {
      auto name = name_token_.front() == '"' ? DecodeString(name_token_) : std::nullopt;
      if (!name || name->empty()) return Status::kFailed;
      name_ = std::move(*name);
      have_name_ = true;
      MaybeStart(out);
    }
  } else if (step.role == JsonScanner::Role::kValue && member_ == Member::kArguments) {
    if (!arguments_seen_) {
      arguments_seen_ = true;
      arguments_string_ = c == '"';
    }
    if (arguments_string_) {
      arguments_token_ += c;
      if (step.value_end) {
        auto text = DecodeString(arguments_token_);
        if (!text) return Status::kFailed;
        arguments_done_ = true;
        if (started_) {
          AddArguments(out, index_, *text);
        } else {
          held_arguments_ = std::move(*text);
        }
      }
    } else if (started_) {
      AddArguments(out, index_, std::string_view(&c, 1));
    } else {
      held_arguments_ += c;
    }
    if (step.value_end) arguments_done_ = true;
    MaybeStart(out);
  }
  if (step.done) {
    if (!have_name_ || !arguments_seen_) return Status::kNotACall;
    return Status::kComplete;
  }
  return Status::kReading;
}

void CallReader::MaybeStart(MessageDelta& out) {
  if (started_ || !have_name_ || !arguments_seen_) return;
  // A string value is sent whole, once decoded.
  if (arguments_string_ && !arguments_done_) return;
  started_ = true;
  AddCallStart(out, index_, make_id_(), name_);
  AddArguments(out, index_, held_arguments_);
  held_arguments_.clear();
}

}  // namespace lantern::toolcall
