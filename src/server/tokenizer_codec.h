// Plugs the tokenizer into the server (a TextCodec: encode, decode, token text, chat
// templates) and into the engine (incremental detokenizers for streamed text and stops).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "engine/detokenizer.h"
#include "server/openai_service.h"
#include "tokenizer/tokenizer.h"

namespace lantern::server {

// `chat_template` overrides the tokenizer's own template when set (--chat-template: the
// template text, or a path to a file holding it). A template that does not parse is an
// error here, at start-up, not at the first request.
Result<TextCodec> MakeTextCodec(std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                                const std::optional<std::string>& chat_template);

engine::DetokenizerFactory MakeDetokenizerFactory(
    std::shared_ptr<const tokenizer::Tokenizer> tokenizer);

}  // namespace lantern::server
